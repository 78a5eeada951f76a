"""The Arlula simulator's deterministic synthetic archive: scenes from several suppliers.

Arlula is a marketplace: each scene belongs to a *supplier* (its key is what the API's
``supplier`` field and filter use) and a *platform*. The supplier table below is data:
resolution, footprint size, off-nadir range, minimum order area (MOQ), whether the
supplier sells areas of interest (AOI) or only whole scenes, price per km² in US cents,
spectral bands and the bundles sold. Values are realistic for the platforms named, but
the supplier keys, band lists, bundle keys and rates are assumed (no public list).
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from typing import Any

import numpy as np
import shapely

from bridge.simulators.common import synth

KM2_PER_DEG2_EQUATOR = 111.320 * 110.574  # km² in one square degree at the equator
# Mixed into the configured seed so each simulator draws a different archive.
SEED_SALT = 0xA21A1A


@dataclass(frozen=True)
class Supplier:
    """One supplier of the marketplace and the imagery it sells."""

    key: str
    platforms: tuple[tuple[str, float], ...]  # (platform as Arlula names it, gsd in metres)
    weight: float
    width_km: tuple[float, float]
    length_km: tuple[float, float]
    max_off_nadir: float
    moq_km2: float
    aoi: bool  # False: whole scenes only (annotation NAOI)
    cents_per_km2: int
    fulfillment_h: tuple[float, ...]
    bands: tuple[tuple[str, str, float, float], ...]  # (name, id, min nm, max nm)
    bundles: tuple[tuple[str, str, tuple[str, ...], float], ...]  # (name, key, band ids, factor)


_PAN = ("Panchromatic", "PAN", 450.0, 800.0)
_BLUE = ("Blue", "B", 450.0, 520.0)
_GREEN = ("Green", "G", 520.0, 600.0)
_RED = ("Red", "R", 630.0, 690.0)
_NIR = ("Near Infrared", "NIR", 760.0, 900.0)
_VHR_BUNDLES = (
    ("Visual (RGB)", "visual", ("R", "G", "B"), 1.0),
    ("Multispectral", "multispectral", ("B", "G", "R", "NIR"), 1.1),
    ("Pansharpened + Panchromatic", "pansharpened", (), 1.3),
)

SUPPLIERS: tuple[Supplier, ...] = (
    Supplier(
        key="maxar",
        platforms=(("WorldView-3", 0.31), ("WorldView-2", 0.46), ("GeoEye-1", 0.41)),
        weight=0.15,
        width_km=(13.0, 13.5),
        length_km=(13.0, 20.0),
        max_off_nadir=30.0,
        moq_km2=25.0,
        aoi=True,
        cents_per_km2=2200,
        fulfillment_h=(24.0, 48.0, 72.0),
        bands=(_PAN, _BLUE, _GREEN, _RED, _NIR),
        bundles=_VHR_BUNDLES,
    ),
    Supplier(
        key="siis",  # SI Imaging Services (KOMPSAT), named in seed 002's changelog
        platforms=(("KOMPSAT-3A", 0.55), ("KOMPSAT-3", 0.7)),
        weight=0.18,
        width_km=(12.0, 16.0),
        length_km=(12.0, 16.0),
        max_off_nadir=30.0,
        moq_km2=25.0,
        aoi=True,
        cents_per_km2=1400,
        fulfillment_h=(24.0, 48.0),
        bands=(_PAN, _BLUE, _GREEN, _RED, _NIR),
        bundles=_VHR_BUNDLES,
    ),
    Supplier(
        key="21at",  # Twenty First Century Aerospace Technology (TripleSat)
        platforms=(("TripleSat-1", 0.8), ("TripleSat-2", 0.8), ("TripleSat-3", 0.8)),
        weight=0.15,
        width_km=(15.0, 20.0),
        length_km=(15.0, 20.0),
        max_off_nadir=25.0,
        moq_km2=25.0,
        aoi=True,
        cents_per_km2=900,
        fulfillment_h=(12.0, 24.0, 48.0),
        bands=(_PAN, _BLUE, _GREEN, _RED, _NIR),
        bundles=_VHR_BUNDLES,
    ),
    Supplier(
        key="satellogic",
        platforms=(("NewSat", 0.7), ("NewSat Mark IV", 1.0)),
        weight=0.15,
        width_km=(10.0, 12.0),
        length_km=(10.0, 20.0),
        max_off_nadir=20.0,
        moq_km2=25.0,
        aoi=True,
        cents_per_km2=800,
        fulfillment_h=(0.0, 6.0, 24.0),
        bands=(_BLUE, _GREEN, _RED, _NIR),
        bundles=(
            ("Visual (RGB)", "visual", ("R", "G", "B"), 1.0),
            ("Multispectral", "ms", (), 1.2),
        ),
    ),
    Supplier(
        key="airbus",
        platforms=(("SPOT-6", 1.5), ("SPOT-7", 1.5)),
        weight=0.1,
        width_km=(18.0, 20.0),
        length_km=(18.0, 20.0),
        max_off_nadir=30.0,
        moq_km2=100.0,
        aoi=True,
        cents_per_km2=350,
        fulfillment_h=(24.0, 48.0),
        bands=(_PAN, _BLUE, _GREEN, _RED, _NIR),
        bundles=(("Visual (RGB)", "visual", ("R", "G", "B"), 1.0), ("PAN + MS", "bundle", (), 1.2)),
    ),
    Supplier(
        key="planet",
        platforms=(("PlanetScope", 3.0),),
        weight=0.15,
        width_km=(10.0, 12.0),
        length_km=(18.0, 20.0),
        max_off_nadir=5.0,
        moq_km2=100.0,
        aoi=False,
        cents_per_km2=180,
        fulfillment_h=(0.0, 2.0),
        bands=(_BLUE, _GREEN, _RED, _NIR),
        bundles=(("Analytic (4 band)", "analytic", (), 1.0),),
    ),
    Supplier(
        key="esa",  # a public dataset, free of charge
        platforms=(("Sentinel-2A", 10.0), ("Sentinel-2B", 10.0)),
        weight=0.12,
        width_km=(20.0, 20.0),
        length_km=(20.0, 20.0),
        max_off_nadir=10.0,
        moq_km2=0.0,
        aoi=False,
        cents_per_km2=0,
        fulfillment_h=(0.0,),
        bands=(_BLUE, _GREEN, _RED, _NIR),
        bundles=(("Level 1C", "l1c", (), 1.0),),
    ),
)
SUPPLIERS_BY_KEY = {s.key: s for s in SUPPLIERS}

# (name, href slug, loadingPercent, loadingAmount in US cents): the license options every
# paid supplier offers. Names follow Arlula's marketplace wording; hrefs are assumed.
LICENSES: tuple[tuple[str, str, float, int], ...] = (
    ("Standard", "standard", 0.0, 0),
    ("Standard + 1-5 seats", "standard-5", 50.0, 0),
    ("Enterprise", "enterprise", 100.0, 5000),
)
FREE_LICENSES: tuple[tuple[str, str, float, int], ...] = (
    ("Open (CC BY-SA 3.0 IGO)", "open", 0.0, 0),
)


@dataclass(frozen=True)
class Archive:
    """Every scene as a plain dict, plus arrays for fast spatial evaluation."""

    scenes: tuple[dict[str, Any], ...]
    bboxes: np.ndarray  # shape (n, 4): west, south, east, north
    times: np.ndarray  # epoch seconds of each scene's date
    footprints: np.ndarray  # shapely Polygons, one per scene
    areas_km2: np.ndarray  # footprint areas


def _scene_id(supplier: str, platform: str, rng: random.Random, when: str) -> str:
    """A supplier-style scene id (formats imitate each supplier's catalogue ids)."""
    compact = when.replace("-", "").replace(":", "").replace("T", "")[:14]
    if supplier == "maxar":
        return f"10{rng.randrange(3, 5)}001{rng.getrandbits(40):010X}"
    if supplier == "siis":
        prefix = "K3A" if platform.endswith("3A") else "K3"
        return f"{prefix}_{compact}_{rng.randrange(10000, 60000)}_{rng.randrange(10**7):08d}_L1R"
    if supplier == "21at":
        return f"TRIPLESAT_{platform[-1]}_PMS_L1_{compact}_{rng.getrandbits(32):08X}"
    if supplier == "satellogic":
        serial = rng.randrange(15, 50)
        return f"{compact[:8]}_{compact[8:]}_SN{serial}_L1D_MS_{rng.getrandbits(24):06x}"
    if supplier == "airbus":
        spot, tenth = platform.replace("-", ""), rng.randrange(10)
        return f"DS_{spot}_{compact}{tenth}_FR1_FR1_SV1_SV1_E{rng.randrange(100):03d}"
    if supplier == "planet":
        return f"{compact[:8]}_{compact[8:]}_{rng.randrange(10, 99)}_{rng.getrandbits(16):04x}"
    sat = "S2A" if platform.endswith("A") else "S2B"
    orbit, zone = rng.randrange(1, 143), rng.randrange(1, 61)
    return f"{sat}_MSIL1C_{compact[:8]}T{compact[8:]}_N0509_R{orbit:03d}_T{zone:02d}XYZ"


_CUM_WEIGHTS = tuple(itertools.accumulate(s.weight for s in SUPPLIERS))


def _scene(rng: random.Random) -> dict[str, Any]:
    supplier = SUPPLIERS[bisect.bisect(_CUM_WEIGHTS, rng.random() * _CUM_WEIGHTS[-1])]
    platform, gsd = rng.choice(supplier.platforms)
    lon, lat = synth.location(rng)
    when = synth.acquisition_time(rng).astimezone(UTC)
    date = when.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    heading = synth.heading_for(rng.choice(("ascending", "descending")), rng)
    foot = synth.rotated_rectangle(
        lon, lat, rng.uniform(*supplier.width_km), rng.uniform(*supplier.length_km), heading
    )
    # Optical archives skew clear: about 60 % of sellable scenes are under 30 % cloud.
    cloud = round(100.0 * rng.random() ** 2.3, 2)
    return {
        "sceneID": _scene_id(supplier.key, platform, rng, date),
        "supplier": supplier.key,
        "platform": platform,
        "date": date,
        "epoch": when.timestamp(),
        "gsd": gsd,
        "cloud": cloud,
        "offNadir": round(rng.uniform(0, supplier.max_off_nadir), 2),
        "fulfillmentTime": rng.choice(supplier.fulfillment_h),
        "bounding": foot.coordinates,
        "bbox": foot.bbox,
        "center": {"long": round(lon, 6), "lat": round(lat, 6)},
    }


@cache
def build_archive(seed: int, scenes: int) -> Archive:
    """The archive for ``(seed, scenes)``: generated once per process, then shared."""
    rng = random.Random(seed ^ SEED_SALT)
    items = tuple(_scene(rng) for _ in range(scenes))
    bboxes = np.array([s["bbox"] for s in items], dtype=float).reshape(-1, 4)
    times = np.array([s["epoch"] for s in items], dtype=float)
    footprints = shapely.polygons([s["bounding"][0] for s in items])
    lats = np.radians((bboxes[:, 1] + bboxes[:, 3]) / 2)
    areas = shapely.area(footprints) * KM2_PER_DEG2_EQUATOR * np.maximum(np.cos(lats), 1e-6)
    return Archive(items, bboxes, times, footprints, areas)
