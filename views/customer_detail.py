"""What the customer page shows: Stripe's customer object read into labelled groups
(contact, addresses, tax, billing, metadata, Stripe facts), the link to the customer
in Stripe's Dashboard, and a plain statement of whatever is not known yet.

Formatting lives here, not in templates, so the template only lays out rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from models.customer import Customer
from models.stripe_account import StripeAccount
from models.stripe_object import unpack

# Stripe amounts are integers in the currency's minor unit; these currencies have none
# or three decimals (Stripe's "zero-decimal" and "three-decimal" lists).
ZERO_DECIMAL = set(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
TAX_EXEMPT = {
    "none": "Taxable (not exempt)",
    "exempt": "Exempt",
    "reverse": "Reverse charge",
}
TAX_ID_TYPES = {
    "eu_vat": "EU VAT",
    "gb_vat": "UK VAT",
    "us_ein": "US EIN",
    "ca_bn": "Canadian BN",
    "au_abn": "Australian ABN",
    "ch_vat": "Swiss VAT",
    "no_vat": "Norwegian VAT",
    "jp_cn": "Japanese corporate number",
    "in_gst": "Indian GST",
}
SOURCES = {0: "import", 1: "webhook", 2: "fetch from Stripe"}
Row = tuple[str, list[str]]


@dataclass
class Group:
    title: str
    rows: list[Row] = field(default_factory=list)
    empty: str = "None"


@dataclass
class Detail:
    customer: Customer
    stripe: dict | None
    groups: list[Group]
    notice: str | None
    dashboard_url: str | None
    dashboard_label: str


def money(amount: int, currency: str | None) -> str:
    """An amount in minor units as people read it: 1250 usd → $12.50, 500 jpy → ¥500."""
    if not currency:
        return f"{amount:,} (minor units, no currency set)"
    code = currency.lower()
    digits = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    # Decimal: exact for any integer amount, where a float would round large ones.
    value = f"{Decimal(abs(amount)).scaleb(-digits):,.{digits}f}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{value}" if symbol else f"{sign}{value} {code.upper()}"


def balance(amount: int, currency: str | None) -> str:
    """Stripe's balance: negative is credit for the next invoice, positive is owed."""
    if not amount:
        return "None"
    if amount < 0:
        return f"{money(-amount, currency)} credit, applied to the next invoice"
    return f"{money(amount, currency)} owed, added to the next invoice"


def address_lines(address: Mapping | None) -> list[str]:
    if not address:
        return []
    place = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    region = ", ".join(p for p in (place, address.get("state")) if p)
    parts = (address.get("line1"), address.get("line2"), region, address.get("country"))
    return [p for p in parts if p]


def stamp(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return datetime.fromtimestamp(seconds, UTC).strftime("%b %-d, %Y %H:%M UTC")


def dashboard_url(
    account_id: str, customer_id: str, livemode: bool, sandbox_url: str | None
) -> str:
    """The customer in Stripe's Dashboard, viewed as the connected account (test mode
    has its own path), or on the local sandbox's page in sandbox mode."""
    if sandbox_url:
        return f"{sandbox_url.rstrip('/')}/accounts/{account_id}/customers/{customer_id}"
    mode = "" if livemode else "test/"
    return f"https://dashboard.stripe.com/{account_id}/{mode}customers/{customer_id}"


def _groups(obj: dict) -> list[Group]:
    shipping = obj.get("shipping") or {}
    contact = Group("Contact")
    for label, key in (("Email", "email"), ("Phone", "phone"), ("Description", "description")):
        if obj.get(key):
            contact.rows.append((label, [obj[key]]))
    addresses = Group("Addresses")
    if obj.get("address"):
        addresses.rows.append(("Billing address", address_lines(obj["address"])))
    if shipping:
        lines = [
            shipping.get("name"),
            *address_lines(shipping.get("address")),
            shipping.get("phone"),
        ]
        addresses.rows.append(("Shipping", [line for line in lines if line]))
    tax = Group("Tax")
    tax_ids = obj.get("tax_ids")
    if tax_ids is None:
        tax.rows.append(("Tax IDs", ["Not fetched yet: they arrive with the next import."]))
    else:
        for item in tax_ids.get("data", []):
            status = (item.get("verification") or {}).get("status")
            label = TAX_ID_TYPES.get(item.get("type"), item.get("type", "Tax ID"))
            text = item.get("value", "")
            tax.rows.append((label, [f"{text} (verification {status})" if status else text]))
        if not tax_ids.get("data"):
            tax.rows.append(("Tax IDs", ["None"]))
    exempt = obj.get("tax_exempt") or "none"
    tax.rows.append(("Tax status", [TAX_EXEMPT.get(exempt, exempt)]))
    currency = obj.get("currency")
    billing = Group("Billing")
    billing.rows.append(("Currency", [currency.upper() if currency else "Not set yet"]))
    billing.rows.append(("Balance", [balance(obj.get("balance") or 0, currency)]))
    settings = obj.get("invoice_settings") or {}
    for label, value in (
        ("Invoice prefix", obj.get("invoice_prefix")),
        ("Next invoice number", obj.get("next_invoice_sequence")),
        ("Invoice footer", settings.get("footer")),
        ("Preferred languages", ", ".join(obj.get("preferred_locales") or [])),
        ("Delinquent", "Yes" if obj.get("delinquent") else None),
    ):
        if value:
            billing.rows.append((label, [str(value)]))
    metadata = Group(
        "Metadata", [(key, [str(value)]) for key, value in (obj.get("metadata") or {}).items()]
    )
    facts = Group("Stripe facts")
    facts.rows.append(("Stripe ID", [obj.get("id", "")]))
    facts.rows.append(("Created in Stripe", [stamp(obj.get("created"))]))
    facts.rows.append(("Mode", ["Live" if obj.get("livemode") else "Test"]))
    return [contact, addresses, tax, billing, metadata, facts]


def _notice(customer: Customer, obj: dict | None) -> str | None:
    if obj is None and not customer.is_synced:
        return "Created directly in ShingleAI: this customer has no Stripe data."
    if obj is None:
        return (
            "Stripe's details for this customer (phone, addresses, tax IDs, billing, "
            "metadata) have not been fetched yet. They arrive with the customer's next "
            "change in Stripe, the next import or a reconnect; until then ShingleAI knows "
            "only the name, email and Customer since."
        )
    if not customer.is_synced:
        return (
            "No longer synced: these are the last details a previously connected Stripe "
            "account sent."
        )
    if customer.is_deleted_in_stripe:
        return "Deleted in Stripe: these are the last details Stripe sent before the deletion."
    return None


def customer_detail(customer: Customer, config: Mapping) -> Detail:
    """Everything the customer page shows about ``customer``."""
    obj = unpack(customer.stripe_object)
    link = StripeAccount.for_business(customer.business_id) if customer.is_synced else None
    url = None
    if link is not None:
        livemode = bool(obj.get("livemode", link.livemode)) if obj else link.livemode
        sandbox_url = config.get("STRIPE_SANDBOX_URL") if config.get("STRIPE_SANDBOX") else None
        url = dashboard_url(link.account_id, customer.stripe_customer_id, livemode, sandbox_url)
    label = "Open in the Stripe sandbox" if config.get("STRIPE_SANDBOX") else "Open in Stripe"
    groups = _groups(obj) if obj else []
    if obj and customer.stripe_version_at is not None:
        source = SOURCES.get(customer.stripe_version_source, "Stripe")
        groups[-1].rows.append(
            ("Last synced", [f"{stamp(customer.stripe_version_at)}, by {source}"])
        )
    return Detail(customer, obj, groups, _notice(customer, obj), url, label)
