"""Capella native catalog record -> STAC 1.1 item (a pure function, golden-tested).

Capella items are already STAC-like (STAC 1.0 with sar, sat, view and proj fields), so
mapping is a cheap pass over the properties: rename what is not a valid extension field,
drop Capella's local-time helpers, and add the cross-provider fields (``product:type``,
``processing:level``, ``gsd``, ``proj:code``).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape

from bridge.providers.capella.names import (
    BRIDGE_COLLECTIONS,
    COLLECTION_BY_PRODUCT,
    COMMON_METADATA,
    DROPPED,
    EXTENSIONS,
    EXTENSIONS_GEOCODED,
    PROCESSING_LEVEL,
    RENAMED,
)

Item = dict[str, Any]

_ASSET_FIELDS = ("href", "title", "description", "type", "roles")
_ROLES_BY_KEY = {
    "thumbnail": ["thumbnail"],
    "preview": ["overview"],
    "metadata": ["metadata"],
}


def bridge_collection(record: dict[str, Any]) -> str | None:
    """The bridge collection of a native record: by native collection, else product type."""
    native = BRIDGE_COLLECTIONS.get(record.get("collection") or "")
    if native is not None:
        return native
    product = (record.get("properties") or {}).get("sar:product_type")
    return COLLECTION_BY_PRODUCT.get(product) if isinstance(product, str) else None


_POLARIZATIONS = frozenset({"HH", "HV", "VH", "VV"})


def _polarizations(key: str, item_pols: Any) -> list[str] | None:
    """The polarizations a data asset holds: its key when that names one (Capella names
    data assets ``HH``/``VV``), else the item's, so loaders pick bands by polarization."""
    if key.upper() in _POLARIZATIONS:
        return [key.upper()]
    if isinstance(item_pols, list) and all(isinstance(p, str) for p in item_pols):
        return list(item_pols)
    return None


def _assets(
    native: dict[str, Any] | None, raster: dict[str, Any], item_pols: Any = None
) -> dict[str, Any]:
    """Asset descriptions; on data assets, ``raster`` (``proj:*`` of the image grid) and
    ``sar:polarizations``."""
    assets: dict[str, Any] = {}
    for key, asset in (native or {}).items():
        if not isinstance(asset, dict) or "href" not in asset:
            continue
        out = {f: asset[f] for f in _ASSET_FIELDS if f in asset}
        # Polarization-named assets (HH, VV) are the image data.
        out.setdefault("roles", _ROLES_BY_KEY.get(key, ["data"]))
        if "data" in out["roles"]:
            out.update(raster)
            pols = _polarizations(key, item_pols)
            if pols is not None:
                out["sar:polarizations"] = pols
        assets[key] = out
    return assets


def _raster_fields(props: dict[str, Any], epsg: Any) -> dict[str, Any]:
    """Pop the image grid (``proj:shape``/``proj:transform``) off the item properties.

    Capella states the grid of its geocoded raster at item level; on bridge items it
    describes the data asset alone (thumbnails and previews have grids of their own).
    """
    shape = props.pop("proj:shape", None)
    transform = props.pop("proj:transform", None)
    if not isinstance(epsg, int):
        return {}
    fields: dict[str, Any] = {"proj:epsg": epsg, "proj:code": f"EPSG:{epsg}"}
    if isinstance(shape, list) and isinstance(transform, list):
        fields["proj:shape"] = shape
        fields["proj:transform"] = transform
    return fields


def _gsd(props: dict[str, Any]) -> float | None:
    # The coarser of ground-range and azimuth resolution: what a buyer compares across
    # providers as "resolution".
    values = [
        v
        for v in (props.get("capella:resolution_ground_range"), props.get("sar:resolution_azimuth"))
        if isinstance(v, int | float) and v > 0
    ]
    return max(values) if values else None


def _stac_name(key: str) -> str:
    """The bridge name of a native property: renamed, kept, or put under ``capella:``."""
    name = RENAMED.get(key, key)
    return name if ":" in name or name in COMMON_METADATA else f"capella:{name}"


SORT_FIELDS = frozenset({"datetime"})
"""The sortable fields :func:`sort_stub` carries."""


def sort_stub(record: dict[str, Any]) -> Item:
    """The part of :func:`item_from_native`'s item a sort needs (id, collection,
    datetime), read without mapping the record whole.

    Raises:
        KeyError, ValueError: as :func:`item_from_native` does for the same record.
    """
    native = record["properties"]
    if not isinstance(record["id"], str) or not isinstance(native.get("datetime"), str):
        raise ValueError("a catalog record needs a string id and properties.datetime")
    return {
        "id": record["id"],
        "collection": bridge_collection(record),
        "properties": {"datetime": native["datetime"]},
    }


_NAMES: dict[str, str] = {}
"""Native property name -> bridge name, filled as names are met (a record has dozens)."""
_MAX_NAMES = 4096


def item_from_native(record: dict[str, Any]) -> Item:
    """Map one native Capella catalog record to a STAC 1.1.0 item of its bridge collection.

    Unknown enum values pass as they are; unknown unprefixed properties under ``capella:``.

    Raises:
        KeyError: the record lacks ``id`` or ``properties``.
        ValueError: the id or ``datetime`` is not a string, or the geometry is unreadable.
    """
    native = record["properties"]
    if not isinstance(record["id"], str) or not isinstance(native.get("datetime"), str):
        raise ValueError("a catalog record needs a string id and properties.datetime")
    props: dict[str, Any] = {}
    names = _NAMES
    for key, value in native.items():
        if key in DROPPED:
            continue
        name = names.get(key)
        if name is None:
            name = _stac_name(str(key))
            if len(names) < _MAX_NAMES:  # native keys are few; a flood is not kept
                names[key] = name
        props[name] = value
    product = native.get("sar:product_type")
    if isinstance(product, str):
        props["product:type"] = product
        level = PROCESSING_LEVEL.get(product)
        if level is not None:
            props["processing:level"] = level
    epsg = native.get("proj:epsg")
    geocoded = isinstance(epsg, int)
    if geocoded:
        props["proj:code"] = f"EPSG:{epsg}"
    else:
        props.pop("proj:epsg", None)  # null for slant-range products: no map projection
    raster = _raster_fields(props, epsg)
    gsd = _gsd(native)
    if gsd is not None:
        props["gsd"] = gsd
    geometry = record.get("geometry")
    bbox = record.get("bbox")
    if bbox is None and geometry:
        bbox = list(shape(geometry).bounds)
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": list(EXTENSIONS_GEOCODED if geocoded else EXTENSIONS),
        "id": record["id"],
        "collection": bridge_collection(record),
        "geometry": geometry,
        "bbox": bbox,
        "properties": props,
        "links": [],
        "assets": _assets(record.get("assets"), raster, native.get("sar:polarizations")),
    }
