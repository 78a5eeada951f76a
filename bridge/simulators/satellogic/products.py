"""What the simulated contracts sell: archive SKUs, their rasters, prices, and clipping.

**SKUs** (seed 000: archive imagery is ordered with ``ARCIMG-M.NN.NN``; the meaning of
the digits is not published). Assumed here: the first pair is the processing level's
position in the seed's list of levels (``L0`` = 00, ``L1A`` = 01, ``L1B`` = 02, ``L1C`` =
03, ``L1D`` = 04, ``L1D_SR`` = 05) and the second pair the delivery variant, ``00`` being
the standard one (clipped, processed and stitched Cloud-Optimized GeoTIFFs). The archive
sells the levels it has collections for: L1B (the quick-view visual product), L1D and
L1D_SR. Any capture can be ordered at any of them ("order any processing level").

**Prices** are per contract and unpublished ("price for delivered quantities"). Assumed:
a price per km² of the clipped area, listed per SKU by ``GET /v2/products/`` (an endpoint
the simulator assumes, after V1's ``GET /tasking/products/``). The order charges
``round(quantity_km2 * price_per_km2)`` with the quantity rounded to 4 decimals.

**Areas** are measured on the WGS 84 authalic sphere (R = 6371.0072 km) with the
spherical polygon formula, exact for the lon/lat rectangles archive tiles are.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from bridge.simulators.common.cog import PixelSpec
from bridge.simulators.satellogic.archive import L1D, L1D_SR, QUICKVIEW, QUICKVIEW_THUMB

LEVELS = ("L0", "L1A", "L1B", "L1C", "L1D", "L1D_SR")  # seed 000, in order
SKU_PATTERN = re.compile(r"^ARCIMG-M\.(\d{2})\.(\d{2})$")
PRODUCT_NAME = "Archive Imagery"  # the product table of the Orders API introduction
CURRENCY = "USD"
AUTHALIC_RADIUS_KM = 6371.0072

RGB = ("red", "green", "blue")
MS = ("blue", "green", "red", "nir")


@dataclass(frozen=True)
class Raster:
    """One raster file of a delivered scene (Telluric ``rasters[]``)."""

    suffix: str
    """File name suffix, after the scene id (``..._MS.tif``, as in seed 004)."""
    bands: tuple[str, ...]
    spec: PixelSpec


@dataclass(frozen=True)
class Product:
    """One archive SKU of the simulated contracts."""

    sku: str
    level: str
    title: str
    collection: str
    """The native archive collection of this level: a contract must see it to buy it."""
    price_per_km2: Decimal
    rasters: tuple[Raster, ...]


_VISUAL = Raster("VIS", RGB, PixelSpec("optical", 3, "uint8"))
_MULTISPECTRAL = Raster("MS", MS, PixelSpec("optical", 4, "uint16"))

PRODUCTS: dict[str, Product] = {
    p.sku: p
    for p in (
        Product("ARCIMG-M.02.00", "L1B", "L1B quick-view visual", QUICKVIEW, Decimal("8.00"),
                (_VISUAL,)),
        Product("ARCIMG-M.04.00", "L1D", "L1D orthorectified", L1D, Decimal("12.00"),
                (_MULTISPECTRAL, _VISUAL)),
        Product("ARCIMG-M.05.00", "L1D_SR", "L1D super-resolved", L1D_SR, Decimal("18.00"),
                (_MULTISPECTRAL, _VISUAL)),
    )
}  # fmt: skip
PRODUCT_BY_COLLECTION: dict[str, Product] = {p.collection: p for p in PRODUCTS.values()}
PRODUCT_BY_COLLECTION[QUICKVIEW_THUMB] = PRODUCT_BY_COLLECTION[QUICKVIEW]


class InvalidSku(ValueError):
    """A SKU that is malformed or not sold (the message says which)."""


def product_for_sku(sku: object) -> Product:
    """The archive product a SKU names, or :class:`InvalidSku`."""
    if not isinstance(sku, str) or not SKU_PATTERN.match(sku):
        raise InvalidSku(f"'{sku}' is not a valid archive SKU (ARCIMG-M.NN.NN).")
    product = PRODUCTS.get(sku)
    if product is None:
        valid = ", ".join(sorted(PRODUCTS))
        raise InvalidSku(f"SKU {sku} is not available for archive orders; valid: {valid}.")
    return product


def product_json(product: Product) -> dict[str, Any]:
    """A ``GET /v2/products/`` entry (assumed shape)."""
    return {
        "sku": product.sku,
        "product_name": PRODUCT_NAME,
        "description": product.title,
        "processing_level": product.level,
        "geometry_type": "Polygon",
        "unit": "km2",
        "price_per_unit": {"amount": str(product.price_per_km2), "currency": CURRENCY},
    }


def ring_area_km2(ring: list[tuple[float, float]] | list[list[float]]) -> float:
    """Area of a closed lon/lat ring on the authalic sphere (Chamberlain & Duquette)."""
    total = 0.0
    n = len(ring) - 1  # the last point repeats the first
    for i in range(n):
        lon_prev = ring[i - 1 if i else n - 1][0]
        lon_next = ring[i + 1][0]
        total += math.radians(lon_next - lon_prev) * math.sin(math.radians(ring[i][1]))
    return abs(total) * AUTHALIC_RADIUS_KM**2 / 2


def area_km2(geometry: BaseGeometry) -> float:
    """Area of a shapely (Multi)Polygon in lon/lat degrees, in km²."""
    polygons = getattr(geometry, "geoms", [geometry])
    area = 0.0
    for polygon in polygons:
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        area += ring_area_km2(list(polygon.exterior.coords))
        area -= sum(ring_area_km2(list(r.coords)) for r in polygon.interiors)
    return area


def quantity_and_price(area: float, product: Product) -> tuple[Decimal, Decimal]:
    """The billed quantity (km², 4 decimals) and its price (2 decimals)."""
    quantity = Decimal(str(round(area, 4)))
    price = (quantity * product.price_per_km2).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return quantity, price


def parse_polygon(geometry: object) -> BaseGeometry:
    """The request's GeoJSON (Multi)Polygon as shapely, or ValueError."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("Archive orders need a Polygon or MultiPolygon geometry.")
    try:
        parsed = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"Invalid geometry: {exc}") from exc
    if parsed.is_empty or not parsed.is_valid:
        raise ValueError("Invalid geometry: empty or self-intersecting.")
    return parsed


def clip(
    requested: BaseGeometry, cells: list[tuple[str, tuple[float, float, float, float]]]
) -> tuple[list[str], tuple[float, float, float, float], float]:
    """Clip the requested polygon to a capture's tiles.

    Returns the ids of the tiles it covers with positive area, the bbox of the clipped
    part and its area (km²). A tile the polygon covers entirely contributes its own bbox
    unchanged (no float noise from the intersection), so ordering a tile by its own
    footprint delivers exactly that footprint.
    """
    ids: list[str] = []
    bounds: list[tuple[float, float, float, float]] = []
    area = 0.0
    for tile_id, bbox in cells:
        tile = box(*bbox)
        if requested.covers(tile):
            part: BaseGeometry = tile
            part_bounds = bbox
        else:
            part = requested.intersection(tile)
            if part.is_empty or area_km2(part) < 1e-6:
                continue  # touching edges or a sliver: not delivered
            part_bounds = tuple(part.bounds)
        ids.append(tile_id)
        bounds.append(part_bounds)
        area += area_km2(part)
    if not ids:
        return [], (0.0, 0.0, 0.0, 0.0), 0.0
    west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
    east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
    return ids, (west, south, east, north), area
