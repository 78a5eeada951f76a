"""Pure mappings of Arlula tasking: products, request → native bodies, native → contract.

Native shapes (arlulacore ``tasking.py``, ``campaign.py``; Arlula docs "Tasking API"):
a search body ``{start, end, gsd, offNadir, supplier: [key], polygon | latLong}``; a
result with ``orderingID``, ``bundles``, ``licenses``, ``priorities``, ``cloud`` and
``metrics``; an order body ``{id, eula, bundleKey, cloud, priorityKey, webhooks,
emails}``; an order holding one campaign. Statuses map through ``tasking_statuses.json``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.core.tasking_contract import (
    NativeTask,
    Opportunity,
    StatusEvent,
    TaskingRequest,
)
from bridge.errors import BadRequest
from bridge.providers.arlula.ids import item_id
from bridge.providers.arlula.mapping import collection_for
from bridge.providers.arlula.tasking_products import ProductSpec, stapi_status

NAME = "arlula"


def _off_nadir_bound(node: Any) -> float | None:
    """The upper bound a CQL2-JSON node puts on ``view:off_nadir`` (None: no bound)."""
    if not isinstance(node, dict):
        raise BadRequest("filter: must be a CQL2-JSON object")
    op, args = node.get("op"), node.get("args") or []
    if op == "and":
        bounds = [b for b in map(_off_nadir_bound, args) if b is not None]
        return min(bounds) if bounds else None
    if op in ("<=", "<") and len(args) == 2 and args[0] == {"property": "view:off_nadir"}:
        value = args[1]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise BadRequest("filter: view:off_nadir must be compared with a number >= 0")
        return float(value)
    raise BadRequest("filter: Arlula understands only upper bounds (<=, <) on view:off_nadir")


def search_body(request: TaskingRequest, spec: ProductSpec) -> dict[str, Any]:
    """The native tasking search for ``request`` (one supplier, the product's gsd)."""
    bound = None if request.constraints is None else _off_nadir_bound(request.constraints)
    off_nadir = spec.max_off_nadir if bound is None else min(bound, spec.max_off_nadir)
    body: dict[str, Any] = {
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "gsd": spec.gsd,
        "offNadir": off_nadir,
        "supplier": [spec.supplier],
    }
    geometry = request.geometry
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point" and isinstance(coords, list) and len(coords) >= 2:
        body["latLong"] = {"latitude": coords[1], "longitude": coords[0]}
    elif kind == "Polygon" and isinstance(coords, list) and coords:
        body["polygon"] = coords
    else:
        raise BadRequest("geometry: Arlula tasks a Point or a Polygon")
    return body


@dataclass(frozen=True)
class Options:
    """The options of one result an order picks."""

    bundle: dict[str, Any]
    license: dict[str, Any]
    priority: dict[str, Any]
    cloud: dict[str, Any]


def _pick(
    rows: list[dict[str, Any]], wanted: Any, keys: tuple[str, ...], name: str
) -> dict[str, Any]:
    for row in rows:
        if any(str(row.get(k, "")).lower() == str(wanted).lower() for k in keys):
            return row
    offered = ", ".join(str(r.get(keys[0])) for r in rows)
    raise BadRequest(f"order_parameters.{name}: {wanted!r} is not offered (offered: {offered})")


def options(result: dict[str, Any], params: dict[str, Any], spec: ProductSpec) -> Options:
    """The result's bundle, license, priority and cloud level ``params`` choose (the
    product's defaults fill what is missing)."""
    defaults = {k: v.get("default") for k, v in
                spec.product.order_parameters["properties"].items()}  # fmt: skip
    chosen = {**defaults, **params}
    return Options(
        _pick(result.get("bundles") or [], chosen["bundle"], ("key",), "bundle"),
        _pick(result.get("licenses") or [], chosen["license"], ("name", "href"), "license"),
        _pick(result.get("priorities") or [], chosen["priority"], ("key",), "priority"),
        _pick(result.get("cloud") or [], chosen["cloud"], ("max",), "cloud"),
    )


def price_cents(o: Options) -> int:
    """arlulacore ``calculate_price``: bundle * (1 + license, priority and cloud loading
    %) + their fixed loadings, in US cents rounded up to a whole dollar."""
    rows = (o.license, o.priority, o.cloud)
    percent = 1 + sum(float(r.get("loadingPercent") or 0) for r in rows) / 100
    fixed = sum(int(r.get("loadingAmount") or 0) for r in rows)
    return int(math.ceil(round(int(o.bundle["price"]) * percent + fixed, 6) / 100) * 100)


def best_result(
    results: list[dict[str, Any]], spec: ProductSpec, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The result an order without an opportunity id takes: the product's supplier, most
    passes available, then the lowest price, then the earliest start."""
    mine = [r for r in results if r.get("supplier") == spec.supplier]

    def rank(r: dict[str, Any]) -> tuple[int, int, str]:
        try:
            cost = price_cents(options(r, params, spec))
        except BadRequest:
            cost = 2**62  # cannot be ordered with these parameters: last
        windows = int((r.get("metrics") or {}).get("windowsAvailable") or 0)
        return (-windows, cost, str(r.get("startDate")))

    return min(mine, key=rank, default=None)


def order_body(result: dict[str, Any], o: Options, webhook_url: str | None) -> dict[str, Any]:
    """The native order of ``result`` with the chosen options."""
    return {
        "id": result["orderingID"],
        "eula": o.license["href"],
        "bundleKey": o.bundle["key"],
        "cloud": o.cloud["max"],
        "priorityKey": o.priority["key"],
        "webhooks": [webhook_url] if webhook_url else [],
        "emails": [],
    }


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def opportunity(result: dict[str, Any], spec: ProductSpec, params: dict[str, Any]) -> Opportunity:
    """One native result as an opportunity (priced with the request's parameters)."""
    props: dict[str, Any] = {
        "product_id": spec.product.id,
        "view:off_nadir": result.get("offNadir"),
        "gsd": result.get("gsd"),
        "constellation": result.get("supplier"),
        "platforms": result.get("platforms") or [],
        "arlula:metrics": result.get("metrics") or {},
        "arlula:annotations": result.get("annotations") or [],
    }
    # Not orderable with these parameters: no price, still an opportunity.
    with contextlib.suppress(BadRequest, KeyError, TypeError, ValueError):
        cents = price_cents(options(result, params, spec))
        # The bridge's price extension (dollars) and the exact native amount (cents).
        props |= {"price:amount": cents / 100, "price:currency": "USD", "arlula:price_cents": cents}
    polygon = result["polygon"]
    return Opportunity(
        start=_time(result["startDate"]), end=_time(result["endDate"]),
        geometry={"type": "Polygon", "coordinates": polygon},
        id=result["orderingID"], properties=props,
    )  # fmt: skip


def failure_text(error: Any) -> str:
    """A per-supplier search failure as one line (partial answer, not a failure)."""
    if not isinstance(error, dict):
        return f"{NAME}: {str(error)[:200]}"
    return (
        f"{NAME}: {error.get('supplier')}: {error.get('type')}: {str(error.get('message'))[:200]}"
    )


def task_from_order(order: dict[str, Any]) -> NativeTask:
    """A native tasking order (with its one campaign) as the contract's task. Arlula
    keeps no status history: the one event is the current status since ``updatedAt``."""
    campaigns = order.get("campaigns") or []
    campaign = campaigns[0] if campaigns else {}
    native = str(campaign.get("status") or order["status"])
    since = _time(str(campaign.get("updatedAt") or order["updatedAt"]))
    status = stapi_status(native)
    datasets = [
        {"id": d["id"], "supplier": d["supplier"], "scene_id": d["sceneID"],
         "created_at": d.get("createdAt"), "updated_at": d.get("updatedAt")}
        for d in order.get("datasets") or []
    ]  # fmt: skip
    details = {
        "order_id": order["id"],
        "campaign_id": campaign.get("id"),
        "ordering_id": campaign.get("orderingID"),
        "supplier": campaign.get("supplier"),
        "bundle": campaign.get("bundle"),
        "license": campaign.get("license"),
        "priority": campaign.get("priority"),
        "cloud": campaign.get("cloud"),
        "start": campaign.get("start"),
        "end": campaign.get("end"),
        "aoi": campaign.get("aoi"),
        "created_at": order.get("createdAt"),
        "datasets": datasets,
    }
    total = order.get("total")
    return NativeTask(
        native_id=order["id"], status=status, native_status=native,
        history=(StatusEvent(since, status, native),), reference=None,
        amount=total if isinstance(total, int) else None, currency="USD",
        awaiting_approval=native == "pending-approval", details=details,
    )  # fmt: skip


def campaign_matches(campaign: dict[str, Any], result: dict[str, Any], o: Options) -> bool:
    """Whether a listed campaign is the order of ``result`` with options ``o`` (Arlula
    keeps no client reference: the ordering id and every chosen option must agree)."""
    return (
        campaign.get("orderingID") == result.get("orderingID")
        and campaign.get("bundle") == o.bundle["key"]
        and campaign.get("license") == o.license["href"]
        and campaign.get("priority") == o.priority["key"]
        and campaign.get("cloud") == o.cloud["max"]
    )


def request_matcher(request: TaskingRequest, spec: ProductSpec) -> Callable[[dict[str, Any]], bool]:
    """Whether a listed campaign was ordered for ``request``, judged from the request
    alone (when its native result cannot be read again): its opportunity id, or else the
    supplier, the window and the bundle, priority and cloud level its parameters choose."""
    if request.opportunity_id:
        return lambda c: c.get("orderingID") == request.opportunity_id
    defaults = {k: v.get("default") for k, v in
                spec.product.order_parameters["properties"].items()}  # fmt: skip
    chosen = {**defaults, **request.order_parameters}

    def same(c: dict[str, Any]) -> bool:
        try:
            window = (_time(str(c.get("start"))), _time(str(c.get("end"))))
        except ValueError:
            return False
        return (
            c.get("supplier") == spec.supplier
            and window == (request.start, request.end)
            and c.get("bundle") == chosen["bundle"]
            and str(c.get("priority")).lower() == str(chosen["priority"]).lower()
            and c.get("cloud") == chosen["cloud"]
        )

    return same


def delivered_item(record: dict[str, Any]) -> tuple[str, str] | None:
    """(collection, item id) of an archive search result, as the archive adapter names it."""
    collection = collection_for(float(record["gsd"]))
    if collection is None:
        return None
    when, center = str(record["date"]), record["center"]
    return collection, item_id(record["supplier"], record["sceneID"], when[:10],
                               center["long"], center["lat"])  # fmt: skip
