"""Real, small Cloud-Optimized GeoTIFFs and PNG quicklooks for simulated scenes.

Every asset is a pure function of (grid, pixel spec, seed), so its bytes are identical on
every run and machine (with the pinned numpy and rasterio/GDAL) and can be cached:
:func:`cog_bytes` and :func:`png_bytes` keep recent results in a byte-bounded LRU. The
grid comes from :func:`.grid.compute_grid`, which also gives the matching ``proj:*`` item
fields without generating any pixels.

COGs are written by GDAL's COG driver (through rasterio, whose wheels bundle GDAL and
PROJ): tiled, DEFLATE-compressed with a predictor, with internal overviews, IFDs before
data — the layout GDAL ``/vsicurl/`` and QGIS read with a few Range requests.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bridge.simulators.common.grid import BBox, Grid, compute_grid, utm_epsg
from bridge.simulators.common.texture import DType, Kind, resample_to, synthesize, to_display

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
PNG_MEDIA_TYPE = "image/png"

__all__ = [
    "COG_MEDIA_TYPE",
    "PNG_MEDIA_TYPE",
    "BBox",
    "Grid",
    "PixelSpec",
    "cache_stats",
    "clear_cache",
    "cog_bytes",
    "compute_grid",
    "png_bytes",
    "scene_grid",
    "stable_seed",
    "utm_epsg",
]


@dataclass(frozen=True)
class PixelSpec:
    """What the pixels of an asset are: SAR amplitude or optical reflectance, and how stored.

    Typical: SAR ``PixelSpec("sar", 1, "uint16")`` or ``("sar", 1, "float32")``; optical
    ``PixelSpec("optical", 3, "uint8")`` (visual) or ``("optical", 4, "uint16")`` (RGB+NIR).
    """

    kind: Kind = "sar"
    bands: int = 1
    dtype: DType = "uint16"

    def __post_init__(self) -> None:
        if self.kind not in ("sar", "optical"):
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.dtype not in ("uint8", "uint16", "float32"):
            raise ValueError(f"unsupported dtype {self.dtype!r}")
        if not 1 <= self.bands <= 8:
            raise ValueError("bands must be 1..8")


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from ``parts`` (e.g. simulator seed, item id, asset key).

    Python's ``hash()`` is salted per process, so it cannot key deterministic content.
    """
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class BytesLRU:
    """A thread-safe LRU of byte strings bounded by total size.

    Generation runs in worker threads (the storage routes keep it off the event loop),
    hence the lock. Two threads missing the same key both generate it: harmless, since
    the result is deterministic, and cheaper than holding the lock while generating.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_create(self, key: Hashable, create: Callable[[], bytes]) -> bytes:
        """The cached bytes for ``key``, made by ``create()`` on a miss."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        data = create()
        with self._lock:
            if key not in self._items and len(data) <= self.max_bytes:
                self._items[key] = data
                self._size += len(data)
                while self._size > self.max_bytes:
                    _, evicted = self._items.popitem(last=False)
                    self._size -= len(evicted)
        return data

    def clear(self) -> None:
        """Drop every entry and zero the counters."""
        with self._lock:
            self._items.clear()
            self._size = 0
            self.hits = self.misses = 0

    def stats(self) -> dict[str, int]:
        """Entries, bytes held, hits and misses."""
        with self._lock:
            return {
                "entries": len(self._items),
                "bytes": self._size,
                "hits": self.hits,
                "misses": self.misses,
            }


# 128 MiB holds a few hundred 512 x 512 assets: a demo session's worth of downloads.
_CACHE = BytesLRU(128 * 1024 * 1024)


def cache_stats() -> dict[str, int]:
    """Counters of the shared asset cache."""
    return _CACHE.stats()


def clear_cache() -> None:
    """Empty the shared asset cache (tests use it to time cold generation)."""
    _CACHE.clear()


def _blocksize(grid: Grid) -> int:
    # The COG driver stops adding overviews once one fits in a single tile, so a tile
    # at most half the longer side guarantees at least one overview level.
    longest = max(grid.rows, grid.cols)
    return next((b for b in (512, 256, 128, 64) if longest >= 2 * b), 64)


def _write_cog(grid: Grid, pixels: npt.NDArray[np.generic]) -> bytes:
    # rasterio (GDAL) is imported on the first COG written, not when a simulator starts:
    # importing it is a third of a second of every sandbox's start-up (the bridge
    # imports the simulators too, for their demo credentials).
    from rasterio.enums import ColorInterp
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine

    bands = pixels.shape[0]
    options = {
        "blocksize": _blocksize(grid),
        "compress": "DEFLATE",
        # Level 1: ~twice as fast as the default 6 on noisy imagery for a few % more size.
        "level": 1,
        # Horizontal differencing (2) for integers, floating-point predictor (3) for
        # floats: both roughly halve the size of smooth imagery at no read cost.
        "predictor": 3 if pixels.dtype == np.float32 else 2,
        "overview_resampling": "average",
        "overviews": "AUTO",
    }
    with MemoryFile() as memfile:
        with memfile.open(
            driver="COG",
            width=grid.cols,
            height=grid.rows,
            count=bands,
            dtype=str(pixels.dtype),
            crs=f"EPSG:{grid.epsg}",
            transform=Affine(*grid.transform),
            **options,
        ) as dataset:
            dataset.write(pixels)
            if bands >= 3:
                # Mark true colour so viewers render RGB instead of three grey bands.
                extra = [ColorInterp.undefined] * (bands - 3)
                dataset.colorinterp = [
                    ColorInterp.red,
                    ColorInterp.green,
                    ColorInterp.blue,
                    *extra,
                ]
        return bytes(memfile.read())


def _pixels(grid: Grid, spec: PixelSpec, seed: int) -> npt.NDArray[np.generic]:
    return synthesize(spec.kind, spec.bands, spec.dtype, grid.rows, grid.cols, seed)


def cog_bytes(grid: Grid, spec: PixelSpec, seed: int) -> bytes:
    """A Cloud-Optimized GeoTIFF on ``grid`` with ``spec`` pixels drawn from ``seed``."""
    return _CACHE.get_or_create(
        ("cog", grid, spec, seed), lambda: _write_cog(grid, _pixels(grid, spec, seed))
    )


def encode_png(pixels: npt.NDArray[np.uint8]) -> bytes:
    """A PNG of 8-bit ``(1 | 3, rows, cols)`` pixels (grey or RGB).

    Written by hand (one zlib stream and three chunks) rather than through GDAL's PNG
    driver, which warns about, and sidecars, ungeoreferenced output.
    """
    bands, rows, cols = pixels.shape
    colour_type = 2 if bands == 3 else 0
    scanlines = np.ascontiguousarray(pixels.transpose(1, 2, 0)).reshape(rows, cols * bands)
    # Each scanline is prefixed by its filter type; 0 ("None") keeps encoding trivial.
    raw = np.hstack([np.zeros((rows, 1), dtype=np.uint8), scanlines]).tobytes()

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", cols, rows, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def png_bytes(grid: Grid, spec: PixelSpec, seed: int, max_side: int = 256) -> bytes:
    """A PNG quicklook of the COG for the same (grid, spec, seed), longer side ``max_side``.

    Thumbnails (~256 px) and previews (~1024 px) of a scene show the same picture as its
    data asset, so a person comparing them sees one scene.
    """

    def make() -> bytes:
        return encode_png(to_display(resample_to(_pixels(grid, spec, seed), max_side)))

    return _CACHE.get_or_create(("png", grid, spec, seed, max_side), make)


def scene_grid(bbox: BBox, epsg: int | None = None, size: int | tuple[int, int] = 512) -> Grid:
    """:func:`compute_grid` defaulting to the UTM zone of the bbox centre."""
    if epsg is None:
        epsg = utm_epsg((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    return compute_grid(bbox, epsg, size)
