"""ICEYE's delivery storage: every asset of the archive behind S3-style presigned URLs.

Keys (derived from the archive, generated lazily by the store's resolver):

* ``catalog/{frame_id}/{item_id}_thumb.jpg|png`` — quicklooks, which catalog items link
  to without any purchase;
* ``products/{frame_id}/{item_id}.tif|xml`` — the data (a small COG) and the product
  metadata, linked (signed) from a purchase's ``/products`` and from the caller's
  ``private`` catalog items; public catalog items do not link them at all.

Purchase products are signed afresh on every request and expire after exactly one hour
(documented). Catalog quicklook hrefs expire at the end of the next UTC day, valid 24-48
hours (assumed: their lifetime is undocumented; a day-aligned expiry is what a CDN
caching signed catalog answers gives), so the same search answers the same items all
day long and pages of one search never disagree.
An unsigned object URL answers S3's 403.
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import orjson

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
from bridge.simulators.common.storage import ObjectStore, StoredObject
from bridge.simulators.common.texture import resample_to, synthesize, to_display
from bridge.simulators.iceye.archive import Archive, Scene

URL_TTL_S = 3600.0
"""Presigned URL lifetime (documented: one hour)."""
CATALOG_SIGNING_STEP_S = 86_400
ACCESS_KEY_ID = "AKIAICEYESIMULATOR01"
GRID_SIZE = 512
THUMBNAIL_SIDE = 256
JPEG_MEDIA_TYPE = "image/jpeg"

# How each product's stand-in raster is stored: detected products as 16-bit amplitude
# (GRD) or 8-bit display images (SIDD, VID); complex products as float32 amplitude;
# the colour sub-aperture image as three 8-bit bands.
PIXELS: dict[str, PixelSpec] = {
    "GRD": PixelSpec("sar", 1, "uint16"),
    "SLC": PixelSpec("sar", 1, "float32"),
    "SICD": PixelSpec("sar", 1, "float32"),
    "SIDD": PixelSpec("sar", 1, "uint8"),
    "CSI": PixelSpec("sar", 3, "uint8"),
    "VID": PixelSpec("sar", 1, "uint8"),
}


@functools.lru_cache(maxsize=8192)
def _grid(bbox: tuple[float, float, float, float]) -> Grid:
    return scene_grid(bbox, size=GRID_SIZE)


def asset_grid(scene: Scene) -> Grid:
    """The grid of the COG served for ``scene`` (UTM zone of the footprint centre)."""
    return _grid(scene.bbox)


def proj_fields(scene: Scene) -> dict[str, Any]:
    """The ``proj:*`` fields of the data asset: exactly the served COG's grid."""
    return asset_grid(scene).proj_fields()


def picture_seed(seed: int, scene: Scene) -> int:
    """Pixel seed: per frame, so every product of one acquisition shows the same scene."""
    return stable_seed(seed, "iceye", scene.properties["frame_id"])


@functools.lru_cache(maxsize=256)
def jpeg_bytes(grid: Grid, spec: PixelSpec, seed: int, max_side: int = THUMBNAIL_SIDE) -> bytes:
    """A JPEG quicklook showing the same picture as the COG (GDAL's JPEG driver)."""
    # Imported on first use: rasterio is a third of a second of a sandbox's start-up.
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    pixels = to_display(
        resample_to(
            synthesize(spec.kind, spec.bands, spec.dtype, grid.rows, grid.cols, seed), max_side
        )
    )
    bands, rows, cols = pixels.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as memfile:
            with memfile.open(
                driver="JPEG", width=cols, height=rows, count=bands, dtype="uint8", QUALITY=85
            ) as dataset:
                dataset.write(pixels)
            return bytes(memfile.read())


def metadata_bytes(scene: Scene) -> bytes:
    """The product metadata XML (``grd-xml``; element names assumed: the simulator only
    needs a well-formed document naming the product, its frame and its raster)."""
    root = ElementTree.Element("product", id=scene.id)
    for name, value in (
        ("frame_id", scene.properties["frame_id"]),
        ("product_type", scene.product_type),
        ("start_datetime", scene.properties["start_datetime"]),
        ("end_datetime", scene.properties["end_datetime"]),
        ("bbox", ",".join(repr(v) for v in scene.bbox)),
        ("pixels", PIXELS[scene.product_type].dtype),
        ("proj", orjson.dumps(proj_fields(scene)).decode()),
    ):
        ElementTree.SubElement(root, name).text = str(value)
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


def object_key(scene: Scene, asset: str, file_name: str) -> str:
    """The storage key of asset ``asset`` (file ``file_name``) of ``scene``."""
    area = "catalog" if asset.startswith("thumbnail") else "products"
    return f"{area}/{scene.properties['frame_id']}/{file_name}"


def make_resolver(
    archive: Callable[[], Archive], seed: int
) -> Callable[[str], StoredObject | None]:
    """The store resolver: storage key → the object, generated on demand from the archive
    as it is now (tasked products join it when acquired)."""

    def resolve(key: str) -> StoredObject | None:
        _area, _, rest = key.partition("/")
        frame_id, _, name = rest.partition("/")
        for scene in archive().by_frame.get(frame_id, ()):
            for asset, file_name, _title, media, _role in scene.assets:
                if file_name == name and object_key(scene, asset, file_name) == key:
                    return _object(scene, asset, media, file_name, seed)
        return None

    return resolve


def _object(scene: Scene, asset: str, media: str, name: str, seed: int) -> StoredObject:
    grid, spec, pix = asset_grid(scene), PIXELS[scene.product_type], picture_seed(seed, scene)
    source: Any
    if name.endswith(".tif"):
        source, media = functools.partial(cog_bytes, grid, spec, pix), COG_MEDIA_TYPE
    elif asset == "thumbnail-png":
        source, media = (
            functools.partial(png_bytes, grid, spec, pix, THUMBNAIL_SIDE),
            PNG_MEDIA_TYPE,
        )
    elif asset == "thumbnail":
        source, media = functools.partial(jpeg_bytes, grid, spec, pix), JPEG_MEDIA_TYPE
    else:
        source = functools.partial(metadata_bytes, scene)
    # Created when the product was: a stable Last-Modified for the same object.
    created = scene.end + 3600.0
    return StoredObject(source, media, name, created)


def build_store(
    archive: Callable[[], Archive], seed: int, clock: Callable[[], float]
) -> ObjectStore:
    """The simulator's object store; the signing secret follows the seed, so two
    simulators built alike sign alike."""
    secret = hashlib.sha256(f"iceye-storage-{seed}".encode()).hexdigest()
    return ObjectStore(
        secret,
        prefix="/storage",
        access_key_id=ACCESS_KEY_ID,
        algorithm="sha1",
        clock=clock,
        resolver=make_resolver(archive, seed),
    )


def catalog_href(store: ObjectStore, base_url: str, key: str) -> str:
    """A quicklook href as catalog items carry it (expiry at the end of the next UTC day)."""
    now = store.clock()
    expires = (math.floor(now / CATALOG_SIGNING_STEP_S) + 2) * CATALOG_SIGNING_STEP_S
    # + 0.5 so int(now + ttl) inside the signer lands exactly on ``expires``.
    return store.sign_url(base_url, key, expires - now + 0.5)


def product_href(store: ObjectStore, base_url: str, key: str) -> str:
    """A purchase product's href: freshly presigned, valid one hour."""
    return store.sign_url(base_url, key, URL_TTL_S)


def unsigned_href(store: ObjectStore, base_url: str, key: str) -> str:
    """The bare object URL (403 without a signature, as S3 answers)."""
    return f"{base_url.rstrip('/')}{store.path(key)}"
