"""Loose request input turned into one canonical form, in one place, for every route.

Clients send the same thing several ways: ``collections`` as a list or a comma-separated
string, ``bbox`` as numbers or ``"w,s,e,n"``, ``sortby`` as ``-datetime,+id`` or
``[{"field", "direction"}]``, GeoJSON and Query-extension objects URL-encoded. The routes
(GET and POST ``/search``, ``/collections/{id}/items``, ``GET /collections``, ``/orders``)
hand their raw values to these functions and pass the canonical values on; the core
validates what they mean (:func:`bridge.core.query.build_query`). Like pystac-client's
``BBoxLike`` → ``_format_bbox``: accept loose input, emit one form.

Every function raises :class:`~bridge.errors.BadRequest` naming the parameter.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from bridge.core.query import SortField, parse_sortby
from bridge.errors import BadRequest

__all__ = [
    "bbox_numbers",
    "geometry_param",
    "id_list",
    "json_param",
    "offset_token",
    "search_terms",
    "sort_fields",
]


def id_list(value: list[str] | str | None) -> list[str] | None:
    """Collection or item ids from a list or a comma-separated string (validators send
    both); blanks dropped, None when nothing is left."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return [v.strip() for v in items if v and v.strip()] or None


def bbox_numbers(value: str | list[float] | None) -> list[float] | None:
    """A GET ``"w,s,e,n"`` (or 6 numbers) or a POST list → numbers; None when absent.

    Raises:
        BadRequest: not comma-separated numbers.
    """
    if value is None or isinstance(value, list):
        return value
    if not value.strip():
        return None
    try:
        return [float(v) for v in value.split(",")]
    except ValueError as exc:
        raise BadRequest(f"invalid bbox {value!r}: expected comma-separated numbers") from exc


def json_param(name: str, text: str | None) -> Any:
    """A JSON-valued GET parameter (``query``) → value; None when absent.

    Raises:
        BadRequest: not JSON.
    """
    if text is None or not text.strip():
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"invalid {name}: not JSON") from exc


def geometry_param(text: str | None) -> dict[str, Any] | None:
    """A URL-encoded GeoJSON geometry (GET ``intersects``) → object; None when absent.

    Raises:
        BadRequest: not JSON, or not an object.
    """
    if text is None or not text.strip():
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("invalid intersects: not JSON") from exc
    if not isinstance(value, dict):
        raise BadRequest("invalid intersects: expected a GeoJSON geometry object")
    return value


def sort_fields(value: str | list[Any] | None) -> list[SortField] | None:
    """GET ``-datetime,+id`` or POST ``[{"field", "direction"}]`` → sort fields."""
    return parse_sortby(value)


def search_terms(q: str | None) -> tuple[str, ...]:
    """Free-text ``q`` → lower-case terms (comma- or space-separated)."""
    return tuple(t.lower() for t in re.split(r"[,\s]+", q or "") if t)


MAX_OFFSET = 2**31 - 1
"""The largest offset a paging token may carry."""


def offset_token(token: str | None) -> int:
    """The paging token of an offset-paged listing (``/collections``, ``/orders``) → offset.

    Raises:
        BadRequest: not a non-negative integer.
    """
    try:
        offset = int(token) if token else 0
    except ValueError as exc:
        raise BadRequest("invalid paging token") from exc
    # Beyond a 64-bit database integer (schemathesis sent 6e19): no listing is that long.
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequest("invalid paging token")
    return offset
