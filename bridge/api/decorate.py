"""Items as a caller sees them: links, asset hrefs through the bridge, order state, price.

Asset hrefs never carry a provider URL (those expire, and some are per tenant): they
point at the bridge, which resolves them at the moment of access.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.api.links import item_links, quote_segment
from bridge.api.order_views import ORDER_EXTENSION, PRICE_EXTENSION_PATH
from bridge.auth.keys import TenantRef
from bridge.core.timeutil import to_rfc3339
from bridge.orders.ledger import OrderLedger, OrderRecord

Item = dict[str, Any]


def decorate_item(base: str, item: Item, order: OrderRecord | None) -> Item:
    """A served copy of ``item`` (the input, possibly cached, is never modified)."""
    collection, item_id = str(item.get("collection")), str(item["id"])
    # As order_views.item_href, with the quoting most ids do not need skipped.
    href = f"{base}collections/{quote_segment(collection)}/items/{quote_segment(item_id)}"
    props = dict(item.get("properties") or {})
    links = item_links(base, item)
    if order is None:
        props["order:status"] = "orderable"
        links.append(
            {"rel": "order", "type": "application/json", "method": "POST", "href": f"{href}/order"}
        )
    else:
        props["order:status"] = order.status
        props["order:id"] = order.id
        props["order:date"] = to_rfc3339(order.created_at)
        links.append(
            {"rel": "order", "type": "application/json", "href": f"{base}orders/{order.id}"}
        )
    assets = {
        key: {**asset, "href": f"{href}/assets/{quote_segment(key)}"}
        for key, asset in (item.get("assets") or {}).items()
    }
    extensions = [*item.get("stac_extensions", []), ORDER_EXTENSION]
    if "price:amount" in props:
        extensions.append(f"{base}{PRICE_EXTENSION_PATH}")
    return {
        **item,
        "stac_extensions": extensions,
        "properties": props,
        "assets": assets,
        "links": links,
    }


class ItemDecorator:
    """Decorates pages of items with the calling tenant's orders (one query a page)."""

    def __init__(self, ledger: OrderLedger) -> None:
        self.ledger = ledger

    async def decorate(
        self, base: str, items: Sequence[Item], tenant: TenantRef | None
    ) -> list[Item]:
        """Served copies of ``items``."""
        orders: dict[tuple[str, str], OrderRecord] = {}
        if tenant is not None and items:
            keys = [(str(i.get("collection")), str(i["id"])) for i in items]
            orders = await self.ledger.for_items(tenant.id, keys)
        return [
            decorate_item(base, i, orders.get((str(i.get("collection")), str(i["id"]))))
            for i in items
        ]
