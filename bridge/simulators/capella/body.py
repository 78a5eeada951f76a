"""Validation of Capella's ``POST /catalog/search`` body (what the simulator accepts).

What is assumed where no public source is precise:

* ``query`` on a property outside Capella's documented queryable list, or with an
  operator other than ``eq in gt gte lt lte`` (``neq``, ``startsWith``, ...), is a 400
  ``VALIDATION_ERROR``: those the bridge must evaluate itself.
* ``sortby`` takes ``id`` and ``properties.<name>`` for the queryable names plus the three
  datetimes; anything else is a 400.
* ``limit`` above 900 is clamped to 900, as the STAC API spec asks of servers; default 10.
* ``page`` may come in the query string (the SDK's next href) or in the body.
* A page reaching past item 10,000 (``page * limit > 10000``) is a 400: the SDK never
  asks for one (``CATALOG_STAC_MAX_ITEM_RETURN``), so the real answer is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

QUERYABLE = frozenset(
    {
        "sar:instrument_mode",
        "sar:product_type",
        "sar:polarizations",
        "sar:frequency_band",
        "sar:observation_direction",
        "sar:resolution_range",
        "sar:resolution_azimuth",
        "sar:looks_range",
        "sar:looks_azimuth",
        "sar:looks_equivalent_number",
        "sar:pixel_spacing_range",
        "sar:pixel_spacing_azimuth",
        "view:incidence_angle",
        "view:look_angle",
        "view:azimuth",
        "sat:orbit_state",
        "sat:relative_orbit",
        "sat:absolute_orbit",
        "capella:collect_id",
        "capella:resolution_ground_range",
        "capella:squint_angle",
        "capella:layover_angle",
        "capella:orbital_plane",
        "capella:billable_area",
        "capella:collection_type",
        "capella:archive_holdback_date",
        "proj:epsg",
        "platform",
        "constellation",
        "instruments",
        # The rest of capella-console-client 0.20's vocabulary (config.py
        # STAC_SUPPORTED_QUERY_FIELDS / STAC_PREFIXED_BY_QUERY_FIELDS).
        "sar:center_frequency",
        "capella:hash",
        "capella:image_formation_algorithm",
        "capella:rgt_id",
        "capella:use_case",
        "locale:timezone",
        "locale:datetime",
        "locale:time",
        *("datetime", "created", "updated"),
    }
)
TIME_QUERYABLE = frozenset({"datetime", "created", "updated"})
"""Queryables compared as instants (the SDK sends ``datetime__gt`` as ``query.datetime``)."""
SORTABLE = QUERYABLE | {"start_datetime", "end_datetime"}
OPERATORS = frozenset({"eq", "in", "gt", "gte", "lt", "lte"})
OWNERSHIP = frozenset(
    {"ownedByOrganization", "sharedWithOrganization", "availableForPurchase", "publiclyAvailable"}
)
MAX_LIMIT = 900
DEFAULT_LIMIT = 10
MAX_WINDOW = 10_000
"""No page reaches past the first 10,000 items of a search (the SDK's
``CATALOG_STAC_MAX_ITEM_RETURN``; it shrinks its last page to stay inside)."""


class SearchError(ValueError):
    """A search body Capella would refuse with 400 ``VALIDATION_ERROR``."""


@dataclass(frozen=True)
class SortKey:
    """One ``sortby`` entry: ``id`` or a property name."""

    name: str
    descending: bool


@dataclass(frozen=True)
class NativeSearch:
    """A validated search body."""

    collections: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    geometry: BaseGeometry | None = None
    is_box: bool = False
    """``geometry`` came from ``bbox`` (so a footprint inside its bounds is a match)."""
    start: float | None = None
    end: float | None = None
    predicates: tuple[tuple[str, str, Any], ...] = ()
    sortby: tuple[SortKey, ...] = (SortKey("datetime", True),)
    limit: int = DEFAULT_LIMIT
    page: int = 1
    ownership: str | None = None


def _strings(body: Mapping[str, Any], key: str) -> frozenset[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SearchError(f"'{key}' must be an array of strings")
    return frozenset(value)


def _instant(text: str) -> float | None:
    if text.strip() in ("", ".."):
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise SearchError(f"invalid datetime '{text}'") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _datetime(value: Any) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise SearchError("'datetime' must be a string")
    parts = value.split("/")
    if len(parts) == 1:
        instant = _instant(parts[0])
        if instant is None:
            raise SearchError("'datetime' is empty")
        return instant, instant
    if len(parts) != 2:
        raise SearchError(f"invalid datetime interval '{value}'")
    return _instant(parts[0]), _instant(parts[1])


def _geometry(body: Mapping[str, Any]) -> tuple[BaseGeometry | None, bool]:
    bbox, intersects = body.get("bbox"), body.get("intersects")
    if bbox is not None and intersects is not None:
        raise SearchError("only one of 'bbox' and 'intersects' may be given")
    if bbox is not None:
        if not isinstance(bbox, list) or len(bbox) not in (4, 6):
            raise SearchError("'bbox' must have 4 or 6 numbers")
        if not all(isinstance(v, int | float) for v in bbox):
            raise SearchError("'bbox' must have 4 or 6 numbers")
        west, south, east, north = bbox if len(bbox) == 4 else (*bbox[:2], *bbox[3:5])
        if west > east or south > north:
            raise SearchError("'bbox' corners are inverted")
        return box(west, south, east, north), True
    if intersects is not None:
        try:
            geom = shape(intersects)
        except (
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            shapely.errors.ShapelyError,
        ) as exc:
            raise SearchError("'intersects' is not a GeoJSON geometry") from exc
        if geom.is_empty or not geom.is_valid:
            raise SearchError("'intersects' is not a valid geometry")
        return geom, False
    return None, False


def _instants(name: str, operand: Any) -> Any:
    """A time operand (or list of them) as POSIX timestamps."""
    values = operand if isinstance(operand, list) else [operand]
    if not all(isinstance(v, str) for v in values):
        raise SearchError(f"query on '{name}' takes date-time strings")
    stamps = [_instant(v) for v in values]
    if any(s is None for s in stamps):
        raise SearchError(f"query on '{name}' takes date-time strings")
    return stamps if isinstance(operand, list) else stamps[0]


def _predicates(value: Any) -> tuple[tuple[str, str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise SearchError("'query' must be an object")
    out = []
    for name, ops in value.items():
        if name not in QUERYABLE:
            raise SearchError(f"'{name}' is not a queryable property")
        if not isinstance(ops, dict) or not ops:
            raise SearchError(f"query on '{name}' must be an object of operators")
        for op, operand in ops.items():
            if op not in OPERATORS:
                raise SearchError(f"unsupported query operator '{op}'")
            if op == "in" and not isinstance(operand, list):
                raise SearchError("operator 'in' takes an array")
            if name in TIME_QUERYABLE:
                operand = _instants(name, operand)
            out.append((name, op, operand))
    return tuple(out)


def _sortby(value: Any) -> tuple[SortKey, ...]:
    if value is None:
        return NativeSearch.sortby
    if not isinstance(value, list) or not value:
        raise SearchError("'sortby' must be a non-empty array")
    keys = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            raise SearchError("'sortby' entries need a 'field'")
        name = entry["field"].removeprefix("properties.")
        direction = entry.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise SearchError(f"invalid sort direction '{direction}'")
        if name != "id" and name not in SORTABLE:
            raise SearchError(f"cannot sort by '{entry['field']}'")
        keys.append(SortKey(name, direction == "desc"))
    return tuple(keys)


def _positive_int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise SearchError(f"'{name}' must be a positive integer") from exc
    if number < 1 or (isinstance(value, float) and not value.is_integer()):
        raise SearchError(f"'{name}' must be a positive integer")
    return number


def parse_search(body: Any, page_param: str | None = None) -> NativeSearch:
    """Validate a search body; ``page`` may come from the query string or the body.

    Raises:
        SearchError: the body is not one Capella accepts.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise SearchError("request body must be a JSON object")
    ownership = body.get("ownership")
    if ownership is not None and ownership not in OWNERSHIP:
        raise SearchError(f"invalid ownership '{ownership}'")
    page = page_param if page_param is not None else body.get("page", 1)
    start, end = _datetime(body.get("datetime"))
    geometry, is_box = _geometry(body)
    limit = min(_positive_int(body.get("limit", DEFAULT_LIMIT), "limit"), MAX_LIMIT)
    page_number = _positive_int(page, "page")
    if page_number * limit > MAX_WINDOW:
        raise SearchError(
            f"page {page_number} of {limit} reaches past the first {MAX_WINDOW} items, "
            "which is all a search returns"
        )
    return NativeSearch(
        collections=_strings(body, "collections"),
        ids=_strings(body, "ids"),
        geometry=geometry,
        is_box=is_box,
        start=start,
        end=end,
        predicates=_predicates(body.get("query")),
        sortby=_sortby(body.get("sortby")),
        limit=limit,
        page=page_number,
        ownership=ownership,
    )
