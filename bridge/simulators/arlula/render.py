"""Orders, datasets and resources as each API generation returns them (JSON shapes).

2023-01 (``arlulacore`` 4.x reads these keys): an order ``{id, createdAt, updatedAt,
status, total, discount, tax, refunded, paymentMethod, monitor, campaigns, datasets}``;
a dataset ``{id, createdAt, updatedAt, type, status, supplier, orderingID, sceneID,
bundle, eula, total, discount, tax, refunded, order, campaign, expiration, resources}``;
a resource ``{id, createdAt, updatedAt, dataset, name, type, format, roles, size,
checksum}``. List endpoints leave out the nested lists (the SDK says so).
2020-12 (seed 002): the detailed order ``{id, createdAt, updatedAt, supplier, imageryID,
sceneID, status, total, type, expiration, resources[{id, createdAt, updatedAt, order,
name, type}]}`` and the listed order without timestamps and resources.

Tax and discounts are not simulated (always 0). Webhook bodies wrap a detailed order in
the event envelope seed 002 documents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bridge.simulators.arlula.orders import (
    REFUNDED,
    Dataset,
    Order,
    Resource,
    delivered_at,
    expires_at,
    status_at,
)

if TYPE_CHECKING:
    from bridge.simulators.arlula.tasking import Campaign

COMPLETE_EVENT = "archive.order.complete"


def iso(seconds: float | None) -> str | None:
    """RFC 3339 in UTC with milliseconds and a ``Z`` (what the SDK's parser accepts)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _delivered(dataset: Dataset, order: Order, now: float) -> list[Resource]:
    done = delivered_at(order)
    return dataset.resources if done is not None and now >= done else []


def resource_2023(order: Order, resource: Resource) -> dict[str, Any]:
    """A 2023-01 resource (``size`` and ``checksum`` must have been filled)."""
    done = delivered_at(order)
    return {
        "id": resource.id,
        "createdAt": iso(done),
        "updatedAt": iso(done),
        "dataset": resource.dataset_id,
        "name": resource.name,
        "type": resource.type,
        "format": resource.format,
        "roles": resource.roles,
        "size": resource.size,
        "checksum": resource.checksum,
    }


def dataset_2023(order: Order, ds: Dataset, now: float, *, detailed: bool = True) -> dict[str, Any]:
    """A 2023-01 dataset of ``order``; with its delivered resources when ``detailed``."""
    status, since = status_at(order, now)
    body: dict[str, Any] = {
        "id": ds.id,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(since),
        "type": "archive" if ds.campaign is None else "tasking",
        "status": status,
        "supplier": ds.supplier,
        "orderingID": ds.ordering_id,
        "sceneID": ds.scene_id,
        "bundle": ds.bundle,
        "eula": ds.eula,
        "total": ds.total,
        "discount": 0,
        "tax": 0,
        "refunded": ds.total if status in REFUNDED else 0,
        "order": order.id,
        "campaign": ds.campaign,
        "expiration": iso(expires_at(order, now, ds)),
    }
    if detailed:
        body["resources"] = [resource_2023(order, r) for r in _delivered(ds, order, now)]
    return body


def order_2023(order: Order, now: float, *, detailed: bool = True) -> dict[str, Any]:
    """A 2023-01 order; with its dataset (and resources) when ``detailed``."""
    status, since = status_at(order, now)
    body: dict[str, Any] = {
        "id": order.id,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(since),
        "status": status,
        "total": order.total,
        "discount": 0,
        "tax": 0,
        "refunded": order.total if status in REFUNDED else 0,
        "paymentMethod": None if order.total == 0 else (order.payment or "default"),
        "team": order.team or "default",
        "monitor": None,
    }
    if detailed:
        body["campaigns"] = [campaign_2023(order, c, now) for c in order.campaigns]
        body["datasets"] = [dataset_2023(order, ds, now) for ds in order.datasets]
    return body


def order_2020(order: Order, now: float, *, detailed: bool = True) -> dict[str, Any]:
    """A 2020-12 order (seed 002); the detailed form carries timestamps and resources."""
    ds = order.dataset
    status, since = status_at(order, now)
    body: dict[str, Any] = {"id": order.id}
    if detailed:
        body |= {"createdAt": iso(order.created_at), "updatedAt": iso(since)}
    body |= {
        "supplier": ds.supplier,
        "imageryID": ds.ordering_id,
        "sceneID": ds.scene_id,
        "status": status,
        "total": order.total,
        "type": "archive",
        "expiration": iso(expires_at(order, now)),
    }
    if detailed:
        done = iso(delivered_at(order))
        body["resources"] = [
            {
                "id": r.id,
                "createdAt": done,
                "updatedAt": done,
                "order": order.id,
                "name": r.name,
                "type": r.type,
            }
            for r in _delivered(ds, order, now)
        ]
    return body


def detailed(order: Order, now: float) -> dict[str, Any]:
    """The detailed order in the generation it was placed with."""
    return order_2023(order, now) if order.generation == "2023-01" else order_2020(order, now)


def webhook_event(order: Order, now: float) -> dict[str, Any]:
    """The body POSTed to an order's webhooks when it completes (seed 002's envelope)."""
    return {"event": COMPLETE_EVENT, "timestamp": iso(now), "payload": detailed(order, now)}


def page(items: list[dict[str, Any]], page_no: int, size: int, count: int) -> dict[str, Any]:
    """A 2023-01 list response ``{content, page, length, count}``."""
    return {"content": items, "page": page_no, "length": size, "count": count}


def campaign_2023(
    order: Order, c: Campaign, now: float, *, detailed: bool = True
) -> dict[str, Any]:
    """A campaign of a tasking order (arlulacore ``Campaign``); with its delivered
    datasets when ``detailed``."""
    status = c.status_at(now)
    since = max([t for t, _ in c.timeline() if t <= now], default=c.created_at)
    body: dict[str, Any] = {
        "id": c.id,
        "createdAt": iso(c.created_at),
        "updatedAt": iso(since),
        "status": status,
        "orderingID": c.ordering_id,
        "bundle": c.bundle,
        "license": c.license,
        "priority": c.priority,
        "total": c.total,
        "discount": 0,
        "tax": 0,
        "refunded": c.total if status in REFUNDED else 0,
        "order": order.id,
        "site": None,
        "monitor": None,
        "start": iso(c.start),
        "end": iso(c.end),
        "aoi": c.aoi,
        "cloud": c.cloud,
        "offNadir": c.off_nadir,
        "supplier": c.supplier,
        "platforms": c.platforms,
        "gsd": c.gsd,
    }
    if detailed:
        body["datasets"] = [
            dataset_2023(order, ds, now) for ds in order.datasets if ds.campaign == c.id
        ]
    return body
