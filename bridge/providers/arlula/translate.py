"""STAC search → Arlula native search request (pure functions).

What is pushed down, and how it is loosened so the native result is a superset:

* ``datetime`` → whole UTC days ``start``/``end`` (Arlula compares dates, not instants);
  an open start becomes :data:`~.names.EARLIEST_DAY`, an open end the day after ``today``.
* ``bbox`` / ``intersects`` → the **bounding box** of the geometry, grown by
  :data:`~.names.SCENE_MARGIN_KM` so every scene meeting it is priced whole. The 2023-01
  API takes a polygon too, but its wire format is unconfirmed (the SDK has sent both
  coordinate rings and WKT) and it would cut each result's price to the polygon; the box
  is a superset and the bridge evaluates the exact geometry.
* ``collections`` → the largest ``gsd`` maximum among the requested resolution classes
  (lower class bounds are applied by the adapter).
* filter terms ANDed at the top level: ``eo:cloud_cover``, ``view:off_nadir``, ``gsd``
  upper bounds (``<``, ``<=``, ``=``) → ``cloud``, ``offNadir``, ``gsd``; ``arlula:supplier``
  ``=``/``in`` → ``supplier`` (space separated). 2020-12 has only ``res`` (the gsd).
* ``sortby`` → ``sort{field, ascending}`` when the first key has a native field (2023-01
  only); the adapter still sorts the whole result with the bridge's key.
* ``ids`` → not searchable natively; see :func:`lookup_request` (ids encode a point and a day).

Requests are plain JSON-safe dicts ``{"method", "path", "json" | "params"}`` so they can
ride in a cursor and key a cache.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from typing import Any

from bridge.core.filters import conjuncts, simple_comparison
from bridge.core.query import SearchQuery
from bridge.providers.arlula.ids import SceneRef
from bridge.providers.arlula.names import (
    EARLIEST_DAY,
    GSD_CLASSES,
    MAXIMA,
    MIN_NATIVE_GSD,
    SCENE_MARGIN_KM,
    SEARCH_ENDPOINTS,
    SORT_FIELDS,
)

NativeRequest = dict[str, Any]
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON = 111.320


def max_gsd(collections: Sequence[str]) -> float:
    """The native ``gsd`` maximum that covers every one of ``collections``."""
    return max(GSD_CLASSES[c][1] for c in collections)


def _days(query: SearchQuery, today: date) -> tuple[str, str]:
    interval = query.datetime
    open_end = (today + timedelta(days=1)).isoformat()
    if interval is None:
        return EARLIEST_DAY, open_end
    start = interval.start.astimezone(UTC).date().isoformat() if interval.start else EARLIEST_DAY
    end = interval.end.astimezone(UTC).date().isoformat() if interval.end else open_end
    return start, end


def grown_box(west: float, south: float, east: float, north: float) -> dict[str, float]:
    """The native ``boundingBox`` for a query box: grown by the scene margin, clamped."""
    dlat = SCENE_MARGIN_KM / _KM_PER_DEG_LAT
    top = min(max(abs(south), abs(north)) + dlat, 89.0)
    dlon = SCENE_MARGIN_KM / (_KM_PER_DEG_LON * math.cos(math.radians(top)))
    return {
        "north": round(min(north + dlat, 90.0), 6),
        "south": round(max(south - dlat, -90.0), 6),
        "east": round(min(east + dlon, 180.0), 6),
        "west": round(max(west - dlon, -180.0), 6),
    }


def _upper_bound(op: str, literal: Any, limit: float) -> float | None:
    """A native maximum admitting every value ``op literal`` admits, or None.

    ``< x`` pushes ``x``; ``<= x`` and ``= x`` push the next float above ``x``, so a scene at
    exactly ``x`` passes whether the native test is ``<`` or ``<=``. Bounds outside what
    the native API accepts are not pushed (the native result stays a superset).
    """
    if op not in ("<", "<=", "=") or isinstance(literal, bool):
        return None
    if not isinstance(literal, int | float):
        return None
    bound = float(literal) if op == "<" else math.nextafter(float(literal), math.inf)
    return bound if 0 <= bound <= limit else None


def _suppliers(op: str, literal: Any) -> set[str] | None:
    values = [literal] if op == "=" else literal if op == "in" else None
    if not values or not all(isinstance(v, str) and v and not v.split()[1:] for v in values):
        return None
    return {v.lower() for v in values}


def filter_pushdown(expr: Any) -> dict[str, Any]:
    """Native search fields (2023-01 names) for the pushable top-level AND terms."""
    out: dict[str, Any] = {}
    suppliers: set[str] | None = None
    for term in conjuncts(expr):
        comparison = simple_comparison(term)
        if comparison is None:
            continue
        name, op, literal = comparison
        if name in MAXIMA:
            native, limit = MAXIMA[name]
            bound = _upper_bound(op, literal, limit)
            if bound is not None:
                out[native] = min(bound, out.get(native, math.inf))
        elif name == "arlula:supplier":
            found = _suppliers(op, literal)
            if found is not None:
                suppliers = found if suppliers is None else suppliers & found
    if suppliers is not None:
        # An empty intersection matches nothing; any one supplier keeps that superset.
        out["supplier"] = " ".join(sorted(suppliers)) or "none"
    return out


def _build(
    api_version: str, start: str, end: str, box: dict[str, float], fields: dict[str, Any]
) -> NativeRequest:
    method, path = SEARCH_ENDPOINTS[api_version]
    if api_version == "2023-01":
        body: dict[str, Any] = {"start": start, "end": end, "boundingBox": box, **fields}
        return {"method": method, "path": path, "json": body}
    # 2020-12: query parameters (only the resolution of the fields exists there); numbers
    # as repr() so no digit is lost.
    params = {"start": start, "end": end, "res": repr(fields["gsd"])}
    params.update({k: repr(v) for k, v in box.items()})
    return {"method": method, "path": path, "params": params}


def to_native_query(
    query: SearchQuery, *, api_version: str, collections: Sequence[str], today: date
) -> NativeRequest:
    """The native search selecting a superset of ``query`` within ``collections``.

    Args:
        query: the STAC search.
        api_version: ``"2023-01"`` or ``"2020-12"``.
        collections: the bridge collections searched (non-empty).
        today: the current UTC day, bounding an open-ended interval.
    """
    start, end = _days(query, today)
    bounds = query.spatial_bbox or (-180.0, -90.0, 180.0, 90.0)
    fields = filter_pushdown(query.filter)
    gsd = min(max_gsd(collections), fields.get("gsd", math.inf))
    fields["gsd"] = max(gsd, MIN_NATIVE_GSD)
    first = query.sortby[0] if query.sortby else None
    if first is not None and first.field in SORT_FIELDS:
        fields["sort"] = {"field": SORT_FIELDS[first.field], "ascending": not first.descending}
    return _build(api_version, start, end, grown_box(*bounds), dict(sorted(fields.items())))


def lookup_request(ref: SceneRef, *, api_version: str, collections: Sequence[str]) -> NativeRequest:
    """A narrow native search finding the scene ``ref`` names: its day, the box around its
    centre (grown like any search, so it is priced the same) and (2023-01) its supplier."""
    box = grown_box(ref.lon, ref.lat, ref.lon, ref.lat)
    fields = {"gsd": max_gsd(collections), "supplier": ref.supplier}
    return _build(api_version, ref.day, ref.day, box, fields)
