"""What one search result offers: the overlap with the search, its price, its annotations.

From version 2020-12 every result is priced for the searched area of interest (AOI),
enlarged to the supplier's minimum order quantity (MOQ) when smaller (seed 002): a point
search becomes a square of the MOQ centred on the point (``PONT``), a too-small
intersection is inflated (``ENLR``), an AOI covering the whole scene is priced as the
scene (``COVR``), and suppliers that sell whole scenes only are priced for the scene
(``NAOI``). The annotation texts are the seed's; prices are in US cents, rounded up to a
whole dollar (as the SDK's ``calculate_price`` rounds).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from bridge.simulators.arlula.archive import FREE_LICENSES, LICENSES, SUPPLIERS_BY_KEY, Supplier
from bridge.simulators.arlula.search import (
    KM_PER_DEG_LAT,
    KM_PER_DEG_LON_EQUATOR,
    Aoi,
    area_km2,
)

LICENSE_BASE = "https://api.arlula.com/licenses"  # assumed location of the license texts

PONT = "PONT: Your Point search was enlarged to an area centered on your search to meet the suppliers Minimum Order Quantity of {moq:g}sqkm"  # noqa: E501
ENLR = "ENLR: The intersection of your search area and this scene was less than the suppliers minimum order of {moq:g}sqkm, the AOI was enlarged to meet the minimum order"  # noqa: E501
NAOI = "NAOI: This supplier does not support AOI imagery ordering"
COVR = "COVR: Your AOI covers this whole scene. Pricing is for the whole scene"


@dataclass(frozen=True)
class Offer:
    """The priced overlap of one scene with one search."""

    overlap: dict[str, Any]
    ordered_km2: float
    scene_km2: float
    annotations: list[str]
    ordering_id: str


def _square(lon: float, lat: float, side_km: float) -> Polygon:
    half_x = side_km / 2 / (KM_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(lat)), 1e-6))
    half_y = side_km / 2 / KM_PER_DEG_LAT
    return box(lon - half_x, lat - half_y, lon + half_x, lat + half_y)


def _as_polygon(geom: BaseGeometry, fallback: BaseGeometry) -> BaseGeometry:
    if geom.geom_type != "Polygon":
        geom = geom.convex_hull
    return geom if geom.geom_type == "Polygon" and not geom.is_empty else fallback


def _coords(geom: BaseGeometry) -> list[list[list[float]]]:
    rings = [geom.exterior, *geom.interiors]
    return [np.round(shapely.get_coordinates(ring), 6).tolist() for ring in rings]


def ordering_id(scene_id: str, supplier: str, polygon: list[list[list[float]]]) -> str:
    """An opaque ordering id naming the scene and the ordered polygon (decodable later)."""
    raw = orjson.dumps({"s": scene_id, "p": supplier, "a": polygon})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_ordering_id(value: str) -> dict[str, Any] | None:
    """The scene, supplier and polygon an ordering id names; None when it is not one."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and {"s", "p", "a"} <= data.keys() else None


def make_offer(scene: dict[str, Any], footprint: BaseGeometry, scene_km2: float, aoi: Aoi) -> Offer:
    """Overlap, ordered area and annotations of ``scene`` for a search over ``aoi``."""
    supplier = SUPPLIERS_BY_KEY[scene["supplier"]]
    lat = scene["center"]["lat"]
    side = math.sqrt(supplier.moq_km2) if supplier.moq_km2 > 0 else 1.0
    annotations: list[str] = []
    polygon: list[list[list[float]]] | None = None
    if aoi.kind == "point":
        pt = aoi.geometry
        overlap = _as_polygon(shapely.intersection(_square(pt.x, pt.y, side), footprint), footprint)
        if supplier.aoi:
            annotations.append(PONT.format(moq=supplier.moq_km2))
        overlap_km2 = area_km2(overlap, lat)
        search_pct = -1.0
    else:
        w, s, e, n = aoi.geometry.bounds
        fw, fs, fe, fn = scene["bbox"]
        if aoi.kind == "box" and w <= fw and s <= fs and e >= fe and n >= fn:
            # The box holds the whole scene: skip the geometry work (wide searches).
            overlap, overlap_km2, polygon = footprint, scene_km2, scene["bounding"]
        else:
            overlap = _as_polygon(shapely.intersection(footprint, aoi.geometry), footprint)
            overlap_km2 = area_km2(overlap, lat)
        if supplier.aoi and overlap_km2 >= 0.999 * scene_km2:
            annotations.append(COVR)
        elif supplier.aoi and overlap_km2 < supplier.moq_km2:
            c = overlap.centroid
            grown = shapely.intersection(shapely.union(overlap, _square(c.x, c.y, side)), footprint)
            overlap = _as_polygon(grown, footprint)
            overlap_km2 = area_km2(overlap, lat)
            polygon = None
            annotations.append(ENLR.format(moq=supplier.moq_km2))
        search_km2 = aoi.area_km2
        search_pct = round(overlap_km2 / search_km2 * 100, 2) if search_km2 > 0 else -1.0
    if not supplier.aoi:
        annotations.append(NAOI)
    whole_scene = not supplier.aoi or COVR in annotations
    ordered = scene_km2 if whole_scene else max(overlap_km2, supplier.moq_km2)
    polygon = polygon if polygon is not None else _coords(overlap)
    return Offer(
        overlap={
            "area": round(overlap_km2, 3),
            "percent": {"scene": round(overlap_km2 / scene_km2 * 100, 2), "search": search_pct},
            "polygon": polygon,
        },
        ordered_km2=ordered,
        scene_km2=scene_km2,
        annotations=annotations,
        ordering_id=ordering_id(scene["sceneID"], supplier.key, polygon),
    )


def _dollars(cents: float) -> int:
    return int(math.ceil(cents / 100) * 100)


def bundles(supplier: Supplier, ordered_km2: float) -> list[dict[str, Any]]:
    """The bundles a scene is sold in, priced in US cents for ``ordered_km2``."""
    base = ordered_km2 * supplier.cents_per_km2
    return [
        {"name": name, "key": key, "bands": list(bands), "price": _dollars(base * factor)}
        for name, key, bands, factor in supplier.bundles
    ]


def licenses(supplier: Supplier) -> list[dict[str, Any]]:
    """The license options of ``supplier`` (free suppliers have one open license)."""
    table = LICENSES if supplier.cents_per_km2 else FREE_LICENSES
    return [
        {
            "name": name,
            "href": f"{LICENSE_BASE}/{supplier.key}/{slug}",
            "loadingPercent": pct,
            "loadingAmount": amount,
        }
        for name, slug, pct, amount in table
    ]


def seats_price(base: int) -> dict[str, Any]:
    """The 2020-12 price object: a base price and per-seat-range additions (seed 002)."""
    if base == 0:
        return {"base": 0, "seats": []}
    return {
        "base": base,
        "seats": [
            {"min": 1, "max": 1, "additional": 0},
            {"min": 2, "max": 5, "additional": _dollars(base * 0.5)},
            {"min": 6, "max": 0, "additional": _dollars(base * 1.0)},
        ],
    }


def ordered_km2(scene: dict[str, Any], scene_km2: float, polygon: list[list[list[float]]]) -> float:
    """The area an order of ``polygon`` (from an ordering id) is priced for, as
    :func:`make_offer` priced it: the whole scene, or the AOI grown to the MOQ."""
    supplier = SUPPLIERS_BY_KEY[scene["supplier"]]
    if not supplier.aoi or polygon == scene["bounding"]:
        return scene_km2
    aoi = area_km2(Polygon(polygon[0], polygon[1:]), scene["center"]["lat"])
    return scene_km2 if aoi >= 0.999 * scene_km2 else max(aoi, supplier.moq_km2)


def licensed_price(bundle_cents: int, license: dict[str, Any]) -> int:
    """A bundle's price under a license, in US cents rounded up to a dollar (the formula
    of the SDK's ``calculate_price``: price * (1 + loading %) + loading amount)."""
    return _dollars(bundle_cents * (1 + license["loadingPercent"] / 100) + license["loadingAmount"])


def seats_total(price: dict[str, Any], seats: int) -> int | None:
    """A 2020-12 price object's total for ``seats``: base + the one matching range's
    ``additional`` (seed 002: "do not aggregate"); None when no range admits ``seats``."""
    if not price["seats"]:
        return int(price["base"])
    for tier in price["seats"]:
        if tier["min"] <= seats and (tier["max"] == 0 or seats <= tier["max"]):
            return int(price["base"] + tier["additional"])
    return None
