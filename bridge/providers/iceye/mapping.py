"""ICEYE catalog items (v1 or v2) → STAC 1.1 items of the bridge's ICEYE collections.

Plain dict work driven by the tables in :mod:`bridge.providers.iceye.names`: the same
scene yields the same STAC item whichever API version it was read from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import msgspec

from bridge.providers.iceye.names import (
    CONSTANTS,
    NATIVE_READ,
    PRODUCTS,
    STAC_NUMBERS,
    STAC_VALUES,
    TO_STAC,
    V1_ITEM_NAMES,
)

_EXT = "https://stac-extensions.github.io"
# Each extension by the field prefix that uses it. Projection v1.2.0, not v2.0.0: v2.0.0
# forbids proj:epsg (additionalProperties: false), and v1.2.0 defines both proj:code and
# the proj:epsg that GDAL 3.6 reads.
_EXTENSIONS = (
    ("sar:", f"{_EXT}/sar/v1.3.0/schema.json"),
    ("sat:", f"{_EXT}/sat/v1.2.0/schema.json"),
    ("view:", f"{_EXT}/view/v1.1.0/schema.json"),
    ("processing:", f"{_EXT}/processing/v1.2.0/schema.json"),
    ("product:", f"{_EXT}/product/v1.0.0/schema.json"),
    ("proj:", f"{_EXT}/projection/v1.2.0/schema.json"),
)


def _extensions(props: dict[str, Any], assets: dict[str, Any]) -> list[str]:
    """The extensions the item uses: a schema whose fields are all absent (a native value
    kept only under ``iceye:``) would make the item invalid."""
    # One pass collecting the prefixes used (per item, so kept cheap), not one per schema.
    used = {n.partition(":")[0] for n in props if ":" in n}
    for asset in assets.values():
        used.update(f.partition(":")[0] for f in asset if ":" in f)
    return [url for prefix, url in _EXTENSIONS if prefix[:-1] in used]


_ASSET_FIELDS = ("href", "title", "type", "roles")
# ICEYE's STAC items describe the raster of a data file on its asset: copied as they are,
# so the fields always describe the file the href serves.
PROJ_FIELDS = ("proj:epsg", "proj:code", "proj:shape", "proj:transform", "proj:bbox")
# Product files carry product-specific keys (ICEYE docs "task products": ``grd-tif``, the
# GRD data file, and ``grd-xml``, its metadata); by suffix → the bridge's stable key.
PRODUCT_ASSET_SUFFIXES = (("-tif", "data"), ("-tiff", "data"), ("-xml", "metadata"))


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


def stable_key(native_key: str, asset: Mapping[str, Any]) -> str:
    """The bridge's asset key for a native asset: product files under the stable keys the
    collections advertise (``grd-tif`` → ``data``, ``grd-xml`` → ``metadata``), anything
    else (quicklooks, unknown files) under its native key."""
    for suffix, key in PRODUCT_ASSET_SUFFIXES:
        if native_key.endswith(suffix):
            return key
    return native_key


def stable_assets(native: Any) -> dict[str, dict[str, Any]]:
    """Native assets by bridge key (only well-formed ones: a dict with a string href)."""
    found: dict[str, dict[str, Any]] = {}
    if not isinstance(native, Mapping):
        return found
    for native_key, asset in native.items():
        if isinstance(asset, dict) and isinstance(asset.get("href"), str):
            found.setdefault(stable_key(str(native_key), asset), asset)
    return found


@dataclass(frozen=True)
class AssetPlan:
    """What every item of a collection advertises (its ``item_assets``), and where the
    assets a catalog item does not link are obtained (the native purchase endpoint)."""

    item_assets: Mapping[str, Mapping[str, Mapping[str, Any]]]
    """Collection id → asset key → the advertised asset (title, type, roles)."""
    order_href: str


def _assets(
    native: Any, collection: str, plan: AssetPlan | None, polarizations: Any
) -> dict[str, Any]:
    assets: dict[str, Any] = {}
    for key, asset in stable_assets(native).items():
        fields = {f: asset[f] for f in (*_ASSET_FIELDS, *PROJ_FIELDS) if f in asset}
        template = plan.item_assets.get(collection, {}).get(key) if plan else None
        # An advertised asset keeps the advertised title/type/roles whatever the native
        # file is called, so clients see one stable description.
        assets[key] = {**fields, **(template or {})}
    if plan is not None:
        # Public catalog items link only quicklooks: the product files are bought, so the
        # advertised ones point at the purchase endpoint until the bridge resolves them.
        for key, template in plan.item_assets.get(collection, {}).items():
            assets.setdefault(key, {"href": plan.order_href, **template})
    if "data" in assets and isinstance(polarizations, list):
        # odc-stac and stackstac pick SAR bands by the asset's polarization.
        assets["data"]["sar:polarizations"] = list(polarizations)
    return assets


def iceye_name(native: str) -> str:
    """Where a native field the bridge does not map is kept: under the ``iceye:`` prefix
    (``squint`` → ``iceye:squint``, ``sat:orbit_state`` → ``iceye:orbit_state``)."""
    return native if native.startswith("iceye:") else f"iceye:{native.rpartition(':')[2]}"


def fits(target: str, value: Any) -> bool:
    """True when ``value`` is one the STAC field ``target`` allows (see names.json)."""
    allowed = STAC_VALUES.get(target)
    if allowed is not None:
        values = value if isinstance(value, list) else [value]
        return bool(values) and all(isinstance(v, str) and v in allowed for v in values)
    if target in STAC_NUMBERS:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _check(target: str) -> Callable[[Any], bool] | None:
    """What a value must pass to be kept under ``target`` (None: any value fits)."""
    if target in STAC_VALUES or target in STAC_NUMBERS:
        return partial(fits, target)
    return None


# TO_STAC with each target's check resolved once (per record only the constrained ones run).
_MAPPED = tuple((name, tuple((t, _check(t)) for t in targets)) for name, targets in TO_STAC)


class _V2Kind(msgspec.Struct):
    product_type: Any = msgspec.field(default=None, name="sar:product_type")


class _V1Kind(msgspec.Struct):
    product_type: Any = None


class V2Fields(msgspec.Struct):
    """What a search reads from every native v2 record before it is served: its product
    type, which says whether (and in which collection) the bridge serves it."""

    properties: _V2Kind | None = None


class V1Fields(msgspec.Struct):
    """As :class:`V2Fields`, for v1 records (``product_type``)."""

    properties: _V1Kind | None = None


def served_collection(fields: V2Fields | V1Fields) -> str | None:
    """The bridge collection of a record read as ``fields``, or None for a product type
    the bridge does not serve (as :func:`item_from_native` decides).

    Raises:
        KeyError: the record has no product type (every ICEYE item has one).
    """
    if fields.properties is None or fields.properties.product_type is None:
        raise KeyError("sar:product_type")
    ptype = fields.properties.product_type
    line = PRODUCTS.get(ptype) if isinstance(ptype, str) else None
    return None if line is None else line.collection


SORT_FIELDS = frozenset({"datetime"})
"""The sortable fields :func:`sort_stub` carries."""


def sort_stub(record: dict[str, Any], api_version: str) -> dict[str, Any] | None:
    """The part of :func:`item_from_native`'s item a sort needs (id, collection,
    datetime), read without mapping the record whole; None where it gives None.

    Raises:
        KeyError, TypeError: as :func:`item_from_native` does for the same record.
    """
    native = v2_properties(record["properties"], api_version)
    ptype = native["sar:product_type"]
    line = PRODUCTS.get(ptype) if isinstance(ptype, str) else None
    if line is None:
        return None
    when = native.get("start_datetime")  # the one native field mapped to ``datetime``
    if not isinstance(when, str) or not fits("datetime", when):
        raise KeyError("start_datetime")
    return {"id": record["id"], "collection": line.collection, "properties": {"datetime": when}}


def item_from_native(
    record: dict[str, Any], api_version: str, plan: AssetPlan | None = None
) -> dict[str, Any] | None:
    """The STAC item of one native catalog item; None for a product type the bridge
    does not serve. With a ``plan`` every advertised asset is present.

    Raises:
        KeyError, TypeError: the record lacks what every ICEYE item has (id, geometry,
            product type, start time); the adapter reports it as a bad response.
    """
    native = v2_properties(record["properties"], api_version)
    ptype = native["sar:product_type"]
    line = PRODUCTS.get(ptype) if isinstance(ptype, str) else None
    if line is None:
        return None
    props: dict[str, Any] = {}
    for name, checked_targets in _MAPPED:
        value = native.get(name)
        if value is not None:
            for target, check in checked_targets:
                if check is None or check(value):
                    props[target] = value
                else:  # e.g. a new orbit state: kept, but not under the STAC name
                    props.setdefault(iceye_name(name), value)
    for name, value in native.items():
        if name not in NATIVE_READ and value is not None:
            props.setdefault(iceye_name(name), value)
    if not isinstance(props.get("datetime"), str):
        raise KeyError("start_datetime")
    for name, constant in CONSTANTS.items():
        # Lists are copied: items leave the adapter and callers may change them.
        props[name] = list(constant) if isinstance(constant, list) else constant
    platform = native.get("platform")
    if isinstance(platform, str):
        props["platform"] = platform.lower()
    az, rg = props.get("sar:resolution_azimuth"), props.get("sar:resolution_range")
    if az is not None and rg is not None:  # both numbers: checked by fits()
        props["gsd"] = max(az, rg)
    props["processing:level"] = line.processing_level
    geometry = record["geometry"]
    assets = _assets(record.get("assets"), line.collection, plan, props.get("sar:polarizations"))
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": _extensions(props, assets),
        "id": record["id"],
        "collection": line.collection,
        "geometry": geometry,
        "bbox": record.get("bbox") or _bbox_of(geometry),
        "properties": props,
        "links": [],
        "assets": assets,
    }
