"""Exact evaluation of a :class:`SearchQuery` on a STAC item.

Providers evaluate what they can natively (often loosely: whole days, bounding boxes);
the core evaluates the whole query again on every item they return, so the result is
exact whatever the provider pushed down.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely import prepared
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from bridge.core.filters import CompiledFilter
from bridge.core.query import BBox, SearchQuery
from bridge.core.timeutil import parse_instant

Item = dict[str, Any]


def item_interval(item: Item) -> tuple[datetime, datetime] | None:
    """The acquisition interval of an item: start/end when given, else its datetime twice."""
    props = item.get("properties") or {}
    start = props.get("start_datetime") or props.get("datetime")
    end = props.get("end_datetime") or props.get("datetime")
    if not start or not end:
        return None
    return parse_instant(start), parse_instant(end)


def _bboxes_meet(a: BBox, b: BBox) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


class Matcher:
    """Evaluates one query on many items; prepares the query geometry once."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        geom = query.geometry
        self._geom: BaseGeometry | None = geom
        self._prepared = prepared.prep(geom) if geom is not None else None
        self._bounds: BBox | None = query.spatial_bbox
        self._ids = frozenset(query.ids) if query.ids else None
        self._collections = frozenset(query.collections) if query.collections else None
        self._filter = CompiledFilter(query.filter) if query.filter is not None else None
        self.costly = self._filter is not None or self._prepared is not None
        """Evaluating a filter or a geometry is real work; ids and dates are not."""

    def __call__(self, item: Item) -> bool:
        """True when ``item`` satisfies every constraint of the query."""
        if self._ids is not None and item.get("id") not in self._ids:
            return False
        if self._collections is not None and item.get("collection") not in self._collections:
            return False
        if self.query.datetime is not None:
            span = item_interval(item)
            if span is None or not self.query.datetime.overlaps(*span):
                return False
        if self._prepared is not None and not self._meets_geometry(item):
            return False
        return self._filter is None or self._filter(item)

    def _meets_geometry(self, item: Item) -> bool:
        item_bbox = item.get("bbox")
        if self._bounds is not None and item_bbox and len(item_bbox) >= 4:
            flat = (item_bbox[0], item_bbox[1], item_bbox[-2], item_bbox[-1])
            if len(item_bbox) == 6:
                flat = (item_bbox[0], item_bbox[1], item_bbox[3], item_bbox[4])
            if not _bboxes_meet(self._bounds, flat):
                return False
        geometry = item.get("geometry")
        if not geometry:
            return False
        assert self._prepared is not None
        return bool(self._prepared.intersects(shape(geometry)))
