"""What Arlula's archive search evaluates natively, over the synthetic archive.

Native semantics (seed 002 and the ``arlulacore`` SDK):

* dates are whole days: ``start`` alone means that one day, ``start``..``end`` both inclusive;
* ``gsd`` / ``res`` is a maximum: "imagery of this resolution or greater (finer)";
* ``cloud`` and ``offNadir`` are maxima (the SDK says "less than"; equality is kept here,
  unconfirmed), ``supplier`` a space-separated list matched case-insensitively;
* the area of interest: a scene is returned when its footprint intersects the bounding
  box or polygon, or contains the point. That scenes are dropped when they do not touch
  the area is implied by the overlap object (area, percent) every result carries.

The overlap and the minimum-order enlargement that decide each result's price are in
:mod:`bridge.simulators.arlula.offers`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from bridge.simulators.arlula.archive import Archive

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
_DAY_S = 86400.0

# Native sort fields (the SDK's ArchiveSearchSortFields) → how to read them from a result.
SORT_FIELDS = (
    "sceneID",
    "supplier",
    "date",
    "cloud",
    "offNadir",
    "gsd",
    "area",
    "overlap",
    "overlap.area",
    "overlap.percent",
    "fulfillment",
)


@dataclass(frozen=True)
class Aoi:
    """The area of interest of a search: a point, a bounding box or a polygon."""

    kind: str  # "point" | "box" | "polygon"
    geometry: BaseGeometry

    @property
    def area_km2(self) -> float:
        """Area of the search (0 for a point)."""
        return area_km2(self.geometry)


@dataclass(frozen=True)
class NativeSearch:
    """A validated native search, whichever API generation it came from."""

    start: date
    end: date
    max_gsd: float
    aoi: Aoi
    max_cloud: float | None = None
    max_off_nadir: float | None = None
    suppliers: frozenset[str] | None = None
    sort_field: str = "date"
    ascending: bool = False  # no sort given: newest first (assumed)


def area_km2(geom: BaseGeometry, lat: float | None = None) -> float:
    """Approximate area in km² of a small lon/lat geometry (equirectangular at ``lat``,
    by default its centroid's latitude)."""
    if geom.is_empty:
        return 0.0
    if lat is None:
        lat = geom.centroid.y
    scale = KM_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(lat)), 1e-6) * KM_PER_DEG_LAT
    return float(geom.area) * scale


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def matching_indices(archive: Archive, search: NativeSearch) -> list[int]:
    """Indices of the scenes the native API returns for ``search`` (unsorted)."""
    if not archive.scenes:
        return []
    t0, t1 = _epoch(search.start), _epoch(search.end) + _DAY_S
    west, south, east, north = search.aoi.geometry.bounds
    b = archive.bboxes
    mask = (archive.times >= t0) & (archive.times < t1)
    mask &= (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
    candidates = np.nonzero(mask)[0]
    if candidates.size == 0:
        return []
    exact = shapely.intersects(archive.footprints[candidates], search.aoi.geometry)
    out = []
    for i in candidates[exact].tolist():
        scene = archive.scenes[i]
        if scene["gsd"] > search.max_gsd:
            continue
        if search.max_cloud is not None and scene["cloud"] > search.max_cloud:
            continue
        if search.max_off_nadir is not None and scene["offNadir"] > search.max_off_nadir:
            continue
        if search.suppliers is not None and scene["supplier"] not in search.suppliers:
            continue
        out.append(i)
    return out


def _sort_value(result: dict[str, Any], field: str) -> Any:
    if field == "overlap":
        field = "overlap.area"
    if field.startswith("overlap."):
        value = result["overlap"][field.split(".", 1)[1]]
        return value["scene"] if isinstance(value, dict) else value
    if field == "fulfillment":
        return result.get("fulfillmentTime", result.get("fulfillment"))
    if field == "date":
        return result["date"]  # same format everywhere, so text order is time order
    if field == "gsd":
        return result.get("gsd", result.get("resolution"))
    return result.get(field)


def sort_results(results: list[dict[str, Any]], field: str, ascending: bool) -> None:
    """Sort native results in place by one native sort field (ties by sceneID)."""
    results.sort(key=lambda r: r["sceneID"])
    results.sort(key=lambda r: _sort_value(r, field), reverse=not ascending)
