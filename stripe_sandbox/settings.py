"""Sandbox settings: identity of the emulated platform plus the initial fault config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

API_VERSION = "2026-10-28.endive"


@dataclass
class Settings:
    """Everything that is fixed for the life of one sandbox process.

    Faults are only the *initial* values: they can be changed at run time through the
    control endpoint, which is why they live in a plain dict handed to `Faults`.
    """

    api_key: str = "sk_test_sandbox"
    client_id: str = "ca_sandbox"
    platform_name: str = "ShingleAI Customers"
    webhook_url: str | None = None
    webhook_secret: str = "whsec_sandbox"
    redirect_uri: str | None = None
    state_file: str | None = None
    api_version: str = API_VERSION
    # Required by the `/_sandbox/*` control API (header X-Sandbox-Token); None: a
    # random one is made when the app is built.
    control_token: str | None = None
    faults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_any(cls, value: Settings | Mapping[str, Any] | None) -> Settings:
        """Accept a Settings, a dict (unknown keys are taken as faults) or None."""
        if isinstance(value, Settings):
            return value
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        faults: dict[str, Any] = {}
        for key, val in dict(value or {}).items():
            if key in names:
                kwargs[key] = val
            else:
                faults[key] = val
        kwargs["faults"] = {**kwargs.get("faults", {}), **faults}
        return cls(**kwargs)
