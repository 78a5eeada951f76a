"""ICEYE catalog items (v1 or v2) → STAC 1.1 items of the bridge's ICEYE collections.

Plain dict work driven by the tables in :mod:`bridge.providers.iceye.names`: the same
scene yields the same STAC item whichever API version it was read from.
"""

from __future__ import annotations

from typing import Any

from bridge.providers.iceye.names import CONSTANTS, PRODUCTS, TO_STAC, V1_ITEM_NAMES

_EXT = "https://stac-extensions.github.io"
_BASE_EXTENSIONS = [
    f"{_EXT}/sar/v1.3.0/schema.json",
    f"{_EXT}/sat/v1.2.0/schema.json",
    f"{_EXT}/view/v1.1.0/schema.json",
    f"{_EXT}/processing/v1.2.0/schema.json",
    f"{_EXT}/product/v1.0.0/schema.json",
]
# Projection v1.2.0, not v2.0.0: v2.0.0 forbids proj:epsg (additionalProperties: false), and
# v1.2.0 defines both proj:code and the proj:epsg that GDAL 3.6 reads.
_PROJECTED_EXTENSIONS = [*_BASE_EXTENSIONS, f"{_EXT}/projection/v1.2.0/schema.json"]
_ASSET_FIELDS = ("href", "title", "type", "roles")
# ICEYE's STAC items describe the raster of a data file on its asset: copied as they are,
# so the fields always describe the file the href serves.
PROJ_FIELDS = ("proj:epsg", "proj:code", "proj:shape", "proj:transform", "proj:bbox")


def v2_properties(properties: dict[str, Any], api_version: str) -> dict[str, Any]:
    """Native properties under their v2 names (v1 names renamed through the table)."""
    if api_version == "v2":
        return properties
    return {V1_ITEM_NAMES.get(name, name): value for name, value in properties.items()}


def _bbox_of(geometry: dict[str, Any]) -> list[float]:
    ring = geometry["coordinates"][0]
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return [min(xs), min(ys), max(xs), max(ys)]


def _assets(native: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {f: asset[f] for f in (*_ASSET_FIELDS, *PROJ_FIELDS) if f in asset}
        for key, asset in native.items()
        if isinstance(asset, dict) and "href" in asset
    }


def item_from_native(record: dict[str, Any], api_version: str) -> dict[str, Any] | None:
    """The STAC item of one native catalog item; None for a product type the bridge
    does not serve.

    Raises:
        KeyError, TypeError: the record lacks what every ICEYE item has (id, geometry,
            product type, start time); the adapter reports it as a bad response.
    """
    native = v2_properties(record["properties"], api_version)
    line = PRODUCTS.get(native["sar:product_type"])
    if line is None:
        return None
    props: dict[str, Any] = {}
    for name, targets in TO_STAC:
        value = native.get(name)
        if value is not None:
            for target in targets:
                props[target] = value
    if "datetime" not in props:
        raise KeyError("start_datetime")
    for name, constant in CONSTANTS.items():
        # Lists are copied: items leave the adapter and callers may change them.
        props[name] = list(constant) if isinstance(constant, list) else constant
    platform = native.get("platform")
    if isinstance(platform, str):
        props["platform"] = platform.lower()
    az, rg = native.get("iceye:azimuth_resolution"), native.get("iceye:range_resolution_center")
    if az is not None and rg is not None:
        props["gsd"] = max(az, rg)
    props["processing:level"] = line.processing_level
    geometry = record["geometry"]
    assets = _assets(record.get("assets") or {})
    projected = any("proj:code" in a or "proj:epsg" in a for a in assets.values())
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": list(_PROJECTED_EXTENSIONS if projected else _BASE_EXTENSIONS),
        "id": record["id"],
        "collection": line.collection,
        "geometry": geometry,
        "bbox": record.get("bbox") or _bbox_of(geometry),
        "properties": props,
        "links": [],
        "assets": assets,
    }
