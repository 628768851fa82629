"""The one error shape of the JSON API, also used for MCP tool errors."""

from __future__ import annotations


class ApiError(Exception):
    """A request the API refuses: an HTTP status, a stable machine-readable code, a
    sentence for people, and the offending field or parameter when there is one."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.extra = extra

    def to_json(self) -> dict:
        return {
            "error": {"code": self.code, "message": self.message, "field": self.field, **self.extra}
        }
