"""Bytes per customer on disk, printed by bench/import.py and bench/list_page.py with
the target beside them: the whole SQLite file (rows, list indexes, search index,
Stripe objects) after a checkpoint, divided by the customers it holds."""

from __future__ import annotations

import os
from pathlib import Path

BYTES_TARGET = 2048  # at most 2 KB per customer, on average


def disk_figures(db, path: str | Path) -> dict:
    """The file's size per customer and the stored Stripe object's average size."""
    from peewee import fn

    from models.customer import Customer

    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL's pages into the file
    customers = Customer.select().count()
    objects = Customer.select(fn.AVG(fn.LENGTH(Customer.stripe_object))).scalar() or 0
    with_object = Customer.select().where(Customer.stripe_object.is_null(False)).count()
    size = os.path.getsize(path)
    return {
        "bytes_per_customer": size / max(customers, 1),
        "object_bytes": float(objects),
        "with_object": with_object,
        "customers": customers,
        "file_mb": size / 2**20,
    }


def describe(figures: dict) -> str:
    verdict = "ok" if figures["bytes_per_customer"] <= BYTES_TARGET else "MISSED"
    return (
        f"on disk: {figures['bytes_per_customer']:,.0f} bytes per customer "
        f"(target ≤ {BYTES_TARGET:,}) {verdict}; file {figures['file_mb']:,.1f} MB for "
        f"{figures['customers']:,} customers; Stripe object {figures['object_bytes']:,.0f} "
        f"bytes on average, stored for {figures['with_object']:,}"
    )
