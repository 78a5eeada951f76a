"""Capella product files: where each lives in the simulated bucket and what its bytes are.

Every asset of the 6000-item archive is derived from its storage key on first request
(:func:`resolver`), so nothing is generated up front. Layout follows the sample download
hrefs: ``<bucket>/<yyyy>/<m>/<d>/<granule id>/<file>``. What each product's files are:

* GEO, GEC: a Cloud-Optimized GeoTIFF on the item's UTM zone (``proj:epsg``), 512 px on
  the longer side; :func:`geocoded_grid` is that grid, and the search records carry its
  ``proj:shape``/``proj:transform`` as Capella's STAC items do.
* SIDD: an NITF 2.1 detected image on the same UTM grid (UTM corners in ``IGEOLO``).
* SLC: a Cloud-Optimized GeoTIFF of amplitude on a lon/lat grid over the footprint (no
  ``proj:*`` stated: the product is slant-range). Real SLCs are plain GeoTIFFs of complex
  samples with GCPs; serving a COG lets map clients stream every GeoTIFF data asset.
* SICD: an NITF 2.1 on the same lon/lat grid (amplitude, not complex: as for SLC).
* CPHD: opaque deterministic bytes behind a CPHD-like text header (no GDAL driver).
* ``metadata``: Capella's "extended metadata" JSON, reduced to the collect and grid.
* ``thumbnail`` (256 px) and ``preview`` (1024 px) PNGs of the collect's picture.

All products of one collect show the same picture: pixels are seeded by the collect id.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from bridge.simulators.capella.archive import Archive
from bridge.simulators.common.cog import (
    COG_MEDIA_TYPE,
    PNG_MEDIA_TYPE,
    Grid,
    PixelSpec,
    cog_bytes,
    png_bytes,
    scene_grid,
    stable_seed,
)
from bridge.simulators.common.storage import StoredObject
from bridge.simulators.common.texture import synthesize

BUCKET = "capella-archive"
"""The storage prefix (bucket) of every product file."""
GRID_SIZE = 512
THUMBNAIL_SIDE = 256
PREVIEW_SIDE = 1024
NITF_TYPE = "application/vnd.nitf"
CPHD_TYPE = "application/octet-stream"
_CPHD_BYTES = 256 * 1024

# product type -> (file extension, media type) of its data file
DATA_FILES: dict[str, tuple[str, str]] = {
    "SLC": ("tif", COG_MEDIA_TYPE),
    "GEO": ("tif", COG_MEDIA_TYPE),
    "GEC": ("tif", COG_MEDIA_TYPE),
    "SICD": ("ntf", NITF_TYPE),
    "SIDD": ("ntf", NITF_TYPE),
    "CPHD": ("cphd", CPHD_TYPE),
}
HAS_PREVIEW = frozenset({"GEO", "GEC", "SIDD"})
COG_PRODUCTS = frozenset({"GEO", "GEC"})


def folder_key(item: dict[str, Any]) -> str:
    """The key prefix of an item's files: ``yyyy/m/d/<id>`` (unpadded month and day)."""
    start = item["properties"]["start_datetime"]
    return f"{start[:4]}/{int(start[5:7])}/{int(start[8:10])}/{item['id']}"


def file_names(item: dict[str, Any]) -> dict[str, str]:
    """Asset key -> file name, for every asset of ``item``."""
    props = item["properties"]
    product = props["sar:product_type"]
    item_id = item["id"]
    names = {
        props["sar:polarizations"][0]: f"{item_id}.{DATA_FILES[product][0]}",
        "metadata": f"{item_id}_extended.json",
        "thumbnail": f"{item_id}_thumb.png",
    }
    if product in HAS_PREVIEW:
        names["preview"] = f"{item_id}_preview.png"
    return names


def asset_key(item: dict[str, Any], asset: str) -> str | None:
    """The storage key of ``asset`` of ``item``; None when the item has no such asset."""
    name = file_names(item).get(asset)
    return None if name is None else f"{folder_key(item)}/{name}"


def _bbox(item: dict[str, Any]) -> tuple[float, float, float, float]:
    b = item["bbox"]
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def geocoded_grid(item: dict[str, Any]) -> Grid | None:
    """The UTM grid of a geocoded product's raster; None for slant-range products."""
    epsg = item["properties"].get("proj:epsg")
    return scene_grid(_bbox(item), epsg=epsg, size=GRID_SIZE) if isinstance(epsg, int) else None


def _lonlat_grid(item: dict[str, Any]) -> Grid:
    return scene_grid(_bbox(item), epsg=4326, size=GRID_SIZE)


def _picture_grid(item: dict[str, Any]) -> Grid:
    # Quicklooks are map-projected even for slant-range products, as Capella's are.
    return geocoded_grid(item) or scene_grid(_bbox(item), size=GRID_SIZE)


def _seed(seed: int, item: dict[str, Any]) -> int:
    return stable_seed(seed, "capella", item["properties"]["capella:collect_id"])


@functools.lru_cache(maxsize=16)
def nitf_bytes(grid: Grid, spec: PixelSpec, seed: int) -> bytes:
    """An uncompressed NITF 2.1 image on ``grid`` (UTM or lon/lat corners in IGEOLO)."""
    # Imported on first use: rasterio is a third of a second of a sandbox's start-up.
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine

    pixels = synthesize(spec.kind, spec.bands, spec.dtype, grid.rows, grid.cols, seed)
    # IGEOLO corner coordinates: geographic (G), or UTM north (N) / south (S) zone.
    icords = "G" if grid.epsg == 4326 else ("S" if grid.epsg >= 32700 else "N")
    with MemoryFile() as memfile:
        with memfile.open(
            driver="NITF",
            width=grid.cols,
            height=grid.rows,
            count=spec.bands,
            dtype=spec.dtype,
            crs=f"EPSG:{grid.epsg}",
            transform=Affine(*grid.transform),
            ICORDS=icords,
        ) as dataset:
            dataset.write(pixels)
        return bytes(memfile.read())


@functools.lru_cache(maxsize=16)
def cphd_bytes(item_id: str, seed: int) -> bytes:
    """A phase-history stand-in: a CPHD-style header, then deterministic noise."""
    header = f"CPHD/1.0.1\nCLASSIFICATION := UNCLASSIFIED\nCORE_NAME := {item_id}\n\f\n"
    noise = np.random.default_rng(seed).integers(0, 256, _CPHD_BYTES, dtype=np.uint8)
    return header.encode() + noise.tobytes()


def metadata_bytes(item: dict[str, Any]) -> bytes:
    """The extended-metadata JSON: the collect's properties and the image grid."""
    grid = geocoded_grid(item)
    doc = {
        "software_version": "capella-simulator",
        "product_type": item["properties"]["sar:product_type"],
        "collect": {"granule_id": item["id"], **item["properties"]},
        "image": grid.proj_fields() if grid is not None else None,
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _data_source(item: dict[str, Any], seed: int) -> tuple[Callable[[], bytes], str]:
    product = item["properties"]["sar:product_type"]
    media_type = DATA_FILES[product][1]
    geocoded = geocoded_grid(item)
    if product in COG_PRODUCTS and geocoded is not None:
        return functools.partial(cog_bytes, geocoded, PixelSpec("sar", 1, "uint16"), seed), (
            media_type
        )
    if product == "SIDD" and geocoded is not None:
        return functools.partial(nitf_bytes, geocoded, PixelSpec("sar", 1, "uint16"), seed), (
            media_type
        )
    if product == "SLC":
        spec = PixelSpec("sar", 1, "float32")
        return functools.partial(cog_bytes, _lonlat_grid(item), spec, seed), media_type
    if product == "SICD":
        spec = PixelSpec("sar", 1, "float32")
        return functools.partial(nitf_bytes, _lonlat_grid(item), spec, seed), media_type
    return functools.partial(cphd_bytes, item["id"], seed), media_type


def stored_object(item: dict[str, Any], asset: str, seed: int) -> StoredObject | None:
    """The object behind ``asset`` of ``item`` (content made lazily on first read)."""
    names = file_names(item)
    name = names.get(asset)
    if name is None:
        return None
    collect_seed = _seed(seed, item)
    picture = functools.partial(png_bytes, _picture_grid(item), PixelSpec("sar", 1, "uint16"))
    if asset == "thumbnail":
        source: Any = functools.partial(picture, collect_seed, THUMBNAIL_SIDE)
        media_type = PNG_MEDIA_TYPE
    elif asset == "preview":
        source, media_type = functools.partial(picture, collect_seed, PREVIEW_SIDE), PNG_MEDIA_TYPE
    elif asset == "metadata":
        source, media_type = functools.partial(metadata_bytes, item), "application/json"
    else:
        source, media_type = _data_source(item, collect_seed)
    # A fixed Last-Modified (the collect's end) keeps responses identical across runs.
    end = datetime.fromisoformat(item["properties"]["end_datetime"].replace("Z", "+00:00"))
    return StoredObject(source, media_type, filename=name, last_modified=end.timestamp())


def resolver(archive: Archive, seed: int) -> Callable[[str], StoredObject | None]:
    """Map a storage key ``yyyy/m/d/<id>/<file>`` to its object, for ``ObjectStore``."""
    by_file: dict[str, StoredObject | None] = {}

    def resolve(key: str) -> StoredObject | None:
        if key in by_file:
            return by_file[key]
        parts = key.split("/")
        index = archive.by_id.get(parts[3]) if len(parts) == 5 else None
        found = None
        if index is not None:
            item = archive.items[index]
            for asset, name in file_names(item).items():
                if name == parts[4] and key == f"{folder_key(item)}/{name}":
                    found = stored_object(item, asset, seed)
        if len(by_file) < 4096:  # descriptors only (bytes live in the shared LRU)
            by_file[key] = found
        return found

    return resolve


_TITLES = {"metadata": "Extended metadata", "thumbnail": "Thumbnail", "preview": "Preview"}
_ROLES = {"metadata": ["metadata"], "thumbnail": ["thumbnail"], "preview": ["overview"]}
_TYPES = {"metadata": "application/json", "thumbnail": PNG_MEDIA_TYPE, "preview": PNG_MEDIA_TYPE}
UNORDERED = frozenset({"thumbnail", "preview"})
"""Assets readable without an order: search results carry them presigned."""


def native_assets(
    item: dict[str, Any], base: str, sign: Callable[[str], str] | None, signed: frozenset[str]
) -> dict[str, Any]:
    """Asset descriptions: hrefs presigned by ``sign`` for the keys in ``signed``.

    Unsigned hrefs name the object but cannot be read (S3 answers 403), as in search
    results for products the caller has not ordered.
    """
    product = item["properties"]["sar:product_type"]
    out: dict[str, Any] = {}
    for asset, name in file_names(item).items():
        key = f"{folder_key(item)}/{name}"
        href = sign(key) if sign is not None and asset in signed else f"{base}/{BUCKET}/{key}"
        data = asset not in _TITLES
        out[asset] = {
            "href": href,
            "title": f"{product} data ({asset})" if data else _TITLES[asset],
            "type": DATA_FILES[product][1] if data else _TYPES[asset],
            "roles": ["data"] if data else _ROLES[asset],
        }
    return out


def native_feature(
    item: dict[str, Any],
    base: str,
    sign: Callable[[str], str] | None = None,
    signed: frozenset[str] = UNORDERED,
) -> dict[str, Any]:
    """An archive item as the API serves it, with asset hrefs on this host.

    GEO and GEC records carry their COG's grid as ``proj:shape``/``proj:transform``, as
    Capella's STAC items do. SIDD's NITF stores its corners rounded to whole metres, so
    its grid is not stated (only ``proj:epsg``).
    """
    props = item["properties"]
    grid = geocoded_grid(item) if props["sar:product_type"] in COG_PRODUCTS else None
    if grid is not None:
        props = {
            **props,
            "proj:shape": [grid.rows, grid.cols],
            "proj:transform": list(grid.transform),
        }
    return {
        **item,
        "properties": props,
        "assets": native_assets(item, base, sign, signed),
        "links": [],
    }
