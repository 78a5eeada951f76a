"""Scenes as ICEYE catalog items, in the v2 (STAC-prefixed) or v1 (legacy) vocabulary.

The simulator keeps its own copy of the v1 names (the seed's migration table) rather than
importing the adapter's: it stands in for the real API, so a wrong adapter table shows up
as a failing test instead of agreeing with itself.
"""

from __future__ import annotations

from typing import Any

from bridge.simulators.common.storage import ObjectStore
from bridge.simulators.iceye import downloads
from bridge.simulators.iceye.archive import PRIVATE, PUBLIC, Scene

# v2 name → v1 name. The first nine rows are the seed's migration table; the v1 names of
# the four ``iceye:`` fields are unconfirmed (assumed to be the same name without prefix).
V2_TO_V1: dict[str, str] = {
    "start_datetime": "start_time",
    "end_datetime": "end_time",
    "sar:instrument_mode": "instrument_mode",
    "sar:product_type": "product_type",
    "sar:observation_direction": "observation_direction",
    "sat:orbit_state": "orbit_state",
    "iceye:incidence_center": "incidence_angle",
    "iceye:satellite_look_angle": "satellite_look_angle",
    "sar:polarizations": "polarizations",
    "iceye:acquisition_mode": "acquisition_mode",
    "iceye:processing_mode": "processing_mode",
    "iceye:azimuth_resolution": "azimuth_resolution",
    "iceye:range_resolution_center": "range_resolution_center",
}
V1_TO_V2: dict[str, str] = {v1: v2 for v2, v1 in V2_TO_V1.items()}
# v1-only: ``image_mode`` was dropped in v2 ("use sar:instrument_mode"); assumed to carry
# the same value as ``instrument_mode``.
V1_TO_V2["image_mode"] = "sar:instrument_mode"
# Fields v1 items do not carry under any name (assumed: v1 items had no STAC ``datetime``).
_V2_ONLY = frozenset({"datetime"})

_NATIVE_STAC_EXTENSIONS = [
    "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
    "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.2.0/schema.json",
]


def _assets(scene: Scene, base_url: str, store: ObjectStore | None, owned: bool) -> dict[str, Any]:
    """Asset objects; the data file's asset carries the ``proj:*`` of the COG served for it.

    Public catalog items link only the quicklooks (ICEYE docs "build a catalog
    application": "items include only low-resolution assets (thumbnails)"), signed with a
    day-aligned expiry. What the caller owns (its ``private`` items, a purchase's
    products) links every product file, freshly presigned for one hour. Without a
    ``store`` (golden files) every href is the bare object URL.
    """
    assets: dict[str, Any] = {}
    for key, name, title, media, role in scene.assets:
        if role != "thumbnail" and not owned:
            continue
        object_key = downloads.object_key(scene, key, name)
        if store is None:
            href = f"{base_url}/storage/{object_key}"
        elif owned:
            href = downloads.product_href(store, base_url, object_key)
        else:
            href = downloads.catalog_href(store, base_url, object_key)
        asset: dict[str, Any] = {"href": href, "title": title, "type": media, "roles": [role]}
        if role == "data":
            asset.update(downloads.proj_fields(scene))
        assets[key] = asset
    return assets


def render_v2(
    scene: Scene,
    base_url: str,
    store: ObjectStore | None = None,
    collection: str = PUBLIC,
) -> dict[str, Any]:
    """The v2 catalog item of ``scene`` as seen in ``collection`` (``private``: an item
    the caller owns, as its private catalog and a purchase's products list it)."""
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": _NATIVE_STAC_EXTENSIONS,
        "id": scene.id,
        "collection": collection,
        "geometry": scene.geometry,
        "bbox": list(scene.bbox),
        "properties": dict(scene.properties),
        "assets": _assets(scene, base_url, store, collection == PRIVATE),
        "links": [],
    }


def render_v1(
    scene: Scene, base_url: str, store: ObjectStore | None = None, owned: bool = False
) -> dict[str, Any]:
    """The v1 catalog item of ``scene``: legacy property names, no ``collection``."""
    props: dict[str, Any] = {}
    for name, value in scene.properties.items():
        if name not in _V2_ONLY:
            props[V2_TO_V1.get(name, name)] = value
    props["image_mode"] = scene.properties["sar:instrument_mode"]
    return {
        "type": "Feature",
        "id": scene.id,
        "geometry": scene.geometry,
        "bbox": list(scene.bbox),
        "properties": props,
        "assets": _assets(scene, base_url, store, owned),
    }


def render(
    scene: Scene,
    version: str,
    base_url: str,
    store: ObjectStore | None = None,
    collection: str = PUBLIC,
) -> dict[str, Any]:
    """The catalog item of ``scene`` as API ``version`` (``v1`` or ``v2``) returns it."""
    if version == "v2":
        return render_v2(scene, base_url, store, collection)
    return render_v1(scene, base_url, store, collection == PRIVATE)
