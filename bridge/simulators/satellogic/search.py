"""Native evaluation of the Satellogic archive STAC API's item search (pgstac-like).

What it evaluates, and how (assumed from the archive being "a full compliant STAC-API";
the exact server behind it is unconfirmed, pgstac semantics are the model):

* ``collections``, ``ids``, ``datetime`` (closed interval on the tile's instant): exact.
* ``bbox`` / ``intersects``: against the tile's **2 km grid cell**, not its footprint.
  The archive is indexed by the grid the captures are cut into; an edge tile whose valid
  footprint covers only part of its cell is returned for any query meeting the cell
  (unconfirmed: this is the simulator's model of the tile index, and what the bridge
  must clean up after).
* ``query`` extension: ``eq neq lt lte gt gte startsWith endsWith contains in``.
* ``filter`` (CQL2 JSON, or text in GET): the operators of :data:`CQL2_OPS`, evaluated on
  the item itself; anything else is a 400. A comparison on a missing property is false
  (SQL NULL semantics).
* ``sortby`` on any property, ``id`` or ``collection``; default ``datetime desc, id desc``
  (pgstac's default). Paging is keyset-style: ``token=next:<item id>`` /
  ``prev:<item id>``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cql2
import orjson
import shapely
from shapely import prepared
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from bridge.simulators.satellogic.archive import Archive, Tile

MAX_LIMIT = 1000  # assumed native cap (stac-fastapi's is configurable)
DEFAULT_LIMIT = 10

CQL2_OPS = frozenset(
    {
        "and", "or", "not", "=", "<>", "<", "<=", ">", ">=", "like", "between", "in",
        "isNull", "casei", "accenti", "s_intersects", "s_within", "s_contains",
        "s_disjoint", "s_equals", "t_intersects", "t_before", "t_after", "t_during",
        "a_equals", "a_contains", "a_containedBy", "a_overlaps",
    }
)  # fmt: skip
QUERY_OPS = frozenset(
    {"eq", "neq", "lt", "lte", "gt", "gte", "startsWith", "endsWith", "contains", "in"}
)


class SearchError(ValueError):
    """A request the archive rejects with 400; ``code`` is the stac-fastapi error code."""

    def __init__(self, description: str, code: str = "InvalidQueryParameter") -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class NativeSearch:
    """A parsed native search request."""

    collections: list[str] | None = None
    ids: list[str] | None = None
    bbox: tuple[float, float, float, float] | None = None
    intersects: BaseGeometry | None = None
    datetime: tuple[str | None, str | None] | None = None
    query: dict[str, dict[str, Any]] | None = None
    filter: cql2.Expr | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    token: str | None = None


def _instant(text: str) -> str:
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise SearchError(f"Invalid datetime {text!r}", "RequestValidationError") from exc
    if value.tzinfo is None:
        raise SearchError(f"Datetime {text!r} has no time zone", "RequestValidationError")
    # the archive's own format, so instants compare as strings
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_datetime(text: str) -> tuple[str | None, str | None]:
    """A STAC datetime parameter as (start, end) in the archive's string format."""
    parts = text.split("/")
    if len(parts) == 1:
        value = _instant(parts[0])
        return value, value
    if len(parts) != 2:
        raise SearchError(f"Invalid datetime interval {text!r}", "RequestValidationError")
    start = None if parts[0] in ("", "..") else _instant(parts[0])
    end = None if parts[1] in ("", "..") else _instant(parts[1])
    if start and end and start > end:
        raise SearchError(f"Invalid datetime interval {text!r}", "RequestValidationError")
    return start, end


def parse_bbox(values: Iterable[Any]) -> tuple[float, float, float, float]:
    """A 4- or 6-number bbox as 2D; 400 when malformed or inverted."""
    try:
        nums = [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise SearchError("bbox must be numbers", "RequestValidationError") from exc
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise SearchError("bbox must have 4 or 6 numbers", "RequestValidationError")
    if nums[1] > nums[3] or nums[0] > nums[2]:
        raise SearchError(f"Invalid bbox {nums}", "RequestValidationError")
    return (nums[0], nums[1], nums[2], nums[3])


def parse_intersects(geojson: Any) -> BaseGeometry:
    """A GeoJSON geometry; 400 when it is not one."""
    try:
        return shape(geojson)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError) as exc:
        raise SearchError("intersects is not a GeoJSON geometry", "RequestValidationError") from exc


def _ops(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        if "op" in node:
            yield str(node["op"])
        for value in node.values():
            yield from _ops(value)
    elif isinstance(node, list):
        for value in node:
            yield from _ops(value)


def parse_filter(value: Any, lang: str | None) -> cql2.Expr:
    """A CQL2 filter (JSON object, or text for ``cql2-text``); 400 for unsupported operators."""
    if lang not in (None, "cql2-json", "cql2-text"):
        raise SearchError(f"Unsupported filter-lang {lang!r}")
    try:
        expr = cql2.Expr(value)
        tree = expr.to_json()
    except Exception as exc:  # cql2 raises bare Exception subclasses from Rust
        raise SearchError(f"Invalid CQL2 filter: {exc}") from exc
    unknown = sorted(set(_ops(tree)) - CQL2_OPS)
    if unknown:
        raise SearchError(f"Unsupported CQL2 operator(s): {', '.join(unknown)}")
    return expr


def parse_sortby(entries: Iterable[Any]) -> list[tuple[str, bool]]:
    """POST sortby entries (``{"field", "direction"}``) or GET strings (``-datetime``)."""
    out = []
    for entry in entries:
        if isinstance(entry, str):
            name, desc = entry.lstrip("+-"), entry.startswith("-")
        elif isinstance(entry, dict) and isinstance(entry.get("field"), str):
            direction = entry.get("direction", "asc")
            if direction not in ("asc", "desc"):
                raise SearchError(f"Invalid sort direction {direction!r}", "RequestValidationError")
            name, desc = entry["field"], direction == "desc"
        else:
            raise SearchError("Invalid sortby", "RequestValidationError")
        out.append((name.removeprefix("properties."), desc))
    return out


def _value(tile: Tile, name: str) -> Any:
    if name in ("id", "collection"):
        return tile.item[name]
    return tile.item["properties"].get(name)


def _query_test(op: str, want: Any) -> Callable[[Any], bool]:
    tests: dict[str, Callable[[Any], bool]] = {
        "eq": lambda v: v == want,
        "neq": lambda v: v != want,
        "lt": lambda v: v < want,
        "lte": lambda v: v <= want,
        "gt": lambda v: v > want,
        "gte": lambda v: v >= want,
        "startsWith": lambda v: isinstance(v, str) and v.startswith(want),
        "endsWith": lambda v: isinstance(v, str) and v.endswith(want),
        "contains": lambda v: isinstance(v, str) and want in v,
        "in": lambda v: v in want,
    }
    return tests[op]


def _query_predicate(query: dict[str, dict[str, Any]]) -> Callable[[Tile], bool]:
    checks: list[tuple[str, Callable[[Any], bool]]] = []
    for name, ops in query.items():
        if not isinstance(ops, dict):
            raise SearchError(f"query on {name!r} must be an object of operators")
        for op, want in ops.items():
            if op not in QUERY_OPS:
                raise SearchError(f"Unsupported query operator {op!r}")
            checks.append((name.removeprefix("properties."), _query_test(op, want)))

    def matches(tile: Tile) -> bool:
        for name, test in checks:
            value = _value(tile, name)
            try:
                if value is None or not test(value):
                    return False
            except TypeError:  # comparing unlike types: no match, as in SQL
                return False
        return True

    return matches


def _filter_matches(expr: cql2.Expr, tile: Tile) -> bool:
    try:
        return bool(expr.matches(tile.item))
    except Exception:  # missing property: NULL, i.e. not a match
        return False


def _meets(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def evaluate(archive: Archive, search: NativeSearch, visible: frozenset[str]) -> list[Tile]:
    """Every tile of the ``visible`` collections matching ``search``, in its sort order."""
    collections = visible if search.collections is None else visible & set(search.collections)
    ids = set(search.ids) if search.ids else None
    start, end = search.datetime or (None, None)
    spatial = search.bbox
    geom = prepared.prep(search.intersects) if search.intersects is not None else None
    if search.intersects is not None:
        spatial = search.intersects.bounds
    query_ok = _query_predicate(search.query) if search.query else None
    out = []
    for tile in archive.tiles:
        if tile.collection not in collections or (ids is not None and tile.id not in ids):
            continue
        if (start is not None and tile.datetime < start) or (
            end is not None and tile.datetime > end
        ):
            continue
        if spatial is not None and not _meets(spatial, tile.cell):
            continue
        if geom is not None and not geom.intersects(box(*tile.cell)):
            continue
        if query_ok is not None and not query_ok(tile):
            continue
        if search.filter is not None and not _filter_matches(search.filter, tile):
            continue
        out.append(tile)
    return sort_tiles(out, search.sortby or [("datetime", True), ("id", True)])


def _sort_key(name: str, desc: bool) -> Callable[[Tile], tuple[bool, Any]]:
    # the flag puts missing values last in both directions (the list is reversed for desc)
    def key(tile: Tile) -> tuple[bool, Any]:
        value = _value(tile, name)
        return ((value is not None) if desc else (value is None), value)

    return key


def sort_tiles(tiles: list[Tile], sortby: list[tuple[str, bool]]) -> list[Tile]:
    """Sort by each key (least significant first: Python's sort is stable); missing last."""
    for name, desc in reversed(sortby):
        tiles.sort(key=_sort_key(name, desc), reverse=desc)
    return tiles


def page(tiles: list[Tile], token: str | None, limit: int) -> tuple[list[Tile], int]:
    """The page of ``tiles`` a token points at, and its start offset."""
    if not token:
        return tiles[:limit], 0
    kind, _, item_id = token.partition(":")
    index = next((i for i, t in enumerate(tiles) if t.id == item_id), None)
    if kind not in ("next", "prev") or index is None:
        raise SearchError(f"Invalid paging token {token!r}")
    begin = index + 1 if kind == "next" else max(0, index - limit)
    stop = begin + limit if kind == "next" else index
    return tiles[begin:stop], begin


def decode_json_param(name: str, text: str) -> Any:
    """A JSON-valued GET parameter (``intersects``, ``query``, cql2-json ``filter``)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise SearchError(f"{name} is not valid JSON", "RequestValidationError") from exc
