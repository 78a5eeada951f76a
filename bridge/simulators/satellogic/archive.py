"""The Satellogic simulator's deterministic synthetic archive: 2 km x 2 km tiles of captures.

A capture (``satl:outcome_id``) is one NewSat pass over a target: a strip a few km wide
and up to ~25 km long along track, cut into the cells of a 2 km grid. Every tile of a
capture shares its platform, off-nadir and sun angles, and has a similar cloud cover.

Each tile keeps two shapes:

* ``cell``: the 2 km grid cell it belongs to (named by ``grid:code``);
* its ``geometry``: the part of the cell the capture actually covers (edge tiles are
  partial; ``satl:valid_pixel`` is the covered share).

The grid is an approximation of Satellogic's UTM-based grid (zone + 2 km easting/northing
index; unconfirmed naming ``SATL-2KM-<zone><N|S>_<easting km>_<northing km>``): eastings
are computed with a local equirectangular projection, which is close enough to give
stable, adjacent, non-overlapping cells.

Native collections (ids beyond ``quickview-visual`` / ``quickview-visual-thumb`` are
unconfirmed): every capture is in ``quickview-visual`` (L1B, the default product) and its
browse mirror ``quickview-visual-thumb``; captures someone had processed further are also
in ``l1d`` (orthorectified) and ``l1d-sr`` (orthorectified, super-resolved to 0.7 m).
``scenes`` counts the product tiles (``quickview-visual`` + ``l1d`` + ``l1d-sr``); the
browse mirror comes on top.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from bridge.simulators.common import synth
from bridge.simulators.satellogic.geo import Grid, rect, sun_position

SEED_SALT = 0x5A7E_110C  # provider constant mixed into the seed: archives differ per provider

QUICKVIEW = "quickview-visual"
QUICKVIEW_THUMB = "quickview-visual-thumb"
L1D = "l1d"
L1D_SR = "l1d-sr"
NATIVE_COLLECTIONS = (QUICKVIEW, QUICKVIEW_THUMB, L1D, L1D_SR)

# native collection -> (satl:product_name, id infix, product version)
PRODUCTS: dict[str, tuple[str, str, str]] = {
    QUICKVIEW: ("QUICKVIEW_VISUAL", "QUICKVIEW_VISUAL", "1.4.0"),
    QUICKVIEW_THUMB: ("QUICKVIEW_VISUAL", "QUICKVIEW_VISUAL_THUMB", "1.4.0"),
    L1D: ("L1D", "L1D_MS", "1.2.0"),
    L1D_SR: ("L1D_SR", "L1D_SR_MS", "1.2.0"),
}

COG = "image/tiff; application=geotiff; profile=cloud-optimized"
# asset key -> (title, media type, roles, file extension), per native collection
_ASSET = {
    "analytic": ("Analytic multispectral COG (blue, green, red, nir)", COG, ["data"], "tif"),
    "analytic_rgb": ("Analytic visual COG (red, green, blue)", COG, ["data"], "tif"),
    "visual": ("Visual RGB COG", COG, ["visual"], "tif"),
    "preview": ("Preview", "image/png", ["overview"], "png"),
    "thumbnail": ("Thumbnail", "image/png", ["thumbnail"], "png"),
}
ASSET_LAYOUT: dict[str, tuple[tuple[str, str], ...]] = {
    QUICKVIEW: (("analytic", "analytic_rgb"), ("preview", "preview"), ("thumbnail", "thumbnail")),
    QUICKVIEW_THUMB: (("preview", "preview"), ("thumbnail", "thumbnail")),
    L1D: (
        ("analytic", "analytic"),
        ("visual", "visual"),
        ("preview", "preview"),
        ("thumbnail", "thumbnail"),
    ),
}
ASSET_LAYOUT[L1D_SR] = ASSET_LAYOUT[L1D]

# NewSat number -> year it started imaging (approximate launch batches).
_LAUNCH_YEAR = {n: 2018 for n in (4, 5)}
_LAUNCH_YEAR.update({n: 2020 for n in range(6, 19)})
_LAUNCH_YEAR.update({n: 2021 for n in range(19, 23)})
_LAUNCH_YEAR.update({n: 2022 for n in range(23, 28)})
_LAUNCH_YEAR.update({n: 2023 for n in range(28, 36)})
_LAUNCH_YEAR.update({n: 2024 for n in range(36, 41)})

TILE_KM = 2.0
_TILE_DT_S = 0.29  # ground track speed ~7 km/s: one 2 km row every ~0.29 s


@dataclass(frozen=True)
class Tile:
    """One native STAC item plus what the search evaluates on it."""

    item: dict[str, Any]
    """The native item without links and assets (added per response, see :func:`assets_for`)."""
    cell: tuple[float, float, float, float]
    """The grid cell's bbox (lon/lat): what the archive's spatial search matches."""
    collection: str
    id: str
    datetime: str


@dataclass
class Archive:
    """Every tile, in generation order, and an index by (collection, id).

    The generated archive is shared (cached per seed and size); an app works on its own
    :meth:`copy`, to which completed tasks :meth:`add` their captures.
    """

    tiles: tuple[Tile, ...]
    by_key: dict[tuple[str, str], Tile]
    by_id: dict[str, Tile]

    def copy(self) -> Archive:
        """An archive of the same tiles that can grow without touching this one."""
        return Archive(self.tiles, dict(self.by_key), dict(self.by_id))

    def add(self, tiles: list[Tile]) -> None:
        """Append new tiles (a tasked capture), found by every search from now on."""
        self.tiles = self.tiles + tuple(tiles)
        for tile in tiles:
            self.by_key[(tile.collection, tile.id)] = tile
            self.by_id[tile.id] = tile

    def product_tile_count(self) -> int:
        """Tiles in the product collections (the browse mirror excluded)."""
        return sum(1 for t in self.tiles if t.collection != QUICKVIEW_THUMB)


def _fmt(t: datetime) -> str:
    # naive UTC datetimes throughout: isoformat is much faster than strftime
    return t.isoformat(timespec="microseconds") + "Z"


def _capture_time(rng: random.Random, lon: float) -> datetime:
    # NewSats fly sun-synchronous orbits: local solar time near 10:30 at the target.
    day = synth.acquisition_time(rng).replace(
        hour=0, minute=0, second=0, microsecond=0, tzinfo=None
    )
    local_h = 10.5 + rng.gauss(0, 0.4)
    return day + timedelta(hours=local_h - lon / 15, microseconds=rng.randrange(1_000_000))


def _cloud_base(rng: random.Random) -> float:
    band = synth.weighted(rng, {"clear": 0.5, "partly": 0.3, "cloudy": 0.2})
    if band == "clear":
        return rng.uniform(0, 10)
    return rng.uniform(10, 50) if band == "partly" else rng.uniform(50, 100)


def assets_for(collection: str, item_id: str, root: str) -> dict[str, dict[str, Any]]:
    """The native assets of a tile, with hrefs on the API host ``root`` (built per response:
    keeping them out of the stored items keeps generation fast)."""
    out = {}
    for key, kind in ASSET_LAYOUT[collection]:
        title, media, roles, ext = _ASSET[kind]
        href = f"{root}/archive/assets/{collection}/{item_id}/{key}.{ext}"
        out[key] = {"href": href, "title": title, "type": media, "roles": roles}
    return out


_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
]


def _cell_tiles(
    capture: dict[str, Any], collections: list[str], cell: dict[str, Any]
) -> list[Tile]:
    """The tiles of one grid cell of a capture, one per native collection it is in."""
    w, s, e, n = cell["bbox"]
    geometry = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
    base = {
        "datetime": cell["datetime"],
        "platform": capture["platform"],
        "constellation": "satellogic",
        "eo:cloud_cover": cell["cloud"],
        "view:off_nadir": capture["off_nadir"],
        "view:azimuth": capture["view_azimuth"],
        "view:sun_elevation": capture["sun_el"],
        "view:sun_azimuth": capture["sun_az"],
        "proj:epsg": capture["epsg"],
        "grid:code": cell["code"],
        "satl:outcome_id": capture["outcome_id"],
        "satl:valid_pixel": cell["valid"],
        "created": cell["created"],
        "updated": cell["created"],
    }
    out = []
    for collection in collections:
        product, infix, version = PRODUCTS[collection]
        gsd = 0.7 if collection == L1D_SR else capture["gsd"]
        px = round(TILE_KM * 1000 / gsd)
        item_id = f"{capture['stamp']}_{capture['sn']}_{infix}_{cell['code']}"
        props = {
            **base,
            "gsd": gsd,
            "proj:shape": [px, px],
            "proj:transform": [gsd, 0.0, cell["x0"] * 1000, 0.0, -gsd, cell["y1"] * 1000],
            "satl:product_name": product,
            "satl:product_version": version,
        }
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": _EXTENSIONS,
            "id": item_id,
            "collection": collection,
            "geometry": geometry,
            "bbox": cell["bbox"],
            "properties": props,
        }
        out.append(Tile(item, cell["cell"], collection, item_id, cell["datetime"]))
    return out


def _cells(
    rng: random.Random, capture: dict[str, Any], lon: float, lat: float
) -> list[dict[str, Any]]:
    """The grid cells a capture strip covers, north to south (a descending pass)."""
    grid = Grid(lon, lat)
    cx, cy = grid.to_km(lon, lat)
    width, length = rng.uniform(3.0, 5.6), rng.uniform(2.5, 14.0)
    x0, x1, y0, y1 = cx - width / 2, cx + width / 2, cy - length / 2, cy + length / 2
    capture["epsg"] = grid.epsg
    out = []
    rows = range(math.floor(y1 / TILE_KM), math.floor(y0 / TILE_KM) - 1, -1)
    for row_n, iy in enumerate(rows):
        cy0, cy1 = iy * TILE_KM, (iy + 1) * TILE_KM
        lat_ref = grid.to_lonlat(0, (cy0 + cy1) / 2, 0)[1]
        when = capture["start"] + timedelta(seconds=row_n * _TILE_DT_S)
        for ix in range(math.floor(x0 / TILE_KM), math.floor(x1 / TILE_KM) + 1):
            cx0, cx1 = ix * TILE_KM, (ix + 1) * TILE_KM
            fx0, fx1, fy0, fy1 = max(cx0, x0), min(cx1, x1), max(cy0, y0), min(cy1, y1)
            if fx1 - fx0 < 0.05 or fy1 - fy0 < 0.05:
                continue  # a sliver: the archive drops tiles with almost no valid pixels
            cloud = min(100.0, max(0.0, capture["cloud"] + rng.gauss(0, 6)))
            out.append(
                {
                    "code": grid.code(ix, iy),
                    "cell": tuple(rect(grid, cx0, cy0, cx1, cy1, lat_ref)),
                    "bbox": rect(grid, fx0, fy0, fx1, fy1, lat_ref),
                    "x0": cx0,
                    "y1": cy1,
                    "valid": round(100 * (fx1 - fx0) * (fy1 - fy0) / TILE_KM**2, 2),
                    "cloud": round(cloud, 2),
                    "datetime": _fmt(when),
                    "created": _fmt(when + capture["latency"]),
                }
            )
    return out


def _capture(rng: random.Random) -> tuple[dict[str, Any], float, float] | None:
    lon, lat = synth.location(rng)
    start = _capture_time(rng, lon)
    sun_el, sun_az = sun_position(lat, start, lon)
    if sun_el < 10:
        return None  # optical: nobody images in the dark or at grazing sun
    sats = [n for n, year in _LAUNCH_YEAR.items() if year <= start.year]
    sn = rng.choice(sats)
    off_nadir = round(min(30.0, abs(rng.gauss(0, 11))), 2)
    look_right = rng.random() < 0.5
    heading = 190.0 + rng.uniform(-4, 4)
    base_gsd = 0.7 if sn >= 23 else 0.99
    capture = {
        "start": start,
        "stamp": start.strftime("%Y%m%d_%H%M%S"),
        "sn": f"SN{sn}",
        "platform": f"newsat-{sn}",
        "outcome_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "off_nadir": off_nadir,
        "view_azimuth": round((heading + (90 if look_right else -90)) % 360, 2),
        "sun_el": round(sun_el, 2),
        "sun_az": round(sun_az, 2),
        "gsd": round(base_gsd * (1 + off_nadir / 100), 2),
        "cloud": _cloud_base(rng),
        "latency": timedelta(hours=rng.uniform(2, 30)),
        "levels": synth.weighted(rng, {"l1b": 0.55, "l1d": 0.15, "both": 0.30}),
    }
    return capture, lon, lat


@cache
def build_archive(seed: int, scenes: int) -> Archive:
    """Generate ``scenes`` product tiles (plus their browse mirror) deterministically."""
    rng = random.Random(seed ^ SEED_SALT)
    tiles: list[Tile] = []
    count = 0
    while count < scenes:
        made = _capture(rng)
        if made is None:
            continue
        capture, lon, lat = made
        collections = [QUICKVIEW]
        if capture["levels"] != "l1b":
            collections.append(L1D)
        if capture["levels"] == "both":
            collections.append(L1D_SR)
        for cell in _cells(rng, capture, lon, lat):
            wanted = collections[: scenes - count]
            if not wanted:
                break
            count += len(wanted)
            tiles.extend(_cell_tiles(capture, [*wanted, QUICKVIEW_THUMB], cell))
    by_key = {(t.collection, t.id): t for t in tiles}
    return Archive(tuple(tiles), by_key, {t.id: t for t in tiles})


def tasked_capture(
    seed: int, outcome_id: str, lon: float, lat: float, when: datetime, collections: list[str]
) -> list[Tile]:
    """The tiles of new capture ``outcome_id`` over (``lon``, ``lat``) taken at ``when``
    (naive UTC) for a task.

    It is cut into grid tiles like every archive capture, in ``collections`` plus the
    browse mirror, with angles and cloud drawn from ``seed`` and the outcome id: the same
    task always yields the same capture.
    """
    rng = random.Random(f"{seed}:{outcome_id}")
    sun_el, sun_az = sun_position(lat, when, lon)
    sn = rng.choice([n for n, year in _LAUNCH_YEAR.items() if year >= 2022])
    off_nadir = round(min(30.0, abs(rng.gauss(0, 8))), 2)
    heading = 190.0 + rng.uniform(-4, 4)
    capture: dict[str, Any] = {
        "start": when,
        "stamp": when.strftime("%Y%m%d_%H%M%S"),
        "sn": f"SN{sn}",
        "platform": f"newsat-{sn}",
        "outcome_id": outcome_id,
        "off_nadir": off_nadir,
        "view_azimuth": round((heading + 90) % 360, 2),
        "sun_el": round(max(sun_el, 10.0), 2),
        "sun_az": round(sun_az, 2),
        "gsd": round(0.7 * (1 + off_nadir / 100), 2),
        "cloud": rng.uniform(0, 10),
        "latency": timedelta(seconds=0),
    }
    tiles: list[Tile] = []
    for cell in _cells(rng, capture, lon, lat):
        tiles.extend(_cell_tiles(capture, [*collections, QUICKVIEW_THUMB], cell))
    return tiles
