"""A realistic mix of the customer fields beyond name and email: phones, billing and
shipping addresses, currencies and balances, tax status and tax ids, locales,
descriptions, metadata. Used by the sandbox's seed and by the app's demo data.

Shares are roughly what a small business's Stripe account holds: most customers have a
phone and a currency, about half a billing address, few a shipping address, a tax id
or a balance. Draws use `rand()` scaled to an index, as in seed.py, for speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe_sandbox.tax_ids import tax_id

# country, currency, locale, phone prefix, tax id type, cities (city, state, postal code)
COUNTRIES: list[tuple[str, str, str, str, str, list[tuple[str, str | None, str]]]] = [
    ("US", "usd", "en-US", "+1 415 555 ", "us_ein",
     [("San Francisco", "CA", "94107"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202")]),
    ("GB", "gbp", "en-GB", "+44 20 7946 ", "gb_vat",
     [("London", None, "EC1A 1BB"), ("Leeds", None, "LS1 4AP")]),
    ("DE", "eur", "de-DE", "+49 30 901820", "eu_vat",
     [("Berlin", None, "10115"), ("Hamburg", None, "20095")]),
    ("FR", "eur", "fr-FR", "+33 1 70 18 ", "eu_vat",
     [("Paris", None, "75002"), ("Lyon", None, "69002")]),
    ("CA", "cad", "en-CA", "+1 604 555 ", "ca_bn",
     [("Vancouver", "BC", "V6B 1A1"), ("Toronto", "ON", "M5H 2N2")]),
    ("AU", "aud", "en-AU", "+61 2 5550 ", "au_abn",
     [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")]),
    ("JP", "jpy", "ja-JP", "+81 3 5550 ", "jp_cn", [("Tokyo", None, "100-0001")]),
]  # fmt: skip
STREETS = {
    "US": ["Market St", "Main St", "Elm Ave"],
    "GB": ["High Street", "Station Road"],
    "DE": ["Hauptstraße", "Bahnhofstraße"],
    "FR": ["Rue de Rivoli", "Rue de la République"],
    "CA": ["King St", "Granville St"],
    "AU": ["George St", "Collins St"],
    "JP": ["Chuo-dori"],
}
DESCRIPTIONS = [
    "Wholesale roofing supplies",
    "Referred by a partner",
    "Annual maintenance plan",
    "Property management company",
    "Pays by bank transfer",
]
SEGMENTS = ["residential", "commercial", "property-manager", "contractor"]
FOOTERS = ["Thank you for your business.", "Payment due within 30 days."]


def _tax_value(kind: str, country: str, n: int) -> str:
    digits = f"{n:013d}"
    return {
        "us_ein": f"{digits[:2]}-{digits[2:9]}",
        "gb_vat": f"GB{digits[:9]}",
        "eu_vat": f"{country}{digits[:9]}",
        "ca_bn": digits[:9],
        "au_abn": digits[:11],
        "jp_cn": digits,
    }[kind]


def add_details(cust: dict[str, Any], rand: Callable[[], float]) -> list[dict[str, Any]]:
    """Fill `cust` (a fresh customer) with a realistic mix of fields; returns the tax
    ids it gets (usually none)."""
    country, currency, locale, phone, tax_kind, cities = COUNTRIES[
        int(rand() ** 2 * len(COUNTRIES))  # most customers in the first countries
    ]
    if rand() < 0.75:
        cust["currency"] = currency
    if rand() < 0.6:
        cust["phone"] = f"{phone}{int(rand() * 10000):04d}"
    if rand() < 0.55:
        city, state, postal = cities[int(rand() * len(cities))]
        streets = STREETS[country]
        address = {
            "city": city,
            "country": country,
            "line1": f"{1 + int(rand() * 400)} {streets[int(rand() * len(streets))]}",
            "line2": f"Suite {1 + int(rand() * 30)}" if rand() < 0.15 else None,
            "postal_code": postal,
            "state": state,
        }
        cust["address"] = address
        if rand() < 0.35:
            cust["shipping"] = {
                "address": dict(address),
                "name": cust["name"] or "Receiving",
                "phone": None,
            }
    if rand() < 0.15:
        cust["description"] = DESCRIPTIONS[int(rand() * len(DESCRIPTIONS))]
    if rand() < 0.4:
        meta = {"crm_id": f"CRM-{int(rand() * 100000):05d}"}
        if rand() < 0.6:
            meta["segment"] = SEGMENTS[int(rand() * len(SEGMENTS))]
        cust["metadata"] = meta
    if rand() < 0.08 and "currency" in cust and cust["currency"]:
        cust["balance"] = int((rand() - 0.3) * 40000)
    roll = rand()
    cust["tax_exempt"] = "exempt" if roll < 0.03 else "reverse" if roll < 0.05 else "none"
    if rand() < 0.2:
        cust["preferred_locales"] = [locale]
    if rand() < 0.05:
        cust["invoice_settings"] = {**cust["invoice_settings"], "footer": FOOTERS[int(rand() * 2)]}
    if rand() < 0.15:
        value = _tax_value(tax_kind, country, int(rand() * 10**13))
        return [tax_id(cust["id"], tax_kind, value, created=cust["created"])]
    return []
