"""Exact evaluation of a :class:`SearchQuery` on a STAC item.

Providers evaluate what they can natively (often loosely: whole days, bounding boxes);
the core evaluates the whole query again on every item they return, so the result is
exact whatever the provider pushed down.
"""

from __future__ import annotations

from typing import Any

from shapely import prepared
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from bridge.core.filters import CompiledFilter
from bridge.core.query import BBox, SearchQuery
from bridge.core.timeutil import instant_seconds

Item = dict[str, Any]


def _interval_seconds(item: Item) -> tuple[float, float] | None:
    """The acquisition interval in unix seconds: start/end when given, else the datetime
    twice (each text is parsed once however often it is read: see instant_seconds)."""
    props = item.get("properties") or {}
    start = props.get("start_datetime") or props.get("datetime")
    end = props.get("end_datetime") or props.get("datetime")
    if not start or not end:
        return None
    return instant_seconds(start), instant_seconds(end)


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
        interval = query.datetime
        self._after: float | None = None
        self._before: float | None = None
        if interval is not None:
            self._after = interval.start.timestamp() if interval.start else None
            self._before = interval.end.timestamp() if interval.end else None
        self._dated = interval is not None
        self._filter = CompiledFilter(query.filter) if query.filter is not None else None

    def __call__(self, item: Item) -> bool:
        """True when ``item`` satisfies every constraint of the query."""
        if self._ids is not None and item.get("id") not in self._ids:
            return False
        if self._collections is not None and item.get("collection") not in self._collections:
            return False
        if self._dated:
            span = _interval_seconds(item)
            if span is None:
                return False
            if self._after is not None and span[1] < self._after:
                return False
            if self._before is not None and span[0] > self._before:
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
