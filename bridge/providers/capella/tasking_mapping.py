"""Pure mappings between STAPI tasking and Capella's tasking requests (no I/O).

A STAPI order becomes the GeoJSON Feature ``POST /task`` takes (the fields of the
capella-console-client's ``create_tasking_request``); the bridge's order id travels in
``customAttribute1`` ("track a Capella task with your own metadata", SDK docstring) so
:meth:`find_tasks` matches exactly. A native request becomes a :class:`NativeTask` with
its ``statusHistory`` (newest first on the wire) oldest first and its cost from
``order.summary.total`` (``"$1,000.00"``). Products and statuses are data:
``tasking_products.json`` and ``tasking_statuses.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

from bridge.core.tasking_contract import (
    NativeTask,
    StapiStatus,
    StatusEvent,
    TaskingProduct,
    TaskingRequest,
)
from bridge.errors import BadRequest, NotFound, ProviderBadResponse
from bridge.providers.capella.order_mapping import usd_to_cents

HERE = Path(__file__).parent
CURRENCY = "USD"
REFERENCE_FIELD = "customAttribute1"

# Queryable -> collectConstraints field.
_ENUM_CONSTRAINTS = {
    "sar:observation_direction": "lookDirection",
    "sat:orbit_state": "ascDsc",
    "sar:polarizations": "polarization",
}
_NATIVE_FIELDS = (  # a native message's field -> the STAPI field to name
    ("windowOpen", "datetime"),
    ("windowClose", "datetime"),
    ("collectionTier", "order_parameters.collection_tier"),
    ("archiveHoldback", "order_parameters.archive_holdback"),
    ("pre_approval", "order_parameters.pre_approval"),
    ("taskingrequestName", "order_parameters.name"),
    ("collectConstraints", "filter"),
    ("geometry", "geometry"),
)


@cache
def _products_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((HERE / "tasking_products.json").read_text())
    return doc


@cache
def _statuses_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((HERE / "tasking_statuses.json").read_text())
    return doc


def tasking_products() -> list[TaskingProduct]:
    """Capella's tasking products (one per collection type), from the data file."""
    doc = _products_doc()
    return [
        TaskingProduct(
            id=p["id"],
            title=p["title"],
            description=p["description"],
            queryables=doc["queryables"],
            order_parameters=doc["order_parameters"],
            collection_id=doc["collection_id"],
            opportunities=False,  # Capella publishes no feasibility search
            keywords=tuple(p["keywords"]),
            providers=(doc["provider"],),
            links=tuple(doc["links"]),
            cancellable=True,
            approval=True,
        )
        for p in doc["products"]
    ]


def collection_type(product_id: str) -> str:
    """The native ``collectionType`` of a product id (``capella-spotlight``)."""
    for product in _products_doc()["products"]:
        if product["id"] == product_id:
            return str(product["collection_type"])
    raise NotFound(f"capella: no tasking product {product_id!r}")


def stapi_status(native: str) -> StapiStatus:
    """The STAPI status of a native status word (unknown words: the table's default)."""
    doc = _statuses_doc()
    return cast(StapiStatus, doc["statuses"].get(native, doc["default"]))


def iso_ms(value: datetime) -> str:
    """``2026-01-01T00:00:00.000Z``, the SDK's window format."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"filter: {name} needs a number", field="filter")
    return float(value)


def _comparison(node: dict[str, Any], out: dict[str, Any]) -> None:
    op, args = node.get("op"), node.get("args")
    if not isinstance(args, list) or not args or not isinstance(args[0], dict):
        raise BadRequest("filter: each comparison needs a property and a value", field="filter")
    name = args[0].get("property")
    values = args[1:]
    if name == "view:off_nadir":
        if op == "between" and len(values) == 2:
            out["offNadirMin"], out["offNadirMax"] = (_number(v, name) for v in values)
        elif op in (">=", ">") and len(values) == 1:
            out["offNadirMin"] = _number(values[0], name)
        elif op in ("<=", "<") and len(values) == 1:
            out["offNadirMax"] = _number(values[0], name)
        else:
            raise BadRequest(f"filter: {name} takes >=, <= or between", field="filter")
    elif name in _ENUM_CONSTRAINTS and op == "=" and len(values) == 1:
        out[_ENUM_CONSTRAINTS[name]] = values[0]
    elif name == "capella:orbital_plane" and op in ("=", "in") and len(values) == 1:
        out["orbitalPlanes"] = values[0] if isinstance(values[0], list) else [values[0]]
    else:
        raise BadRequest(f"filter: {op!r} on {name!r} is not a Capella constraint", field="filter")


def collect_constraints(cql2: dict[str, Any] | None) -> dict[str, Any]:
    """``collectConstraints`` from a CQL2-JSON filter (comparisons joined by ``and``)."""
    out: dict[str, Any] = {"lookDirection": "either", "ascDsc": "either"}
    if cql2 is None:
        return out
    nodes = cql2.get("args") if cql2.get("op") == "and" else [cql2]
    for node in nodes if isinstance(nodes, list) else [None]:
        if not isinstance(node, dict):
            raise BadRequest("filter: expected CQL2-JSON comparisons", field="filter")
        _comparison(node, out)
    low, high = out.get("offNadirMin"), out.get("offNadirMax")
    if low is not None and high is not None and not low < high:
        raise BadRequest("filter: view:off_nadir needs a minimum below the maximum", field="filter")
    return out


def task_body(
    request: TaskingRequest, reference: str, contract_id: str | None = None
) -> dict[str, Any]:
    """The ``POST /task`` Feature for ``request`` (``reference``: the bridge's order id)."""
    params = request.order_parameters
    properties: dict[str, Any] = {
        "taskingrequestName": params.get("name") or reference,
        "taskingrequestDescription": params.get("description") or "",
        "windowOpen": iso_ms(request.start),
        "windowClose": iso_ms(request.end),
        "collectionTier": params.get("collection_tier", "standard"),
        "collectionType": collection_type(request.product_id),
        "archiveHoldback": params.get("archive_holdback", "none"),
        REFERENCE_FIELD: reference,
        "pre_approval": bool(params.get("pre_approval", False)),
        "collectConstraints": collect_constraints(request.constraints),
    }
    body: dict[str, Any] = {
        "type": "Feature",
        "geometry": request.geometry,
        "properties": properties,
    }
    if contract_id:
        body["contractId"] = contract_id
    return body


def field_of(message: str) -> str | None:
    """The STAPI field a native validation message is about (None if it names none)."""
    return next((stapi for native, stapi in _NATIVE_FIELDS if native in message), None)


def _instant(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _history(entries: Any) -> tuple[StatusEvent, ...]:
    if not isinstance(entries, list) or not entries:
        raise ValueError("statusHistory is not a non-empty list")
    events = []
    for entry in entries:
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str):
            raise ValueError("a statusHistory entry has no code")
        message = entry.get("message")
        events.append(
            StatusEvent(
                time=_instant(entry.get("time")),
                status=stapi_status(code),
                native_status=code,
                reason=message if isinstance(message, str) and message else None,
            )
        )
    # Newest first on the wire (seed 003: "statusHistory.0.code == 'completed'"): reversed,
    # then sorted stably by time, so steps of one instant (review, then an automatic
    # submission) keep their order.
    return tuple(sorted(reversed(events), key=lambda e: e.time))


def _cost(props: dict[str, Any]) -> int | None:
    order = props.get("order")
    summary = order.get("summary") if isinstance(order, dict) else None
    total = summary.get("total") if isinstance(summary, dict) else None
    if total is None:
        return None
    try:
        return usd_to_cents(total)
    except ValueError:
        return None  # an amount we cannot read is no price, not a failure


def task_from_native(feature: Any) -> NativeTask:
    """A native tasking request (``GET /task/{id}``) as a :class:`NativeTask`.

    Raises:
        ProviderBadResponse: no id or no readable status history.
    """
    props = feature.get("properties") if isinstance(feature, dict) else None
    task_id = props.get("taskingrequestId") if isinstance(props, dict) else None
    if not isinstance(props, dict) or not isinstance(task_id, str) or not task_id:
        raise ProviderBadResponse("capella", "tasking request without taskingrequestId")
    try:
        history = _history(props.get("statusHistory"))
    except ValueError as exc:
        raise ProviderBadResponse("capella", f"tasking request {task_id}: {exc}") from exc
    latest = history[-1]
    amount = _cost(props)
    reference = props.get(REFERENCE_FIELD)
    details = {
        k: props[k]
        for k in ("transactionStatus", "collectionType", "collectionTier", "windowOpen",
                  "windowClose", "taskingrequestName", "preApproval")
        if k in props
    }  # fmt: skip
    return NativeTask(
        native_id=task_id,
        status=latest.status,
        native_status=latest.native_status,
        history=history,
        reference=reference if isinstance(reference, str) else None,
        amount=amount,
        currency=CURRENCY if amount is not None else None,
        awaiting_approval=props.get("transactionStatus") == "pending-customer-approval",
        details=details,
    )
