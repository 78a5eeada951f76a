"""The bridge's own, validated form of a STAC item search.

Every entry point (GET/POST ``/search``, ``/collections/{id}/items``) is turned into one
:class:`SearchQuery`; adapters translate it into native requests and the core evaluates
it exactly on what comes back (:mod:`bridge.core.match`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from bridge.core.filters import (
    and_all,
    coerce_literals,
    parse_filter,
    property_names,
    query_to_cql2,
    rename_properties,
)
from bridge.core.timeutil import Interval, parse_interval
from bridge.core.vocabulary import Vocabulary
from bridge.errors import BadRequest

BBox = tuple[float, float, float, float]

_GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


@dataclass(frozen=True)
class SortField:
    """One sort key: a property name (STAC name, no ``properties.`` prefix) and a direction."""

    field: str
    descending: bool = False

    def to_stac(self) -> dict[str, str]:
        """The POST ``sortby`` entry for this key."""
        return {"field": self.field, "direction": "desc" if self.descending else "asc"}


DEFAULT_SORT: tuple[SortField, ...] = (SortField("datetime", descending=True),)


@dataclass(frozen=True)
class SearchQuery:
    """A validated STAC item search.

    ``intersects`` is kept both as GeoJSON (for adapters that push it down) and as a
    shapely geometry (for exact evaluation); ``bbox`` is always 2D.
    """

    collections: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    bbox: BBox | None = None
    intersects: Mapping[str, Any] | None = None
    datetime: Interval | None = None
    limit: int = 10
    sortby: tuple[SortField, ...] = DEFAULT_SORT
    filter: Any = None
    """cql2-json over STAC names: the CQL2 filter AND the Query-extension constraints."""
    _geometry: BaseGeometry | None = field(default=None, compare=False, repr=False)

    @property
    def geometry(self) -> BaseGeometry | None:
        """The spatial constraint as a shapely geometry (bbox or intersects), if any."""
        if self._geometry is not None:
            return self._geometry
        if self.bbox is not None:
            return box(*self.bbox)
        return None

    @property
    def spatial_bbox(self) -> BBox | None:
        """The bounding box of the spatial constraint (a superset for pushing down)."""
        if self.bbox is not None:
            return self.bbox
        geom = self.geometry
        if geom is None:
            return None
        minx, miny, maxx, maxy = geom.bounds
        return (minx, miny, maxx, maxy)

    def with_collections(self, collections: Iterable[str]) -> SearchQuery:
        """A copy restricted to ``collections``."""
        return replace(self, collections=tuple(collections))


def normalize_bbox(values: Sequence[float] | None) -> BBox | None:
    """Validate a 4- or 6-number bbox and return it in 2D.

    Raises:
        BadRequest: wrong length, non-finite numbers, out-of-range or inverted corners.
    """
    if values is None:
        return None
    nums = [float(v) for v in values]
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    elif len(nums) != 4:
        raise BadRequest(f"bbox must have 4 or 6 numbers, got {len(nums)}")
    if not all(math.isfinite(v) for v in nums):
        raise BadRequest("bbox must hold finite numbers")
    west, south, east, north = nums
    lons_ok = -180 <= west <= 180 and -180 <= east <= 180
    if not (lons_ok and -90 <= south <= 90 and -90 <= north <= 90):
        raise BadRequest(f"bbox {nums} is outside [-180, -90, 180, 90]")
    if south > north:
        raise BadRequest(f"bbox {nums} is inverted: south is greater than north")
    if west > east:
        # STAC allows antimeridian-crossing boxes; the bridge rejects them explicitly rather
        # than silently answering as if the box spanned the other way round the globe.
        raise BadRequest(
            f"bbox {nums} is inverted: west is greater than east "
            "(antimeridian-crossing boxes are not supported; split the search in two)"
        )
    return (west, south, east, north)


def parse_geometry(geojson: Mapping[str, Any]) -> BaseGeometry:
    """Validate a GeoJSON geometry and return it as a shapely geometry.

    Raises:
        BadRequest: not a GeoJSON geometry, or not a valid one.
    """
    if not isinstance(geojson, Mapping) or geojson.get("type") not in _GEOMETRY_TYPES:
        raise BadRequest("intersects must be a GeoJSON geometry object")
    try:
        geom = shape(geojson)
    except (
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        OverflowError,
        shapely.errors.ShapelyError,
    ) as exc:
        raise BadRequest(f"invalid GeoJSON geometry: {exc}") from exc
    if geom.is_empty:
        raise BadRequest("intersects geometry is empty")
    if not geom.is_valid:
        geom = geom.buffer(0)  # a self-touching ring is common in hand-made polygons
        if geom.is_empty:
            raise BadRequest("intersects geometry is invalid")
    return geom


def build_query(
    *,
    collections: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    bbox: Sequence[float] | None = None,
    intersects: Mapping[str, Any] | None = None,
    datetime: str | None = None,
    limit: int = 10,
    sortby: Sequence[SortField] | None = None,
    filter: str | Mapping[str, Any] | None = None,
    filter_lang: str | None = None,
    filter_crs: str | None = None,
    query: Mapping[str, Any] | None = None,
    vocabulary: Vocabulary | None = None,
) -> SearchQuery:
    """Build a :class:`SearchQuery`, rejecting contradictory or malformed input with 400.

    With a ``vocabulary``, property names in ``filter``, ``query`` and ``sortby`` are
    resolved to their STAC names (aliases accepted) and unknown names are a 400.
    """
    if bbox is not None and intersects is not None:
        raise BadRequest("bbox and intersects are mutually exclusive: send only one")
    geom = parse_geometry(intersects) if intersects is not None else None
    parts = []
    if filter is not None and filter != "":
        parts.append(parse_filter(filter, filter_lang, filter_crs))
    if query:
        if not isinstance(query, Mapping):
            raise BadRequest("query must be an object {property: {operator: value}}")
        converted = query_to_cql2(query)
        if vocabulary is not None:
            # The Query extension has no timestamp literals: a string compared with a
            # date-time property means an instant, not text ('.' sorts before 'Z').
            converted = coerce_literals(converted, lambda p: vocabulary.all[vocabulary.resolve(p)])
        parts.append(converted)
    expr = and_all(parts)
    sort = tuple(sortby) if sortby else DEFAULT_SORT
    if vocabulary is not None:
        if expr is not None:
            for name in property_names(expr):
                vocabulary.resolve(name)
            expr = rename_properties(expr, vocabulary.resolve)
        sort = tuple(SortField(vocabulary.sortable(f.field), f.descending) for f in sort)
    return SearchQuery(
        collections=tuple(collections) if collections else None,
        ids=tuple(ids) if ids else None,
        bbox=normalize_bbox(bbox),
        intersects=intersects,
        datetime=parse_interval(datetime) if datetime else None,
        limit=limit,
        sortby=sort,
        filter=expr,
        _geometry=geom,
    )


def parse_sortby(value: str | Sequence[Any] | None) -> list[SortField] | None:
    """GET ``-datetime,+id`` or POST ``[{"field", "direction"}]`` → sort fields.

    Raises:
        BadRequest: an empty field or an unknown direction.
    """
    if value is None or value == "" or value == []:
        return None
    fields: list[SortField] = []
    entries = value.split(",") if isinstance(value, str) else list(value)
    for entry in entries:
        if isinstance(entry, str):
            text = entry.strip()
            descending = text.startswith("-")
            name = text.lstrip("+- ")
        elif isinstance(entry, Mapping):
            name = str(entry.get("field", "")).strip()
            direction = str(entry.get("direction", "asc")).lower()
            if direction not in ("asc", "desc"):
                raise BadRequest(f"sortby direction must be asc or desc, not {direction!r}")
            descending = direction == "desc"
        else:
            raise BadRequest("sortby entries are strings or {field, direction} objects")
        if not name:
            raise BadRequest("sortby has an empty field name")
        fields.append(SortField(name, descending))
    return fields
