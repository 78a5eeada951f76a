"""Satellogic Aleph V2 archive orders as the bridge sees them: pure mapping functions.

What is documented and what is assumed (the simulator makes the same assumptions):

* An archive tile is bought with ``POST /v2/orders/`` and a GeoJSON Feature whose
  ``properties.sku`` is ``ARCIMG-M.NN.NN`` (seed 000). The digits are read as
  ``<processing level>.<variant>``: the level's position in the seed's list (L1B = 02,
  L1D = 04, L1D_SR = 05) and ``00`` for the standard clipped, processed and stitched
  delivery (assumed). ``properties.parameters.outcome_id`` names the archive capture
  (``satl:outcome_id``) and the geometry is the tile's footprint, so the delivery is the
  tile (assumed parameter name).
* The bridge's reference goes in ``properties.name`` (assumed: V1 tasks had
  ``task_name``), so :func:`matches` can reconcile by it.
* Prices are per contract and unpublished: the adapter reads the contract's price per
  km² for the SKU from ``GET /v2/products/`` (an assumed endpoint) and charges the
  tile's area, measured as the simulator measures it (:func:`area_km2`).
* Status values are unpublished; the assumed order states map to the STAC Order
  extension as :data:`ORDER_STATES` says.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from bridge.core.contract import NativeOrder, OrderOptions, OrderState
from bridge.errors import BadRequest

SKU_BY_LEVEL: dict[str, str] = {
    "L1B": "ARCIMG-M.02.00",
    "L1D": "ARCIMG-M.04.00",
    "L1D_SR": "ARCIMG-M.05.00",
}
# Assumed order status -> STAC Order extension state.
ORDER_STATES: dict[str, OrderState] = {
    "created": "ordered",
    "processing": "shipping",
    "completed": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
    "cancelled": "canceled",
}
AUTHALIC_RADIUS_KM = 6371.0072
BROWSE_ASSETS = frozenset({"thumbnail", "preview"})


def sku_for(level: str) -> str:
    """The archive SKU of a processing level."""
    return SKU_BY_LEVEL[level]


def check_options(level: str, options: OrderOptions) -> OrderOptions:
    """The options with Satellogic's defaults filled in, or BadRequest.

    Licenses and seats are set by the contract, not per order; the only choice is the
    product, fixed by the item's collection (its SKU).
    """
    sku = sku_for(level)
    if options.license is not None:
        raise BadRequest(
            f"satellogic: licenses are set by the contract; valid licenses: none "
            f"(got {options.license!r})"
        )
    if options.seats is not None:
        raise BadRequest(f"satellogic: no seats are sold; valid seats: none (got {options.seats})")
    if options.bundle not in (None, sku):
        raise BadRequest(f"satellogic: invalid bundle {options.bundle!r}; valid bundles: {sku}")
    return OrderOptions(bundle=sku)


def _ring_area(ring: list[list[float]]) -> float:
    total = 0.0
    n = len(ring) - 1
    for i in range(n):
        lon_prev = ring[i - 1 if i else n - 1][0]
        total += math.radians(ring[i + 1][0] - lon_prev) * math.sin(math.radians(ring[i][1]))
    return abs(total) * AUTHALIC_RADIUS_KM**2 / 2


def area_km2(geometry: dict[str, Any]) -> float:
    """Area of a GeoJSON (Multi)Polygon on the WGS 84 authalic sphere, in km²."""
    kind = geometry.get("type")
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon") or not polygons:
        raise ValueError(f"not a polygon: {kind}")
    area = 0.0
    for rings in polygons:
        area += _ring_area(rings[0]) - sum(_ring_area(r) for r in rings[1:])
    return area


def price_cents(area: float, price_per_km2: Decimal) -> tuple[Decimal, int]:
    """Billed quantity (km², 4 decimals) and price in cents, rounded as Aleph bills."""
    quantity = Decimal(str(round(area, 4)))
    amount = (quantity * price_per_km2).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return quantity, int(amount * 100)


def decimal_cents(value: object) -> int | None:
    """``"35.94"`` (a DRF decimal string) → 3594; None when absent or unreadable."""
    try:
        return int((Decimal(str(value)) * 100).to_integral_value(ROUND_HALF_EVEN))
    except (InvalidOperation, ValueError):
        return None


def order_body(item: dict[str, Any], sku: str, reference: str) -> dict[str, Any]:
    """The ``POST /v2/orders/`` Feature for one archive tile."""
    return {
        "type": "Feature",
        "geometry": item["geometry"],
        "properties": {
            "sku": sku,
            "name": reference,
            "parameters": {"outcome_id": item["properties"]["satl:outcome_id"]},
        },
    }


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def native_order(feature: dict[str, Any], deliverables: list[dict[str, Any]]) -> NativeOrder:
    """An Orders API order (and its deliverables) → :class:`NativeOrder`.

    Raises:
        KeyError / TypeError / ValueError: an unreadable order (the caller reports it).
    """
    props = feature["properties"]
    status = str(props["status"])
    price = props.get("price") or {}
    amount = decimal_cents(price.get("amount")) if price.get("amount") is not None else None
    expiries = [t for t in (_time(d.get("expires_at")) for d in deliverables) if t is not None]
    parameters = props.get("parameters") or {}
    return NativeOrder(
        native_id=str(props["order_id"]),
        state=ORDER_STATES.get(status, "pending"),
        native_status=status,
        amount=amount,
        currency=price.get("currency") if amount is not None else None,
        expires_at=min(expiries) if expiries else None,
        reference=props.get("name"),
        details={
            "sku": props.get("sku"),
            "processing_level": props.get("processing_level"),
            "outcome_id": parameters.get("outcome_id"),
            "quantity_km2": (props.get("quantity") or {}).get("value"),
            "deliverables": [
                {k: d.get(k) for k in ("deliverable_id", "status", "sceneset_id", "expires_at")}
                for d in deliverables
            ],
        },
    )


def _same_bbox(geometry: object, bbox: list[float]) -> bool:
    if not isinstance(geometry, dict):
        return False
    try:
        points = [p for rings in _polygons(geometry) for ring in rings for p in ring]
    except (KeyError, TypeError, IndexError):
        return False
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    found = (min(xs), min(ys), max(xs), max(ys))
    return all(abs(a - b) < 1e-9 for a, b in zip(found, bbox, strict=True))


def _polygons(geometry: dict[str, Any]) -> list[Any]:
    coordinates = geometry["coordinates"]
    return [coordinates] if geometry["type"] == "Polygon" else list(coordinates)


def matches(feature: dict[str, Any], reference: str, item: dict[str, Any] | None) -> bool:
    """Whether a listed order is the bridge's (by ``name``) or buys ``item`` (by SKU,
    capture and footprint)."""
    props = feature.get("properties") or {}
    if props.get("name") == reference:
        return True
    if item is None:
        return False
    level = item["properties"].get("processing:level")
    outcome = (props.get("parameters") or {}).get("outcome_id")
    return (
        props.get("sku") == SKU_BY_LEVEL.get(str(level))
        and outcome == item["properties"].get("satl:outcome_id")
        and _same_bbox(feature.get("geometry"), item["bbox"])
    )


def pick_raster(rasters: list[dict[str, Any]], asset_key: str) -> dict[str, Any] | None:
    """The Telluric raster delivering an item asset: ``visual`` is the RGB raster,
    ``analytic`` the one with most bands (the only one for L1B)."""
    if not rasters:
        return None
    if asset_key == "visual":
        rgb = [r for r in rasters if list(r.get("bands") or []) == ["red", "green", "blue"]]
        return rgb[0] if rgb and len(rasters) > 1 else None
    if asset_key == "analytic":
        return max(rasters, key=lambda r: len(r.get("bands") or []))
    return None
