"""``POST /api/tasking/search``: validating the body and building results and errors.

Body (arlulacore ``TaskingSearchRequest.dict``): ``{start, end, gsd, offNadir, supplier?
(a list of keys), polygon | boundingBox | latLong, sort?}``; start and end are datetimes
in the future, end after start. Results (arlulacore ``TaskingSearchResult``): ``{polygon,
startDate, endDate, metrics{windowsAvailable, windowsRequired, orderArea, moq}, gsd,
supplier, orderingID, offNadir, bands, bundles, licenses, priorities, cloud, platforms,
annotations}``; failures ``errors[{type, message, supplier, platforms}]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shapely

from bridge.simulators.arlula.archive import SUPPLIERS_BY_KEY, Supplier
from bridge.simulators.arlula.offers import PONT, _coords, _square, licenses
from bridge.simulators.arlula.parse import InvalidSearch, _aoi_2023, _number
from bridge.simulators.arlula.render import iso
from bridge.simulators.arlula.search import Aoi, area_km2
from bridge.simulators.arlula.tasking import (
    DAY_S,
    TASKABLE,
    cloud_levels,
    encode_ordering_id,
    priorities,
    tasking_bundles,
)

SORT_FIELDS = {"duration", "supplier", "start", "end", "maxOffNadir", "areas.scene",
               "areas.target"}  # fmt: skip
MIN_WINDOW_S = DAY_S  # shorter windows are ``too-short`` (assumed)


@dataclass(frozen=True)
class TaskingSearch:
    """A validated tasking search."""

    start: float
    end: float
    gsd: float
    off_nadir: float | None
    suppliers: frozenset[str] | None
    aoi: Aoi
    sort_field: str | None
    ascending: bool


def _instant(value: Any, name: str, errors: list[str]) -> float | None:
    if not isinstance(value, str) or not value:
        errors.append(f"{name} is required")
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append(f"Invalid {name}: must be an RFC 3339 date-time")
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _suppliers(value: Any, errors: list[str]) -> frozenset[str] | None:
    # arlulacore sends a list of keys; a space separated string is read as in the archive.
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return frozenset(v.lower() for v in value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(v.lower() for v in value)
    errors.append("supplier must be a list of supplier keys")
    return None


def parse_search(body: Any, now: float) -> TaskingSearch:
    """Validate a tasking search body at ``now`` (unix seconds)."""
    if not isinstance(body, Mapping):
        raise InvalidSearch(["request body must be a JSON object"])
    errors: list[str] = []
    start = _instant(body.get("start"), "start", errors)
    end = _instant(body.get("end"), "end", errors)
    if start is not None and start < now:
        errors.append("Start date must be in the future")
    if start is not None and end is not None and end <= start:
        errors.append("End date must be after start date")
    gsd = _number(body.get("gsd"), "gsd", 0.1, 100000, errors)
    if body.get("gsd") is None:
        errors.append("gsd is required")
    off_nadir = _number(body.get("offNadir"), "offNadir", 0, 45, errors)
    suppliers = _suppliers(body.get("supplier"), errors)
    aoi = _aoi_2023(body, errors)
    sort = body.get("sort")
    field, ascending = None, True
    if sort is not None and not isinstance(sort, Mapping):
        errors.append("sort must be an object {field, ascending}")
    elif sort is not None and sort.get("field") in SORT_FIELDS:
        field, ascending = sort["field"], bool(sort.get("ascending", True))
    if errors or aoi is None or gsd is None or start is None or end is None:
        raise InvalidSearch(errors)
    return TaskingSearch(start, end, gsd, off_nadir, suppliers, aoi, field, ascending)


def target_polygon(aoi: Aoi, supplier: Supplier) -> tuple[list[list[list[float]]], list[str]]:
    """The AOI as a polygon inflated to the supplier's MOQ, and the annotations saying so."""
    side = math.sqrt(supplier.moq_km2) if supplier.moq_km2 > 0 else 1.0
    geom = aoi.geometry
    if aoi.kind == "point":
        return _coords(_square(geom.x, geom.y, side)), [PONT.format(moq=supplier.moq_km2)]
    if geom.geom_type != "Polygon":
        geom = geom.convex_hull
    if area_km2(geom) < supplier.moq_km2:
        c = geom.centroid
        grown = shapely.union(geom, _square(c.x, c.y, side)).convex_hull
        note = f"ENLR: Your AOI was enlarged to meet the suppliers Minimum Order Quantity of {supplier.moq_km2:g}sqkm"  # noqa: E501
        return _coords(grown), [note]
    return _coords(geom), []


def _error(kind: str, message: str, supplier: Supplier) -> dict[str, Any]:
    platforms = [p for p, _ in supplier.platforms]
    return {"type": kind, "message": message, "supplier": supplier.key, "platforms": platforms}


def supplier_answer(
    search: TaskingSearch, supplier: Supplier, max_area_km2: float, down: frozenset[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """One supplier's result or failure for ``search`` (neither: it has no such gsd)."""
    platforms = [p for p, g in supplier.platforms if g <= search.gsd]
    if not platforms:
        return None, None
    if supplier.key in down:
        return None, _error("supplier-error", "the supplier's API is unavailable", supplier)
    if search.end - search.start < MIN_WINDOW_S:
        return None, _error("too-short", "the window is shorter than one day", supplier)
    polygon, notes = target_polygon(search.aoi, supplier)
    area = area_km2(shapely.Polygon(polygon[0], polygon[1:]))
    if area > max_area_km2:
        return None, _error("too-large", f"the AOI exceeds {max_area_km2:g} sqkm", supplier)
    off_nadir = min(search.off_nadir or supplier.max_off_nadir, supplier.max_off_nadir)
    per_day = TASKABLE[supplier.key][1] * off_nadir / supplier.max_off_nadir
    available = int((search.end - search.start) / DAY_S * per_day)
    swath = supplier.width_km[1] * supplier.length_km[1]
    required = max(1, math.ceil(area / swath))
    if available < required:
        return None, _error("insufficient-los", "not enough passes in the window", supplier)
    gsd = min(g for _, g in supplier.platforms if g <= search.gsd)
    ordering = encode_ordering_id({
        "p": supplier.key, "a": polygon, "ts": search.start, "te": search.end, "g": search.gsd,
        "o": off_nadir,
    })  # fmt: skip
    bands = [{"name": n, "id": i, "min": lo, "max": hi} for n, i, lo, hi in supplier.bands]
    return {
        "polygon": polygon,
        "startDate": iso(search.start),
        "endDate": iso(search.end),
        "metrics": {
            "windowsAvailable": available,
            "windowsRequired": required,
            "orderArea": round(area, 3),
            "moq": supplier.moq_km2,
        },
        "gsd": gsd,
        "supplier": supplier.key,
        "orderingID": ordering,
        "offNadir": off_nadir,
        "bands": bands,
        "bundles": tasking_bundles(supplier, area),
        "licenses": licenses(supplier),
        "priorities": priorities(),
        "cloud": cloud_levels(),
        "platforms": platforms,
        "annotations": notes,
    }, None


def _sort_key(field: str) -> Any:
    keys = {
        "supplier": lambda r: r["supplier"],
        "maxOffNadir": lambda r: r["offNadir"],
        "areas.scene": lambda r: r["metrics"]["orderArea"],
        "areas.target": lambda r: r["metrics"]["orderArea"],
    }
    return keys.get(field, lambda r: r["startDate"])


def run_search(search: TaskingSearch, max_area_km2: float, down: frozenset[str]) -> dict[str, Any]:
    """The whole answer ``{results, errors}`` (suppliers in table order unless sorted)."""
    results, errors = [], []
    for key in TASKABLE:
        if search.suppliers is not None and key not in search.suppliers:
            continue
        result, error = supplier_answer(search, SUPPLIERS_BY_KEY[key], max_area_km2, down)
        results += [result] if result else []
        errors += [error] if error else []
    if search.sort_field is not None:
        results.sort(key=_sort_key(search.sort_field), reverse=not search.ascending)
    return {"results": results, "errors": errors}
