"""How orders, quotes and prices look to API callers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as urlquote

from bridge.core.contract import OrderOptions, Quote
from bridge.core.timeutil import to_rfc3339
from bridge.orders.ledger import OrderRecord

# ISO 4217 minor-unit exponents that are not 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
PRICE_EXTENSION_PATH = "extensions/price/v1.0.0/schema.json"
ORDER_EXTENSION = "https://stac-extensions.github.io/order/v1.1.0/schema.json"


def major_units(amount: int, currency: str) -> float:
    """Minor units → major units (cents → dollars)."""
    return amount / 10.0 ** _EXPONENTS.get(currency.upper(), 2)


def price_json(amount: int | None, currency: str | None) -> dict[str, Any] | None:
    """``{"amount", "currency", "minor_units"}`` or None."""
    if amount is None or currency is None:
        return None
    return {"amount": major_units(amount, currency), "currency": currency, "minor_units": amount}


def item_href(base: str, collection_id: str, item_id: str) -> str:
    """The bridge URL of an item."""
    return (
        f"{base}collections/{urlquote(collection_id, safe='')}/items/{urlquote(item_id, safe='')}"
    )


def options_json(options: OrderOptions) -> dict[str, Any]:
    """Options without the unset ones."""
    return {k: v for k, v in options.__dict__.items() if v is not None}


def order_json(base: str, record: OrderRecord) -> dict[str, Any]:
    """The Order resource."""
    item = item_href(base, record.collection_id, record.item_id)
    out: dict[str, Any] = {
        "id": record.id,
        "status": record.status,
        "provider": record.provider,
        "provider_order_id": record.native_id,
        "provider_status": record.native_status,
        "item": {"collection": record.collection_id, "id": record.item_id},
        "options": options_json(record.options),
        "price": price_json(record.amount, record.currency),
        "created": to_rfc3339(record.created_at),
        "updated": to_rfc3339(record.updated_at),
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}orders/{record.id}"},
            {"rel": "item", "type": "application/geo+json", "href": item},
        ],
    }
    if record.expires_at is not None:
        out["expires"] = to_rfc3339(record.expires_at)
    if record.error:
        out["error"] = record.error
    return out


def quote_json(base: str, collection_id: str, item_id: str, quote: Quote) -> dict[str, Any]:
    """A quote, with the links to order what it prices."""
    item = item_href(base, collection_id, item_id)
    return {
        "item": {"collection": collection_id, "id": item_id},
        "price": price_json(quote.amount, quote.currency),
        "covers": quote.covers,
        "options": options_json(quote.options),
        "valid_options": quote.valid_options,
        "details": quote.details,
        "links": [
            {"rel": "item", "type": "application/geo+json", "href": item},
            {"rel": "order", "type": "application/json", "method": "POST", "href": f"{item}/order"},
        ],
    }


def order_links(item: str) -> list[dict[str, Any]]:
    """Where to order and quote the item at ``item`` (its URL): the way out of a 403."""
    return [
        {"rel": "order", "method": "POST", "type": "application/json", "href": f"{item}/order"},
        {"rel": "quote", "type": "application/json", "href": f"{item}/quote"},
    ]
