"""Reading STAPI request bodies (offline ``spec/openapi.yaml``: ``OrderPayload``,
``OpportunityPayload``) into :class:`TaskingRequest`, checked against the product.

Every problem is a :class:`BadRequest` naming the field: ``datetime`` (a two-element
array of RFC 3339 strings, start before end), ``geometry`` (GeoJSON), ``filter``
(CQL2-JSON over the product's queryables only), ``order_parameters`` (the product's JSON
Schema; defaults filled in).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import cql2
import orjson
from geojson_pydantic.geometries import Geometry
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from bridge.core.tasking_contract import TaskingProduct, TaskingRequest
from bridge.errors import BadRequest

_GEOMETRY: TypeAdapter[Any] = TypeAdapter(Geometry)


def _rfc3339_string(value: Any) -> Any:
    # The spec's times are strings; pydantic would also take numbers as Unix times.
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 string")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339_string)]
MAX_OPPORTUNITIES = 100


class _Payload(BaseModel):
    """The fields both payloads share (more are allowed and ignored, as in the spec)."""

    model_config = ConfigDict(extra="ignore")

    datetime: tuple[Time, Time]
    geometry: dict[str, Any]
    filter: dict[str, Any] | None = None


_P = TypeVar("_P", bound=_Payload)


class OrderPayload(_Payload):
    """``POST /products/{id}/orders``."""

    order_parameters: dict[str, Any] = Field(default_factory=dict)
    opportunity_id: str | None = Field(default=None, max_length=500)
    """Bridge addition: the opportunity to order, where a provider orders by it."""


class OpportunityPayload(_Payload):
    """``POST /products/{id}/opportunities``."""

    limit: int = Field(default=10, ge=1, le=MAX_OPPORTUNITIES)
    next: str | None = None


def _parse(model: type[_P], raw: bytes) -> _P:
    try:
        data = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as exc:
        raise BadRequest("the body is not JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg')}")
        raise BadRequest("; ".join(problems)) from None


def _common(payload: _Payload, product: TaskingProduct) -> tuple[datetime, datetime]:
    start, end = payload.datetime
    if start >= end:
        raise BadRequest("datetime: the start must be before the end")
    try:
        _GEOMETRY.validate_python(payload.geometry)
    except ValidationError:
        raise BadRequest("geometry: not a valid GeoJSON geometry") from None
    if payload.filter is not None:
        check_filter(payload.filter, product)
    return start, end


def _properties(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["property"]} if isinstance(node.get("property"), str) else set()
        for value in node.values():
            found |= _properties(value)
        return found
    if isinstance(node, list):
        return set().union(*(_properties(v) for v in node)) if node else set()
    return set()


def check_filter(expr: dict[str, Any], product: TaskingProduct) -> None:
    """A CQL2-JSON ``filter`` that names only the product's queryables.

    Raises:
        BadRequest: not CQL2-JSON, or it names a property the product cannot constrain.
    """
    try:
        cql2.Expr(expr).validate()
    except Exception as exc:  # cql2 raises its own (Rust-side) error types
        raise BadRequest(f"filter: not valid CQL2-JSON ({exc})") from None
    allowed = set((product.queryables.get("properties") or {}).keys())
    unknown = sorted(_properties(expr) - allowed)
    if unknown:
        raise BadRequest(
            f"filter: {', '.join(unknown)} not queryable for {product.id} "
            f"(queryables: {', '.join(sorted(allowed)) or 'none'})"
        )


def order_parameters(given: dict[str, Any], product: TaskingProduct) -> dict[str, Any]:
    """``given`` checked against the product's schema, with every default filled in."""
    # Imported here: only tasking orders need it, and a worker's start-up time counts
    # against uvicorn's health check of freshly spawned workers.
    from jsonschema import Draft202012Validator

    schema = product.order_parameters
    errors = sorted(Draft202012Validator(schema).iter_errors(given), key=lambda e: e.path)
    if errors:
        err = errors[0]
        where = ".".join(["order_parameters", *(str(p) for p in err.path)])
        raise BadRequest(f"{where}: {err.message}")
    filled = dict(given)
    for name, spec in (schema.get("properties") or {}).items():
        if name not in filled and isinstance(spec, dict) and "default" in spec:
            filled[name] = spec["default"]
    return filled


def order_request(raw: bytes, product: TaskingProduct) -> TaskingRequest:
    """The body of ``POST /products/{id}/orders`` as a validated request."""
    payload = _parse(OrderPayload, raw)
    start, end = _common(payload, product)
    return TaskingRequest(
        product_id=product.id,
        start=start,
        end=end,
        geometry=payload.geometry,
        constraints=payload.filter,
        order_parameters=order_parameters(payload.order_parameters, product),
        opportunity_id=payload.opportunity_id,
    )


def opportunity_request(raw: bytes, product: TaskingProduct) -> tuple[TaskingRequest, int]:
    """The body of ``POST /products/{id}/opportunities``: the request and the limit."""
    payload = _parse(OpportunityPayload, raw)
    start, end = _common(payload, product)
    request = TaskingRequest(
        product_id=product.id,
        start=start,
        end=end,
        geometry=payload.geometry,
        constraints=payload.filter,
        order_parameters=order_parameters({}, product),
    )
    return request, payload.limit
