"""ICEYE catalog requests as the simulator reads them: fields, limits, cursors.

What ICEYE's catalog evaluates natively, and nothing more (evaluated by
:mod:`bridge.simulators.iceye.search`):

v2 ``POST /search``: bbox, intersects (exact geometry), datetime, ids, collections, query,
sortby, limit, cursor. v2 ``GET /items``: the same minus query and intersects. v1: bbox,
datetime, ids, query and sortby in v1 names, limit; ``POST /search`` takes no cursor but
answers one when more results exist, and ``GET /items?cursor=`` continues it (ICEYE docs
"search catalog items"). A cursor carries its search, in both versions.

Unconfirmed behaviour, kept here in one place:
* datetime matches when the acquisition [start, end] overlaps the interval;
* a query on a property the API version does not know matches nothing (no 400);
* limit: see :data:`LIMITS` (default 10, documented); out of range is a 400;
* sortable fields (see ``SORTABLE``); ties are broken by item id ascending, and the
  default order is newest acquisition first;
* an unknown body field is a 400 (the documented v1 body has no intersects/cursor/...);
* without ``collections`` only ``public`` is searched; ``private`` holds the frames of the
  caller's closed purchases (v1 searches see only ``public``: ``collections`` is new in v2).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from bridge.simulators.iceye.archive import PUBLIC
from bridge.simulators.iceye.render import V1_TO_V2

DEFAULT_LIMIT = 10
"""ICEYE docs "search catalog items" and "handle pagination": up to 10 items by default."""
LIMITS = {"v1": (0, 10_000), "v2": (1, 200)}
"""Accepted ``limit`` per version: v1 0..10000 (ICEYE docs changelog: out of range is a
400); v2 at most 200 (docs "handle pagination", Catalog API; the minimum is assumed)."""
DEFAULT_COLLECTIONS = frozenset({PUBLIC})
"""What a search naming no collection looks in (assumed: ICEYE's own explorer always
names one, app-examples ``CatalogSearch.jsx``)."""
SORTABLE = {
    "v2": frozenset(
        {
            "id",
            "start_datetime",
            "end_datetime",
            "iceye:incidence_center",
            "iceye:satellite_look_angle",
        }
    ),
    "v1": frozenset({"id", "start_time", "end_time"}),
}
SEARCH_FIELDS = {
    "v2": frozenset(
        {"bbox", "datetime", "ids", "collections", "contractID", "limit", "query"}
        | {"sortby", "intersects", "cursor"}
    ),
    "v1": frozenset({"bbox", "datetime", "ids", "limit", "query", "sortby"}),
}
ITEMS_PARAMS = {
    "v2": frozenset({"limit", "cursor", "bbox", "datetime", "ids", "collections", "contractID"})
    | {"sortby"},
    "v1": frozenset({"limit", "cursor", "bbox", "datetime", "ids", "sortby"}),
}
# Names both versions share (not renamed by the migration).
_SHARED_NAMES = frozenset({"frame_id", "created", "platform", "constellation"})
_V2_NAMES = frozenset(V1_TO_V2.values()) | _SHARED_NAMES | {"datetime"}


class SearchError(ValueError):
    """A request the native API rejects with 400."""


@dataclass(frozen=True)
class NativeSearch:
    """A parsed native search (property names already resolved to v2 names)."""

    bbox: tuple[float, float, float, float] | None = None
    geometry: BaseGeometry | None = None
    start: float | None = None
    end: float | None = None
    ids: frozenset[str] | None = None
    collections: frozenset[str] | None = None
    query: tuple[tuple[str | None, str, Any], ...] = ()
    sortby: tuple[tuple[str, bool], ...] = (("start_datetime", True),)
    filters: str = "{}"
    """The request's filter fields as canonical JSON (what a cursor carries)."""


def _resolve(name: str, version: str) -> str | None:
    """The v2 name of property ``name`` in API ``version``; None when it does not know it."""
    if version == "v1":
        return V1_TO_V2.get(name) or (name if name in _SHARED_NAMES else None)
    return name if name in _V2_NAMES else None


def _bbox(value: Any) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    try:
        nums = [float(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise SearchError("bbox must be four numbers") from exc
    if len(nums) != 4 or nums[0] > nums[2] or nums[1] > nums[3]:
        raise SearchError("bbox must be [west, south, east, north]")
    return (nums[0], nums[1], nums[2], nums[3])


def _instant(text: str) -> float | None:
    if text in ("", ".."):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SearchError(f"invalid datetime {text!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _interval(value: Any) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise SearchError("datetime must be a string")
    parts = value.split("/")
    if len(parts) == 1:
        t = _instant(parts[0])
        return t, t
    if len(parts) != 2:
        raise SearchError(f"invalid datetime interval {value!r}")
    return _instant(parts[0]), _instant(parts[1])


def _strings(value: Any, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SearchError(f"{what} must be a list of strings")
    return frozenset(value)


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b or (isinstance(a, list) and b in a),
    "neq": lambda a, b: a != b and not (isinstance(a, list) and b in a),
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "in": lambda a, b: bool(set(a) & set(b)) if isinstance(a, list) else a in b,
    "startsWith": lambda a, b: isinstance(a, str) and a.startswith(b),
}


def _query(value: Any, version: str) -> tuple[tuple[str | None, str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise SearchError("query must be an object")
    clauses = []
    for name, ops in value.items():
        if not isinstance(ops, Mapping):
            raise SearchError(f"query.{name} must be an object of operators")
        for op, operand in ops.items():
            if op not in OPS or (op == "in" and not isinstance(operand, list)):
                raise SearchError(f"unsupported query operator {op!r} on {name!r}")
            clauses.append((_resolve(name, version), op, operand))
    return tuple(clauses)


def _sortby(value: Any, version: str) -> tuple[tuple[str, bool], ...]:
    if value is None:
        return NativeSearch.sortby
    if isinstance(value, str):  # GET form: "-start_datetime,+id"
        value = [
            {"field": f.lstrip("+-"), "direction": "desc" if f.startswith("-") else "asc"}
            for f in value.split(",")
            if f
        ]
    if not isinstance(value, list):
        raise SearchError("sortby must be a list")
    keys = []
    for entry in value:
        name = entry.get("field") if isinstance(entry, Mapping) else None
        if name not in SORTABLE[version]:
            raise SearchError(f"cannot sort by {name!r}")
        resolved = "id" if name == "id" else _resolve(name, version)
        assert resolved is not None
        keys.append((resolved, entry.get("direction", "asc") == "desc"))
    return tuple(keys)


def _limit(value: Any, version: str) -> int:
    try:
        limit = DEFAULT_LIMIT if value is None else int(value)
    except (TypeError, ValueError) as exc:
        raise SearchError("limit must be an integer") from exc
    low, high = LIMITS[version]
    if not low <= limit <= high:
        raise SearchError(f"limit must be between {low} and {high}")
    return limit


def parse_search(
    fields: Mapping[str, Any], version: str, allowed: frozenset[str]
) -> tuple[NativeSearch, int, str | None]:
    """Parse a search body or query string; returns the search, limit and cursor."""
    unknown = set(fields) - allowed
    if unknown:
        raise SearchError(f"unknown field(s): {', '.join(sorted(unknown))}")
    geometry = None
    if fields.get("intersects") is not None:
        try:
            geometry = shape(fields["intersects"])
        except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError):
            raise SearchError("intersects must be a GeoJSON geometry") from None
    start, end = _interval(fields.get("datetime"))
    filters = {k: v for k, v in fields.items() if k not in ("limit", "cursor", "contractID")}
    search = NativeSearch(
        bbox=_bbox(fields.get("bbox")),
        geometry=geometry,
        start=start,
        end=end,
        ids=_strings(fields.get("ids"), "ids"),
        collections=_strings(fields.get("collections"), "collections"),
        query=_query(fields.get("query"), version),
        sortby=_sortby(fields.get("sortby"), version),
        filters=orjson.dumps(filters, option=orjson.OPT_SORT_KEYS).decode(),
    )
    cursor = fields.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise SearchError("cursor must be a string")
    return search, _limit(fields.get("limit"), version), cursor


def encode_cursor(search: NativeSearch, offset: int) -> str:
    """An opaque cursor for the page starting at ``offset`` of ``search``: it carries the
    search, so ``GET /items?cursor=`` alone continues it (ICEYE docs "search catalog
    items": page a ``POST /search`` through ``GET /items`` with the cursor)."""
    raw = orjson.dumps({"o": offset, "f": orjson.loads(search.filters)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(search: NativeSearch, cursor: str | None) -> tuple[dict[str, Any], int]:
    """The search fields and offset a cursor carries.

    A request that names filters besides the cursor must name the cursor's own (assumed:
    the documented follow-up sends only ``cursor`` and ``limit``).
    """
    if cursor is None:
        return orjson.loads(search.filters), 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, filters = int(data["o"]), data["f"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise SearchError("invalid cursor") from None
    if not isinstance(filters, dict) or offset < 0:
        raise SearchError("invalid cursor")
    if search.filters != "{}" and orjson.loads(search.filters) != filters:
        raise SearchError("cursor does not belong to this search")
    return filters, offset
