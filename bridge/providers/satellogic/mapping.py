"""Satellogic archive tile (native STAC 1.0 item) -> bridge STAC 1.1 item."""

from __future__ import annotations

from typing import Any

import msgspec

from bridge.providers.satellogic.names import (
    BRIDGE_BY_NATIVE,
    LEVEL_BY_NATIVE,
    PASSTHROUGH,
    RENAMED,
    STAC_EXTENSIONS,
    asset_bands,
    asset_eo_bands,
)

_ASSET_FIELDS = ("href", "title", "type", "roles")
# Raster assets carry the grid of the file they deliver (projection extension v1.2.0).
_ASSET_PROJ = ("proj:shape", "proj:transform")


def _asset(native: dict[str, Any], level: str, key: str) -> dict[str, Any]:
    """One native asset: its fields, the href without its ephemeral token (a search result
    must not carry a URL that expires; downloads get fresh ones), ``proj:*`` when given,
    and the ``bands`` of its file."""
    out = {f: native[f] for f in _ASSET_FIELDS if f in native}
    bands = asset_bands(level, key)
    if bands is not None:
        out["bands"] = bands
        out["eo:bands"] = asset_eo_bands(level, key)
    href = out.get("href")
    if isinstance(href, str) and "?" in href:
        out["href"] = href.partition("?")[0]
    if "proj:epsg" in native:
        epsg = native["proj:epsg"]
        out["proj:epsg"] = epsg
        out["proj:code"] = f"EPSG:{epsg}"
        out.update({f: native[f] for f in _ASSET_PROJ if f in native})
    return out


# Native properties the tables map (or the mapping derives): everything else is unknown.
_MAPPED = frozenset({"datetime", "proj:epsg", *PASSTHROUGH, *RENAMED})
PREFIX = "satellogic:"


def _unknown_name(name: str) -> str:
    """Where an unmapped native property goes: ``satl:`` names (already the provider's
    own namespace) as they are, any other under ``satellogic:``, so it can never collide
    with (or be mistaken for) a STAC field the bridge defines."""
    return name if name.startswith("satl:") else PREFIX + name.replace(":", "_")


class UnknownCollection(ValueError):
    """A native tile from a collection no bridge collection maps to."""


class TileFields(msgspec.Struct):
    """What a search reads from every native tile before it is served: its id and
    native collection (other members are skipped, not decoded)."""

    id: Any = None
    collection: Any = None


SORT_FIELDS = frozenset({"datetime"})
"""The sortable fields :func:`sort_stub` carries."""


def sort_stub(record: dict[str, Any]) -> dict[str, Any]:
    """The part of :func:`item_from_native`'s item a sort needs (id, collection,
    datetime), read without mapping the tile whole.

    Raises:
        UnknownCollection: as :func:`item_from_native`.
    """
    collection = BRIDGE_BY_NATIVE.get(record.get("collection") or "")
    if collection is None:
        raise UnknownCollection(f"no bridge collection for native {record.get('collection')!r}")
    src = record.get("properties") or {}
    return {
        "id": record["id"],
        "collection": collection,
        "properties": {"datetime": src.get("datetime")},
    }


def item_from_native(record: dict[str, Any]) -> dict[str, Any]:
    """Map one native tile to a STAC 1.1.0 item of its bridge collection.

    Raises:
        UnknownCollection: the tile's native collection has no bridge collection.
    """
    native_collection = record.get("collection")
    collection = BRIDGE_BY_NATIVE.get(native_collection or "")
    if collection is None:
        raise UnknownCollection(f"no bridge collection for native {native_collection!r}")
    src = record.get("properties") or {}
    props: dict[str, Any] = {"datetime": src.get("datetime")}
    for name in PASSTHROUGH:
        if name in src:
            props[name] = src[name]
    for native_name, name in RENAMED.items():
        if native_name in src:
            props[name] = src[native_name]
    # Sources are silent on the full property list: unknown fields pass through, unchanged.
    for name, value in src.items():
        if name not in _MAPPED:
            props.setdefault(_unknown_name(str(name)), value)
    epsg = src.get("proj:epsg")
    if epsg is not None:
        # GDAL 3.6 reads proj:epsg only; Projection v2 names the CRS with proj:code.
        props["proj:epsg"] = epsg
        props["proj:code"] = f"EPSG:{epsg}"
    level = LEVEL_BY_NATIVE[native_collection or ""]
    props["processing:level"] = level
    assets = {key: _asset(asset, level, key) for key, asset in (record.get("assets") or {}).items()}
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        # grid:code stays a property but the grid extension is not declared: there is no
        # offline copy of its schema, and undeclared prefixed fields still validate.
        "stac_extensions": list(STAC_EXTENSIONS),
        "id": record["id"],
        "collection": collection,
        "geometry": record.get("geometry"),
        "bbox": record.get("bbox"),
        "properties": props,
        "links": [],
        "assets": assets,
    }
