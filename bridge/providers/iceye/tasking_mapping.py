"""Pure ICEYE tasking mappings: a STAPI request → the native task body (and price query),
a native task → :class:`NativeTask`, native statuses → STAPI's, feasibility → opportunities.

Tables are data: ``tasking_products.json`` (products, queryables, order parameters) and
``tasking_statuses.json`` (status words). Sources: seed 001, ICEYE docs "create task",
"get task", "check feasibility"; app-examples ``tasks.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson

from bridge.core.tasking_contract import (
    NativeTask,
    Opportunity,
    StapiStatus,
    StatusEvent,
    TaskingProduct,
    TaskingRequest,
)
from bridge.errors import BadRequest

_HERE = Path(__file__).parent
_PRODUCTS: dict[str, Any] = orjson.loads((_HERE / "tasking_products.json").read_bytes())
_STATUSES: dict[str, Any] = orjson.loads((_HERE / "tasking_statuses.json").read_bytes())
STATUS_TABLE: Mapping[str, str] = _STATUSES["statuses"]
UNKNOWN_STATUS: str = _STATUSES["unknown"]
IMAGING_MODES: Mapping[str, str] = {p["id"]: p["imaging_mode"] for p in _PRODUCTS["products"]}
PROVIDER = {"name": "ICEYE", "roles": ["producer", "processor"], "url": "https://www.iceye.com"}
DOCS = "https://docs.iceye.com/constellation/api/tasking/create-task/"
LOOK_SIDES = {"left": "LEFT", "right": "RIGHT"}
PASS_DIRECTIONS = {"ascending": "ASCENDING", "descending": "DESCENDING"}
INCIDENCE = "view:incidence_angle"
# order parameter name → native field
ORDER_FIELDS = {
    "priority": "priority",
    "exclusivity": "exclusivity",
    "sla": "sla",
    "eula": "eula",
    "product_types": "productTypes",
}


def products() -> list[TaskingProduct]:
    """The ICEYE tasking products (one per imaging mode)."""
    return [
        TaskingProduct(
            id=p["id"],
            title=p["title"],
            description=p["description"],
            queryables=p["queryables"],
            order_parameters=p["order_parameters"],
            collection_id=p["collection_id"],
            opportunities=True,
            keywords=tuple(p["keywords"]),
            providers=(PROVIDER,),
            links=({"rel": "documentation", "href": DOCS, "type": "text/html"},),
            cancellable=True,
        )
        for p in _PRODUCTS["products"]
    ]


def stapi_status(native: str) -> StapiStatus:
    """The STAPI status of a native word (unknown words: :data:`UNKNOWN_STATUS`)."""
    return cast(StapiStatus, STATUS_TABLE.get(native, UNKNOWN_STATUS))


def iso(value: datetime) -> str:
    """RFC 3339 UTC with ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _point(geometry: Mapping[str, Any]) -> dict[str, float]:
    if geometry.get("type") != "Point":
        raise BadRequest("geometry must be a Point: ICEYE tasks a point of interest")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list | tuple) or len(coords) < 2:
        raise BadRequest("geometry.coordinates must be [lon, lat]")
    lon, lat = coords[0], coords[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        raise BadRequest("geometry.coordinates must be numbers")
    return {"lat": float(lat), "lon": float(lon)}


def _comparisons(node: Any) -> list[tuple[str, str, Any]]:
    """(op, property, operand) of a CQL2-JSON ``and`` of simple comparisons."""
    if not isinstance(node, Mapping) or not isinstance(node.get("args"), list):
        raise BadRequest("filter must be CQL2-JSON comparisons joined by 'and'")
    op, args = node.get("op"), node["args"]
    if op == "and":
        return [c for arg in args for c in _comparisons(arg)]
    if op == "between" and len(args) == 3:
        name = args[0].get("property") if isinstance(args[0], Mapping) else None
        return [(">=", str(name), args[1]), ("<=", str(name), args[2])]
    if len(args) == 2 and isinstance(args[0], Mapping) and "property" in args[0]:
        return [(str(op), str(args[0]["property"]), args[1])]
    raise BadRequest(f"filter operator {op!r} is not supported for ICEYE tasking")


def constraint_fields(constraints: Mapping[str, Any] | None) -> dict[str, Any]:
    """The native fields (incidenceAngle, lookSide, passDirection) of a CQL2-JSON filter."""
    if not constraints:
        return {}
    fields: dict[str, Any] = {}
    low, high = None, None
    for op, name, value in _comparisons(constraints):
        if name == INCIDENCE and op in (">=", ">") and isinstance(value, int | float):
            low = float(value)
        elif name == INCIDENCE and op in ("<=", "<") and isinstance(value, int | float):
            high = float(value)
        elif name == INCIDENCE and op == "=" and isinstance(value, int | float):
            low = high = float(value)
        elif name == "sar:observation_direction" and op == "=" and value in LOOK_SIDES:
            fields["lookSide"] = LOOK_SIDES[value]
        elif name == "sat:orbit_state" and op == "=" and value in PASS_DIRECTIONS:
            fields["passDirection"] = PASS_DIRECTIONS[value]
        else:
            raise BadRequest(f"filter: {name} {op} {value!r} cannot be sent to ICEYE")
    if low is not None or high is not None:
        fields["incidenceAngle"] = {"min": low if low is not None else 0.0}
        fields["incidenceAngle"]["max"] = high if high is not None else 90.0
    return fields


def task_body(request: TaskingRequest, contract_id: str, reference: str | None) -> dict[str, Any]:
    """The createTask (and feasibility) body of ``request``; ``reference`` is stored natively."""
    mode = IMAGING_MODES.get(request.product_id)
    if mode is None:
        raise BadRequest(f"product_id {request.product_id!r} is not an ICEYE tasking product")
    body: dict[str, Any] = {
        "contractID": contract_id,
        "pointOfInterest": _point(request.geometry),
        "acquisitionWindow": {"start": iso(request.start), "end": iso(request.end)},
        "imagingMode": mode,
    }
    for name, native in ORDER_FIELDS.items():
        value = request.order_parameters.get(name)
        if value is not None:
            body[native] = list(value) if isinstance(value, list | tuple) else value
    body.update(constraint_fields(request.constraints))
    if reference is not None:
        body["reference"] = reference
    return body


def price_params(body: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """getTaskPrice's query parameters (``pointOfInterest[lat]`` style) from a task body."""
    params: list[tuple[str, str]] = []
    for key, value in body.items():
        if key == "reference":
            continue
        if isinstance(value, Mapping):
            params += [(f"{key}[{k}]", str(v)) for k, v in value.items()]
        elif isinstance(value, list):
            params += [(key, str(v)) for v in value]
        else:
            params.append((key, str(value)))
    return tuple(params)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def native_task(body: Mapping[str, Any]) -> NativeTask:
    """A native Task as :class:`NativeTask`; raises ``KeyError``/``TypeError`` when the
    body lacks an id or status (the caller reports it as a bad provider answer)."""
    task_id, native = body["id"], body["status"]
    if not isinstance(task_id, str) or not isinstance(native, str):
        raise TypeError("task id and status must be strings")
    created = _time(body.get("createdAt"))
    # ICEYE keeps no status history, only createdAt; every task starts RECEIVED (docs
    # "get task"), so that much history is known; later changes the bridge observes.
    history = (StatusEvent(created, stapi_status("RECEIVED"), "RECEIVED"),) if created else ()
    details = {
        k: body[k]
        for k in ("imagingMode", "acquisitionWindow", "pointOfInterest", "productTypes", "sla")
        if k in body
    }
    reference = body.get("reference")
    return NativeTask(
        native_id=task_id,
        status=stapi_status(native),
        native_status=native,
        history=history,
        reference=reference if isinstance(reference, str) else None,
        details=details,
    )


def opportunities(answer: Any, geometry: Mapping[str, Any], limit: int) -> list[Opportunity]:
    """The opportunities of the first feasibility answer (``{data: [{opportunities}]}``)."""
    data = answer.get("data") if isinstance(answer, Mapping) else None
    first = data[0] if isinstance(data, list) and data else None
    found = first.get("opportunities") if isinstance(first, Mapping) else None
    result: list[Opportunity] = []
    for entry in found if isinstance(found, list) else []:
        start, end = _time(entry.get("start")), _time(entry.get("end"))
        if start is None or end is None:
            continue
        props: dict[str, Any] = {}
        if isinstance(entry.get("incidenceAngle"), int | float):
            props[INCIDENCE] = entry["incidenceAngle"]
        look = {v: k for k, v in LOOK_SIDES.items()}.get(entry.get("lookSide", ""))
        if look:
            props["sar:observation_direction"] = look
        orbit = {v: k for k, v in PASS_DIRECTIONS.items()}.get(entry.get("passDirection", ""))
        if orbit:
            props["sat:orbit_state"] = orbit
        result.append(Opportunity(start=start, end=end, geometry=dict(geometry), properties=props))
        if len(result) >= limit:
            break
    return result
