"""Pure mapping of Satellogic tasking (V1 Tasking API) to the bridge's tasking contract.

The products (:file:`tasking_products.json`) and the status table
(:file:`tasking_statuses.json`) are data. A task is created as
``POST /tasking/tasks/ {task_name, project_name, product, target, start, end}`` (seed
004); the bridge's ``reference`` is sent as ``task_name`` (the API's client-side name of
a task, and a documented list filter), so a lost creation is found again exactly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, cast, get_args

from bridge.core.tasking_contract import (
    NativeTask,
    StapiStatus,
    TaskingProduct,
    TaskingRequest,
    TaskQuote,
)
from bridge.providers.satellogic import order_mapping

CURRENCY = "USD"
STAPI_WORDS = frozenset(get_args(StapiStatus))


@cache
def _data(name: str) -> dict[str, Any]:
    text = resources.files("bridge.providers.satellogic").joinpath(name).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def native_products() -> dict[str, dict[str, Any]]:
    """Each product's native description (pk, SKU, target geometry), by product id."""
    return {p["id"]: p for p in _data("tasking_products.json")["products"]}


def products() -> list[TaskingProduct]:
    """The tasking products, the STAPI way."""
    data = _data("tasking_products.json")
    return [
        TaskingProduct(
            id=p["id"],
            title=p["title"],
            description=p["description"],
            queryables=p["queryables"],
            order_parameters=p["order_parameters"],
            collection_id=p["collection_id"],
            opportunities=False,
            keywords=tuple(p["keywords"]),
            providers=(data["provider"],),
            links=tuple(data["links"]),
            cancellable=True,
            approval=False,
        )
        for p in data["products"]
    ]


def stapi_status(native: str) -> StapiStatus:
    """A native status word → STAPI's; an unknown word → the table's ``_unknown``."""
    table = _data("tasking_statuses.json")
    word = table.get(native) if not native.startswith("_") else None
    found = word if isinstance(word, str) and word in STAPI_WORDS else table["_unknown"]
    return cast(StapiStatus, found)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def task_body(request: TaskingRequest, reference: str) -> dict[str, Any]:
    """The ``POST /tasking/tasks/`` body for ``request``, named ``reference``.

    Raises:
        KeyError: the product is not Satellogic's (the caller routes by prefix first).
    """
    product = native_products()[request.product_id]
    project = request.order_parameters.get("project_name") or "bridge"
    return {
        "task_name": reference,
        "project_name": str(project),
        "product": int(product["native_product"]),
        "target": {
            "type": request.geometry["type"],
            "coordinates": request.geometry["coordinates"],
        },
        "start": _utc(request.start),
        "end": _utc(request.end),
    }


def native_task(body: dict[str, Any]) -> NativeTask:
    """A V1 task (seed 004 fields) → :class:`NativeTask`; the native word is kept.

    Raises:
        KeyError / TypeError / ValueError: an unreadable task (the caller reports it).
    """
    status = str(body["status"])
    details: dict[str, Any] = {
        k: body[k]
        for k in ("product", "project_name", "start", "end", "target", "priority",
                  "created_time", "status_reason")
        if k in body
    }  # fmt: skip
    return NativeTask(
        native_id=str(int(body["task_id"])),
        status=stapi_status(status),
        native_status=status,
        reference=body.get("task_name"),
        details=details,
    )


def quote(request: TaskingRequest, price_per_km2: Decimal | None) -> TaskQuote:
    """The task's price: its area (the POI footprint, or the AOI's area, at least the
    contract minimum) at the contract's price per km² of its SKU (None: not priced)."""
    product = native_products()[request.product_id]
    minimum = float(_data("tasking_products.json")["minimum_km2"])
    area = minimum
    if product["geometry"] == "Polygon":
        area = max(order_mapping.area_km2(request.geometry), minimum)
    sku = str(product["sku"])
    if price_per_km2 is None:
        return TaskQuote(None, CURRENCY, f"Satellogic {sku}: no contract price", {"sku": sku})
    quantity, cents = order_mapping.price_cents(area, price_per_km2)
    return TaskQuote(
        amount=cents,
        currency=CURRENCY,
        covers=(
            f"Satellogic tasking {sku}: {quantity} km2 at {price_per_km2} USD/km2 (contract "
            f"price, minimum {minimum:g} km2), L1D delivery"
        ),
        details={"sku": sku, "area_km2": float(quantity), "price_per_km2": str(price_per_km2)},
    )


def task_matches(body: dict[str, Any], reference: str) -> bool:
    """Whether a listed task is the one created under ``reference``."""
    return isinstance(body, dict) and body.get("task_name") == reference
