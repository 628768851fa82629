"""The tax-id part of the sandbox's Store: `/v1/customers/{id}/tax_ids` and the tax
ids a customer embeds when they are expanded. A mixin of `Store`, under its lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_sandbox import errors, tax_ids

if TYPE_CHECKING:
    from stripe_sandbox.store import Request


class TaxIdMethods:
    """Expects the Store's `lock`, `account()`, `_changed()` and `_emit()`."""

    def create_tax_id(
        self, account_id: str, cid: str, params: dict[str, Any], req: Request | None = None
    ) -> dict[str, Any]:
        kind, value = tax_ids.check(params)
        with self.lock:
            account = self.account(account_id)
            if cid not in account.customers:
                raise errors.no_such("customer", cid)
            return self._add_tax_id(account, cid, kind, value, req)

    def list_tax_ids(self, account_id: str, cid: str) -> dict[str, Any]:
        with self.lock:
            account = self.account(account_id)
            if cid not in account.customers:
                raise errors.no_such("customer", cid)
            return tax_ids.as_list(cid, self._tax_ids(account, cid))

    def retrieve_tax_id(self, account_id: str, cid: str, txi: str) -> dict[str, Any]:
        with self.lock:
            account = self.account(account_id)
            for found in account.tax_ids.get(cid, []):
                if found["id"] == txi:
                    return found
        raise errors.no_such("tax_id", txi)

    def delete_tax_id(
        self, account_id: str, cid: str, txi: str, req: Request | None = None
    ) -> dict[str, Any]:
        with self.lock:
            account = self.account(account_id)
            owned = account.tax_ids.get(cid, [])
            for found in owned:
                if found["id"] == txi:
                    owned.remove(found)
                    self._changed()
                    self._emit(account, "customer.tax_id.deleted", found, req=req)
                    return {"id": txi, "object": "tax_id", "deleted": True}
        raise errors.no_such("tax_id", txi)

    def _tax_ids(self, account, cid: str) -> list[dict[str, Any]]:
        # getattr: a state file saved before tax ids existed has no such field.
        return list(getattr(account, "tax_ids", {}).get(cid, []))

    def _add_tax_id(
        self, account, cid: str, kind: str, value: str, req: Request | None
    ) -> dict[str, Any]:
        created = tax_ids.tax_id(cid, kind, value)
        if not hasattr(account, "tax_ids"):
            account.tax_ids = {}
        account.tax_ids.setdefault(cid, []).append(created)
        self._changed()
        self._emit(account, "customer.tax_id.created", created, req=req)
        return created

    def _shown(self, account, cust: dict[str, Any], wanted: bool) -> dict[str, Any]:
        """The customer as an answer: with its tax ids when the caller expanded them."""
        if not wanted:
            return cust
        return {**cust, "tax_ids": tax_ids.as_list(cust["id"], self._tax_ids(account, cust["id"]))}
