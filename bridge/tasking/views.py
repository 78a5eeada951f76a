"""STAPI response bodies (offline ``spec/openapi.yaml``) for products, opportunities,
orders and status histories. ``base`` is the bridge's public base URL ending in ``/``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.core.tasking_contract import Opportunity, TaskingProduct
from bridge.tasking.records import EventRecord, TaskingRecord

STAPI_VERSION = "0.1.0"
STAPI = "https://stapi.example.com/v0.1.0"
CORE = f"{STAPI}/core"
OPPORTUNITIES = f"{STAPI}/opportunities"
ORDER_STATUSES = f"{STAPI}/order-statuses"
JSON = "application/json"
GEOJSON = "application/geo+json"


def rfc3339(value: datetime) -> str:
    """A timestamp as RFC 3339 with ``Z``."""
    return value.isoformat().replace("+00:00", "Z")


def link(rel: str, href: str, media: str = JSON, **extra: Any) -> dict[str, Any]:
    """One STAPI link."""
    return {"rel": rel, "href": href, "type": media, **extra}


def product_conformance(product: TaskingProduct) -> list[str]:
    """The classes a product really supports: opportunities only where it has them."""
    return [CORE, ORDER_STATUSES, *([OPPORTUNITIES] if product.opportunities else [])]


def product_json(base: str, product: TaskingProduct) -> dict[str, Any]:
    """A STAPI Product."""
    href = f"{base}tasking/products/{product.id}"
    links = [
        link("self", href),
        link("queryables", f"{href}/queryables", "application/schema+json"),
        link("order-parameters", f"{href}/order-parameters", "application/schema+json"),
        link("create-order", f"{href}/orders", method="POST"),
        *(dict(x) for x in product.links),
    ]
    if product.opportunities:
        links.append(link("opportunities", f"{href}/opportunities", method="POST"))
    return {
        "type": "Collection",
        "stapi_type": "Product",
        "stapi_version": STAPI_VERSION,
        "conformsTo": product_conformance(product),
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "keywords": list(product.keywords),
        "license": product.license,
        "providers": [dict(p) for p in product.providers],
        "links": links,
        "bridge:collection": product.collection_id,
        "bridge:cancellable": product.cancellable,
        "bridge:approval": product.approval,
    }


def opportunity_json(base: str, product: TaskingProduct, opp: Opportunity) -> dict[str, Any]:
    """A STAPI Opportunity, with the link that orders it."""
    body: dict[str, Any] = {
        "datetime": [rfc3339(opp.start), rfc3339(opp.end)],
        "geometry": opp.geometry,
        "order_parameters": {},
    }
    if opp.id is not None:
        body["opportunity_id"] = opp.id
    return {
        "type": "Feature",
        "id": opp.id,
        "geometry": opp.geometry,
        "properties": {
            **opp.properties,
            "datetime": f"{rfc3339(opp.start)}/{rfc3339(opp.end)}",
            "product_id": product.id,
        },
        "links": [
            link(
                "create-order",
                f"{base}tasking/products/{product.id}/orders",
                method="POST",
                body=body,
            )
        ],
    }


def status_json(base: str, record: TaskingRecord, event: EventRecord | None) -> dict[str, Any]:
    """A STAPI OrderStatus (the order's current one when ``event`` is its last)."""
    time = event.time if event else record.updated_at
    return {
        "timestamp": rfc3339(time),
        "status_code": event.status if event else record.status,
        "reason_code": event.native_status if event else record.native_status,
        "reason_text": event.reason if event else record.error,
        "links": [link("order", f"{base}tasking/orders/{record.id}", GEOJSON)],
    }


def order_json(
    base: str, record: TaskingRecord, last: EventRecord | None, user: str
) -> dict[str, Any]:
    """A STAPI Order: the request, its current status, and links to what it delivered."""
    href = f"{base}tasking/orders/{record.id}"
    req = record.request
    status = status_json(base, record, last)
    if last is not None and last.status != record.status:
        status = status_json(base, record, None)
    properties: dict[str, Any] = {
        "product_id": record.product_id,
        "created": rfc3339(record.created_at),
        "status": status,
        "search_parameters": {
            "datetime": f"{rfc3339(req.start)}/{rfc3339(req.end)}",
            "geometry": req.geometry,
            "filter": req.constraints,
        },
        "opportunity_properties": {"opportunity_id": req.opportunity_id}
        if req.opportunity_id
        else {},
        "order_parameters": req.order_parameters,
        "bridge:native_id": record.native_id,
        "bridge:awaiting_approval": record.awaiting_approval,
    }
    if record.currency is not None:
        properties["price"] = {"amount": record.amount, "currency": record.currency}
    links = [
        link("self", href, GEOJSON),
        link("monitor", f"{href}/statuses"),
        link("product", f"{base}tasking/products/{record.product_id}"),
        *(
            link("item", f"{base}collections/{c}/items/{i}", GEOJSON, title=f"delivered {i}")
            for c, i in record.delivered
        ),
    ]
    return {
        "type": "Feature",
        "stapi_type": "Order",
        "stapi_version": STAPI_VERSION,
        "id": record.id,
        "user": user,
        "created": rfc3339(record.created_at),
        "geometry": req.geometry,
        "properties": properties,
        "status": status,
        "links": links,
    }
