"""Reading native search requests (2023-01 JSON bodies, 2020-12 query strings).

Both become one :class:`NativeSearch`; what is invalid raises :class:`InvalidSearch` with
every problem found, which the routes turn into each generation's error response.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import shapely
from shapely.geometry import Point, Polygon, box

from bridge.simulators.arlula.search import SORT_FIELDS, Aoi, NativeSearch

# 2020-12 resolution labels (seed 002) as the maximum gsd each admits, the way the
# SDKs read them (veryHigh 0.5, high 1, medium 5, low 20, veryLow "everything").
RES_LABELS = {
    "very high": 0.5,
    "vhigh": 0.5,
    "high": 1.0,
    "medium": 5.0,
    "med": 5.0,
    "low": 20.0,
    "very low": 100000.0,
    "vlow": 100000.0,
}


class InvalidSearch(ValueError):
    """A search request the native API rejects."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _number(value: Any, name: str, lo: float, hi: float, errors: list[str]) -> float | None:
    if value is None:
        return None
    try:
        num = float(value)
    except (TypeError, ValueError):
        errors.append(f"{name} must be a number")
        return None
    if isinstance(value, bool) or not math.isfinite(num) or not lo <= num <= hi:
        errors.append(f"Invalid {name}: must be a number between {lo:g} and {hi:g}")
        return None
    return num


def _day(value: Any, name: str, errors: list[str]) -> date | None:
    # A day (arlulacore sends str(date)); node SDK 3 sends a JSON Date, i.e. an RFC 3339
    # instant, whose UTC day is taken (assumed).
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).date()
    except ValueError:
        errors.append(f"{name} must be a date in YYYY-MM-DD format")
        return None


def _dates(start_raw: Any, end_raw: Any, errors: list[str], today: date) -> tuple[date, date]:
    # Texts as the node SDK's e2e tests expect them (e2e/archive/search-tests.ts).
    if start_raw is None:
        errors.append("start is required")
    start = _day(start_raw, "start", errors)
    end = _day(end_raw, "end", errors)
    if start and start > today:
        errors.append("Start date must be in the past")
    if start and end and end < start:
        errors.append("End date must be after start date")
    fallback = date(1970, 1, 1)
    return start or fallback, end or start or fallback


def _bbox(north: Any, south: Any, east: Any, west: Any, errors: list[str]) -> Aoi | None:
    n = _number(north, "north", -90, 90, errors)
    s = _number(south, "south", -90, 90, errors)
    e = _number(east, "east", -180, 180, errors)
    w = _number(west, "west", -180, 180, errors)
    if n is None or s is None or e is None or w is None:
        return None
    if s > n or w > e:
        errors.append("bounding box must have south <= north and west <= east")
        return None
    geom = box(w, s, e, n)
    if geom.area == 0:  # a degenerate box is a line or a point: intersect with that
        geom = shapely.envelope(shapely.MultiPoint([(w, s), (e, n)]))
    return Aoi("box", geom)


def _point(lat: Any, lon: Any, errors: list[str]) -> Aoi | None:
    if lat is None or lon is None:
        errors.append("a point needs both latitude and longitude")
        return None
    la = _number(lat, "latitude", -90, 90, errors)
    lo = _number(lon, "longitude", -180, 180, errors)
    return Aoi("point", Point(lo, la)) if la is not None and lo is not None else None


def _polygon(value: Any, errors: list[str]) -> Aoi | None:
    # The SDK sends GeoJSON-style rings [[[lon, lat], ...]]; later SDKs also allow WKT.
    try:
        geom = shapely.from_wkt(value) if isinstance(value, str) else Polygon(value[0], value[1:])
    except (TypeError, ValueError, IndexError, shapely.errors.ShapelyError):
        errors.append("polygon must be a list of [longitude, latitude] rings or WKT")
        return None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
        errors.append("polygon must be a valid polygon")
        return None
    return Aoi("polygon", geom)


def _suppliers(value: Any, errors: list[str]) -> frozenset[str] | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append("supplier must be a string of space separated supplier keys")
        return None
    return frozenset(v.lower() for v in value.split())


def _aoi_2023(body: Mapping[str, Any], errors: list[str]) -> Aoi | None:
    # Precedence when several are sent mirrors the SDK's (polygon, box, point); unconfirmed.
    if body.get("polygon") is not None:
        return _polygon(body["polygon"], errors)
    bb = body.get("boundingBox")
    if isinstance(bb, Mapping):
        return _bbox(bb.get("north"), bb.get("south"), bb.get("east"), bb.get("west"), errors)
    ll = body.get("latLong")
    if isinstance(ll, Mapping):
        return _point(ll.get("latitude"), ll.get("longitude"), errors)
    errors.append("one of polygon, boundingBox or latLong is required")
    return None


def search_2023(body: Any, today: date) -> NativeSearch:
    """Validate a 2023-01 ``POST /api/archive/search`` body (``today``: the UTC day)."""
    if not isinstance(body, Mapping):
        raise InvalidSearch(["request body must be a JSON object"])
    errors: list[str] = []
    # arlulacore sends start/end; node SDK 3 (search-request.ts) sends startDate/endDate.
    start_raw = body.get("start", body.get("startDate"))
    start, end = _dates(start_raw, body.get("end", body.get("endDate")), errors, today)
    gsd = _number(body.get("gsd"), "gsd", 0.1, 100000, errors)
    if body.get("gsd") is None:
        errors.append("gsd is required")
    cloud = _number(body.get("cloud"), "cloud", 0, 100, errors)
    off_nadir = _number(body.get("offNadir"), "offNadir", 0, 45, errors)
    suppliers = _suppliers(body.get("supplier"), errors)
    aoi = _aoi_2023(body, errors)
    sort = body.get("sort")
    field, ascending = "date", False
    if sort is not None and not isinstance(sort, Mapping):
        errors.append("sort must be an object {field, ascending}")
    elif sort is not None and sort.get("field") in SORT_FIELDS:
        field, ascending = sort["field"], bool(sort.get("ascending", False))
    # An unknown sort.field is ignored (the default order), not refused: the node SDK's
    # sort() takes any string and its e2e tests expect no error for a sorted search.
    if errors or aoi is None or gsd is None:
        raise InvalidSearch(errors)
    return NativeSearch(start, end, gsd, aoi, cloud, off_nadir, suppliers, field, ascending)


def search_2020(params: Mapping[str, str], today: date) -> NativeSearch:
    """Validate 2020-12 ``GET /api/search`` query parameters (``today``: the UTC day)."""
    errors: list[str] = []
    start, end = _dates(params.get("start"), params.get("end"), errors, today)
    res_raw = params.get("res")
    res: float | None = None
    if res_raw is None:
        errors.append("res is required")
    elif res_raw.strip().lower() in RES_LABELS:
        res = RES_LABELS[res_raw.strip().lower()]
    else:
        res = _number(res_raw, "res", 0.1, 100000, errors)
    aoi: Aoi | None
    if "lat" in params or "long" in params:  # the seed: a point takes priority over a box
        aoi = _point(params.get("lat"), params.get("long"), errors)
    elif any(k in params for k in ("north", "south", "east", "west")):
        if not all(k in params for k in ("north", "south", "east", "west")):
            errors.append("all 4 of north, south, east and west are required for a bounding box")
            aoi = None
        else:
            aoi = _bbox(params["north"], params["south"], params["east"], params["west"], errors)
    else:
        errors.append("a point of interest (lat, long) or a bounding box is required")
        aoi = None
    if errors or aoi is None or res is None:
        raise InvalidSearch(errors)
    return NativeSearch(start, end, res, aoi)
