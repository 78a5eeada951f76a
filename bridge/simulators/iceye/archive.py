"""ICEYE's synthetic archive: frames (acquisitions) and the products made from each.

A *frame* is one acquisition (ICEYE v2 sells by ``frame_id``); each frame yields several
catalog items, one per product type (GRD and SLC always; SICD, SIDD, CSI, VID sometimes).
``scenes`` counts catalog items. Scenes are kept in the native v2 property vocabulary;
:mod:`bridge.simulators.iceye.render` turns them into v1 or v2 catalog items.
"""

from __future__ import annotations

import dataclasses
import math
import random
import uuid
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from bridge.simulators.common import synth

# Mixed into the seed so the ICEYE archive differs from the other simulators' archives.
SEED_SALT = 0x1CE7E

# (acquisition mode, sar:instrument_mode, file-name code, width km, length km,
#  duration s, azimuth resolution m, range resolution m, weight).
# Footprints and resolutions follow ICEYE's published mode sheets (rounded).
MODES: tuple[tuple[str, str, str, float, float, float, float, float, float], ...] = (
    ("spotlight", "spotlight", "SL", 5.0, 5.0, 10.0, 0.5, 0.5, 0.30),
    ("spotlight_extended_area", "spotlight", "SLEA", 15.0, 15.0, 15.0, 1.0, 1.0, 0.10),
    ("dwell", "spotlight", "DW", 5.0, 5.0, 25.0, 0.25, 0.5, 0.07),
    ("stripmap", "strip", "SM", 30.0, 50.0, 10.0, 3.0, 2.5, 0.35),
    ("scan", "scan", "SC", 100.0, 100.0, 20.0, 15.0, 15.0, 0.18),
)
_MODE_WEIGHTS = [m[-1] for m in MODES]

# Optional products per frame: (product type, probability, only for these modes or None).
OPTIONAL_PRODUCTS: tuple[tuple[str, float, frozenset[str] | None], ...] = (
    ("SICD", 0.35, None),
    ("SIDD", 0.25, None),
    ("CSI", 0.40, frozenset({"spotlight", "spotlight_extended_area", "dwell"})),
    ("VID", 0.60, frozenset({"dwell"})),
)

# Product asset keys are ``<product type>-tif`` / ``<product type>-xml``: ICEYE docs "task
# products" show ``grd-tif`` ("GRD data file", ``image/tiff; application=geotiff``) and
# ``grd-xml`` (GRD metadata); the other types' keys follow the same pattern (assumed).
GEOTIFF_MEDIA_TYPE = "image/tiff; application=geotiff"
XML_MEDIA_TYPE = "application/xml"
# Title of each product type's data file. Every data file is served as a small
# Cloud-Optimized GeoTIFF on a UTM grid over the footprint (ICEYE sells GRD-COG and
# SLC-COG variants); the NITF (SICD/SIDD), HDF5 (SLC) and MP4 (VID) encodings are not
# simulated: the bridge only needs a real, georeferenced raster to hand out.
DATA_TITLES: dict[str, str] = {
    "GRD": "GRD data file",
    "SLC": "SLC image (amplitude)",
    "SICD": "SICD image (amplitude)",
    "SIDD": "SIDD image",
    "CSI": "Color sub-aperture image",
    "VID": "Video (first frame)",
}
# Satellites and the year each entered service: only those flying can image a date.
_PLATFORM_LAUNCH_YEARS = (
    (2, 2018),
    (4, 2019),
    (5, 2019),
    *((n, 2020) for n in (6, 7)),
    *((n, 2021) for n in range(8, 18)),
    *((n, 2022) for n in range(18, 27)),
    *((n, 2023) for n in range(27, 36)),
    *((n, 2024) for n in range(36, 45)),
    *((n, 2025) for n in range(45, 51)),
)
_PLATFORMS = tuple(f"ICEYE-X{n}" for n, _ in _PLATFORM_LAUNCH_YEARS)
_LAUNCH_TS = tuple(datetime(y, 7, 1, tzinfo=UTC).timestamp() for _, y in _PLATFORM_LAUNCH_YEARS)

PUBLIC = "public"
PRIVATE = "private"
NATIVE_COLLECTIONS = (PUBLIC, PRIVATE)
"""The catalog's two collections: the whole public catalog, and the frames the caller
owns (ICEYE docs "build a catalog application"; app-examples ``CatalogSearch.jsx``)."""
_EARTH_RADIUS_KM = 6371.0
_ORBIT_ALTITUDE_KM = 560.0


@dataclass(frozen=True)
class Scene:
    """One catalog item: what searches evaluate, and its native v2 properties."""

    id: str
    collection: str
    product_type: str
    bbox: tuple[float, float, float, float]
    start: float
    """Acquisition start, epoch seconds."""
    end: float
    geometry: dict[str, Any]
    properties: dict[str, Any]
    """Native v2 properties (STAC-prefixed names)."""
    assets: tuple[tuple[str, str, str, str, str], ...]
    """(key, file name, title, media type, role) for each asset."""


@dataclass(frozen=True, eq=False)
class Archive:
    """Every scene, and indexes by item id and by frame id (hashed by identity, for
    per-archive caches)."""

    scenes: tuple[Scene, ...]
    by_id: dict[str, Scene]
    by_frame: dict[str, tuple[Scene, ...]]
    """The products of each frame (what one v2 purchase of the frame delivers)."""


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _look_angle(incidence_deg: float) -> float:
    # Off-nadir look angle for a given ground incidence angle (spherical Earth).
    ratio = _EARTH_RADIUS_KM / (_EARTH_RADIUS_KM + _ORBIT_ALTITUDE_KM)
    return math.degrees(math.asin(ratio * math.sin(math.radians(incidence_deg))))


def _frame(rng: random.Random, number: int) -> dict[str, Any]:
    """The acquisition-level facts shared by every product of one frame."""
    mode = rng.choices(MODES, weights=_MODE_WEIGHTS, k=1)[0]
    start = synth.acquisition_time(rng)
    flying = max(1, bisect_right(_LAUNCH_TS, start.timestamp()))
    orbit = "ascending" if rng.random() < 0.5 else "descending"
    lon, lat = synth.location(rng)
    footprint = synth.rotated_rectangle(lon, lat, mode[3], mode[4], synth.heading_for(orbit, rng))
    incidence = round(rng.uniform(12.0, 45.0) if mode[0] != "scan" else rng.uniform(20, 40), 2)
    fine = mode[1] != "scan" and rng.random() < 0.2
    end = start + timedelta(seconds=round(mode[5] * rng.uniform(0.8, 1.2), 3))
    created = start + timedelta(hours=rng.uniform(2, 48))
    # Strings and epochs are computed once per frame: formatting dominates generation time.
    return {
        "number": number,
        "frame_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "mode": mode,
        "start_iso": _iso(start),
        "end_iso": _iso(end),
        "created_iso": _iso(created),
        "stamp": start.strftime("%Y%m%dT%H%M%S"),
        "start": start.timestamp(),
        "end": end.timestamp(),
        "platform": _PLATFORMS[rng.randrange(max(0, flying - 24), flying)],
        "orbit": orbit,
        "footprint": footprint,
        "incidence": incidence,
        "look": round(_look_angle(incidence), 2),
        "direction": "right" if rng.random() < 0.7 else "left",
        "polarization": "VV" if rng.random() < 0.85 else "HH",
        "processing": "fine" if fine else "nominal",
        # Drawn (and unused) so the archive stays what it was when 10% of frames were
        # marked as tasked: every archive frame is in the public catalog.
        "tasked": rng.random() < 0.1,
    }


def _product_types(rng: random.Random, acquisition_mode: str) -> list[str]:
    types = ["GRD", "SLC"]
    for ptype, chance, modes in OPTIONAL_PRODUCTS:
        if (modes is None or acquisition_mode in modes) and rng.random() < chance:
            types.append(ptype)
    return types


def _scene(frame: dict[str, Any], ptype: str) -> Scene:
    mode = frame["mode"]
    sat = frame["platform"].split("-", 1)[1]
    item_id = f"ICEYE_{sat}_{ptype}_{mode[2]}_{frame['number']}_{frame['stamp']}"
    scale = 1.0 if ptype in ("SLC", "SICD") else 1.15  # detected products are multilooked
    props = {
        "datetime": frame["start_iso"],
        "start_datetime": frame["start_iso"],
        "end_datetime": frame["end_iso"],
        "created": frame["created_iso"],
        "frame_id": frame["frame_id"],
        "platform": frame["platform"],
        "constellation": "ICEYE",
        "sar:instrument_mode": mode[1],
        "sar:product_type": ptype,
        "sar:polarizations": [frame["polarization"]],
        "sar:observation_direction": frame["direction"],
        "sat:orbit_state": frame["orbit"],
        "iceye:incidence_center": frame["incidence"],
        "iceye:satellite_look_angle": frame["look"],
        "iceye:acquisition_mode": mode[0],
        "iceye:processing_mode": frame["processing"],
        "iceye:azimuth_resolution": round(mode[6] * scale, 2),
        "iceye:range_resolution_center": round(mode[7] * scale, 2),
    }
    code = ptype.lower()
    assets = (
        (f"{code}-tif", f"{item_id}.tif", DATA_TITLES[ptype], GEOTIFF_MEDIA_TYPE, "data"),
        (f"{code}-xml", f"{item_id}.xml", f"{ptype} metadata", XML_MEDIA_TYPE, "metadata"),
        ("thumbnail", f"{item_id}_thumb.jpg", "Thumbnail", "image/jpeg", "thumbnail"),
        ("thumbnail-png", f"{item_id}_thumb.png", "Thumbnail (PNG)", "image/png", "thumbnail"),
    )
    fp = frame["footprint"]
    return Scene(
        id=item_id,
        collection=PUBLIC,
        product_type=ptype,
        bbox=fp.bbox,
        start=frame["start"],
        end=frame["end"],
        geometry=fp.geometry,
        properties=props,
        assets=assets,
    )


MODE_BY_NAME = {m[0]: m for m in MODES}


def tasked_scenes(
    rng: random.Random,
    number: int,
    acquisition_mode: str,
    point: tuple[float, float],
    start: datetime,
    product_types: tuple[str, ...],
) -> tuple[Scene, ...]:
    """The products of one tasked acquisition: a frame like the archive's own, centred on
    ``point`` (lon, lat) and acquired at ``start``, one scene per product type (private:
    only the task's owner finds them, see :mod:`bridge.simulators.iceye.search`)."""
    mode = MODE_BY_NAME[acquisition_mode]
    orbit = "ascending" if rng.random() < 0.5 else "descending"
    footprint = synth.rotated_rectangle(
        point[0], point[1], mode[3], mode[4], synth.heading_for(orbit, rng)
    )
    incidence = round(rng.uniform(15.0, 40.0), 2)
    end = start + timedelta(seconds=mode[5])
    flying = max(1, bisect_right(_LAUNCH_TS, start.timestamp()))
    frame = {
        "number": number,
        "frame_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "mode": mode,
        "start_iso": _iso(start),
        "end_iso": _iso(end),
        "created_iso": _iso(start + timedelta(hours=1)),
        "stamp": start.strftime("%Y%m%dT%H%M%S"),
        "start": start.timestamp(),
        "end": end.timestamp(),
        "platform": _PLATFORMS[rng.randrange(max(0, flying - 24), flying)],
        "orbit": orbit,
        "footprint": footprint,
        "incidence": incidence,
        "look": round(_look_angle(incidence), 2),
        "direction": "right" if rng.random() < 0.7 else "left",
        "polarization": "VV",
        "processing": "nominal",
    }
    return tuple(
        dataclasses.replace(_scene(frame, ptype), collection=PRIVATE) for ptype in product_types
    )


def with_scenes(base: Archive, extra: tuple[Scene, ...]) -> Archive:
    """``base`` plus ``extra`` scenes (tasked products), indexes rebuilt."""
    if not extra:
        return base
    scenes = base.scenes + extra
    by_frame = dict(base.by_frame)
    for scene in extra:
        frame = scene.properties["frame_id"]
        by_frame[frame] = (*by_frame.get(frame, ()), scene)
    by_id = {**base.by_id, **{s.id: s for s in extra}}
    return Archive(scenes=scenes, by_id=by_id, by_frame=by_frame)


@cache
def build_archive(seed: int, scenes: int) -> Archive:
    """The deterministic archive of ``scenes`` catalog items for ``seed`` (cached)."""
    rng = random.Random(seed ^ SEED_SALT)
    items: list[Scene] = []
    number = 10000
    while len(items) < scenes:
        number += rng.randint(1, 40)
        frame = _frame(rng, number)
        for ptype in _product_types(rng, frame["mode"][0]):
            if len(items) < scenes:
                items.append(_scene(frame, ptype))
    frames: dict[str, list[Scene]] = {}
    for scene in items:
        frames.setdefault(scene.properties["frame_id"], []).append(scene)
    return Archive(
        scenes=tuple(items),
        by_id={s.id: s for s in items},
        by_frame={frame: tuple(scenes) for frame, scenes in frames.items()},
    )
