"""Capella's deterministic synthetic archive: collects, and the products made from each.

One *collect* is one radar acquisition (a ``capella:collect_id``); Capella processes it into
several products (SLC, GEO, GEC, SICD, and often SIDD and CPHD), each a catalog item of its
own collection with the same footprint and times. ``scenes`` counts items (products), so a
6000-scene archive holds about 1200 collects.

Parameters follow Capella's published product specifications where known (X band at
9.65 GHz, HH or VV, spotlight ~5x5 km, sliding spotlight ~5x10 km, stripmap ~5x20 km,
incidence 15-55 degrees, ~525 km orbits in 45, 53 and 97 degree planes); the exact
distributions are invented.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from shapely.geometry import Polygon

from bridge.simulators.common import synth

_SEED_SALT = 0xCA9E11A  # keeps Capella's archive independent of other simulators' at one seed

COLLECTIONS: dict[str, str] = {  # product type -> native collection id
    "SLC": "capella-slc",
    "GEO": "capella-geo",
    "GEC": "capella-gec",
    "SICD": "capella-sicd",
    "SIDD": "capella-sidd",
    "CPHD": "capella-cphd",
}
GEOCODED = frozenset({"GEO", "GEC", "SIDD"})
COMPLEX = frozenset({"SLC", "SICD", "CPHD"})
# Share of collects that get each optional product (SLC, GEO, GEC and SICD always exist).
OPTIONAL_PRODUCTS = {"SIDD": 0.7, "CPHD": 0.4}
PROCESSING_DELAY = timedelta(hours=6)
"""Between a collect's end and its products' ``created`` (assumed; no source gives it)."""

# (satellite number, first imagery, orbital plane inclination). Launch dates approximate;
# capella-1 (the 2018 demonstrator) images only until capella-2 is up.
PLATFORMS: tuple[tuple[int, datetime, int], ...] = (
    (1, datetime(2019, 1, 1, tzinfo=UTC), 97),
    (2, datetime(2020, 9, 1, tzinfo=UTC), 97),
    (3, datetime(2021, 2, 1, tzinfo=UTC), 53),
    (4, datetime(2021, 2, 1, tzinfo=UTC), 53),
    (5, datetime(2021, 7, 1, tzinfo=UTC), 97),
    (6, datetime(2021, 6, 1, tzinfo=UTC), 53),
    (7, datetime(2022, 4, 1, tzinfo=UTC), 97),
    (8, datetime(2022, 4, 1, tzinfo=UTC), 97),
    (9, datetime(2023, 3, 20, tzinfo=UTC), 45),
    (10, datetime(2023, 3, 20, tzinfo=UTC), 45),
    (11, datetime(2023, 8, 25, tzinfo=UTC), 45),
    (12, datetime(2024, 8, 20, tzinfo=UTC), 97),
    (13, datetime(2024, 8, 20, tzinfo=UTC), 97),
    (14, datetime(2024, 9, 15, tzinfo=UTC), 45),
    (15, datetime(2024, 9, 15, tzinfo=UTC), 53),
)


@dataclass(frozen=True)
class Mode:
    """How one imaging mode shapes a collect."""

    code: str
    instrument_mode: str
    weight: float
    width_km: float
    length_km: float
    duration_s: tuple[float, float]
    resolution_azimuth: tuple[float, float]
    resolution_slant_range: tuple[float, float]
    geo_pixel_spacing: float
    collection_types: dict[str, float]


MODES: tuple[Mode, ...] = (
    Mode("SP", "spotlight", 0.45, 5.0, 5.0, (8.0, 30.0), (0.45, 0.6), (0.3, 0.5), 0.35,
         {"spotlight": 0.8, "spotlight_ultra": 0.2}),
    Mode("SS", "sliding_spotlight", 0.2, 5.0, 10.0, (5.0, 15.0), (0.8, 1.0), (0.45, 0.7), 0.5,
         {"sliding_spotlight": 1.0}),
    Mode("SM", "stripmap", 0.35, 5.0, 20.0, (3.0, 8.0), (1.1, 1.4), (0.9, 1.8), 0.8,
         {"stripmap_20": 1.0}),
)  # fmt: skip

_CAPELLA_2_START = PLATFORMS[1][1]
_EARTH_RADIUS_KM = 6371.0
_ORBIT_HEIGHT_KM = 525.0


@dataclass
class Archive:
    """Every native item (without assets, which depend on the serving host) plus indexes."""

    items: list[dict[str, Any]]
    bboxes: list[tuple[float, float, float, float]]
    times: list[float]
    """``properties.datetime`` of each item as a POSIX timestamp."""
    by_id: dict[str, int]
    _polygons: dict[int, Polygon] = field(default_factory=dict, repr=False)

    def copy(self) -> Archive:
        """An archive of its own for one simulator app (tasks add items to it)."""
        return Archive(list(self.items), list(self.bboxes), list(self.times), dict(self.by_id))

    def add(self, item: dict[str, Any]) -> bool:
        """Append a new item (a tasked collect's product); False if its id exists."""
        if item["id"] in self.by_id:
            return False
        b = item["bbox"]
        stamp = datetime.fromisoformat(item["properties"]["datetime"].replace("Z", "+00:00"))
        self.by_id[item["id"]] = len(self.items)
        self.items.append(item)
        self.bboxes.append((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
        self.times.append(stamp.timestamp())
        return True

    def polygon(self, index: int) -> Polygon:
        """The footprint of item ``index`` as a shapely polygon (built on first use)."""
        poly = self._polygons.get(index)
        if poly is None:
            ring = self.items[index]["geometry"]["coordinates"][0]
            poly = self._polygons[index] = Polygon(ring)
        return poly


def _iso(value: datetime) -> str:
    return f"{value.isoformat(timespec='microseconds')[:26]}Z"


def _stamp(value: datetime) -> str:
    v = value
    return f"{v.year:04d}{v.month:02d}{v.day:02d}{v.hour:02d}{v.minute:02d}{v.second:02d}"


def _heading(lat: float, inclination: int, orbit_state: str) -> float:
    """Ground-track heading (degrees clockwise from north) of a circular orbit at ``lat``."""
    ratio = math.cos(math.radians(inclination)) / max(math.cos(math.radians(lat)), 1e-3)
    track = math.degrees(math.asin(max(-1.0, min(1.0, ratio))))
    return track % 360 if orbit_state == "ascending" else (180.0 - track) % 360


def _look_angle(incidence: float) -> float:
    """Look (off-nadir) angle for an incidence angle, on a spherical Earth."""
    factor = _EARTH_RADIUS_KM / (_EARTH_RADIUS_KM + _ORBIT_HEIGHT_KM)
    return math.degrees(math.asin(factor * math.sin(math.radians(incidence))))


def _utm_epsg(lon: float, lat: float) -> int:
    zone = min(60, int((lon + 180) // 6) + 1)
    return (32600 if lat >= 0 else 32700) + zone


def _platform(rng: random.Random, when: datetime, lat: float) -> tuple[int, int]:
    # A satellite can only image up to a little beyond its inclination; the 97 degree
    # planes always qualify, so there is always a candidate once capella-1 is up.
    flying = [
        (n, inc)
        for n, start, inc in PLATFORMS
        if start <= when and abs(lat) <= inc + 5 and (n != 1 or when < _CAPELLA_2_START)
    ]
    return rng.choice(flying or [(1, 97)])


def _collect(rng: random.Random) -> dict[str, Any]:
    """Everything products of one collect share."""
    mode = rng.choices(MODES, weights=[m.weight for m in MODES], k=1)[0]
    lon, lat = synth.location(rng)
    lon = max(-178.5, min(178.5, lon))  # keep footprints off the antimeridian
    start = synth.acquisition_time(rng)
    return make_collect(rng, mode, lon, lat, start)


@dataclass(frozen=True)
class CollectChoice:
    """What a tasking request fixes about its collect (None: drawn as for the archive)."""

    collection_type: str | None = None
    orbit_state: str | None = None
    direction: str | None = None
    pol: str | None = None
    incidence: float | None = None


def make_collect(
    rng: random.Random,
    mode: Mode,
    lon: float,
    lat: float,
    start: datetime,
    choice: CollectChoice = CollectChoice(),
) -> dict[str, Any]:
    """One collect of ``mode`` centred on ``lon``/``lat`` starting at ``start``.

    Draws from ``rng`` in a fixed order whatever ``choice`` fixes, so the archive built
    from a seed never changes; tasking requests use ``choice`` for their constraints.
    """
    number, inclination = _platform(rng, start, lat)
    duration = rng.uniform(*mode.duration_s)
    end = start + timedelta(seconds=round(duration, 6))
    orbit_state = "ascending" if rng.random() < 0.5 else "descending"
    orbit_state = choice.orbit_state or orbit_state
    heading = _heading(lat, inclination, orbit_state)
    direction = "right" if rng.random() < 0.5 else "left"
    direction = choice.direction or direction
    incidence = min(55.0, max(15.0, rng.gauss(35.0, 9.0)))
    incidence = incidence if choice.incidence is None else choice.incidence
    length = mode.length_km * rng.uniform(0.9, 1.1)
    width = mode.width_km * rng.uniform(0.9, 1.1)
    footprint = synth.rotated_rectangle(lon, lat, width, length, heading)
    pol = "HH" if rng.random() < 0.65 else "VV"
    collect_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    collection_type = synth.weighted(rng, mode.collection_types)
    return {
        "mode": mode,
        "number": number,
        "inclination": inclination,
        "start": start,
        "end": end,
        "mid": start + (end - start) / 2,
        "orbit_state": orbit_state,
        "direction": direction,
        "heading": heading,
        "incidence": incidence,
        "footprint": footprint,
        "pol": choice.pol or pol,
        "collect_id": collect_id,
        "collection_type": choice.collection_type or collection_type,
        "algorithm": "pfa" if mode.code == "SP" and rng.random() < 0.4 else "backprojection",
        "res_az": round(rng.uniform(*mode.resolution_azimuth), 2),
        "res_rg": round(rng.uniform(*mode.resolution_slant_range), 2),
        "squint": round(rng.gauss(0.0, 1.5 if mode.code == "SM" else 6.0), 1),
        "looks_az": rng.randint(2, 9),
        "epsg": _utm_epsg(lon, lat),
    }


def _shared_properties(c: dict[str, Any]) -> dict[str, Any]:
    """Properties every product of collect ``c`` has."""
    mode: Mode = c["mode"]
    incidence = round(c["incidence"], 1)
    ground_range = c["res_rg"] / math.sin(math.radians(incidence))
    look_azimuth = c["heading"] + (90.0 if c["direction"] == "right" else -90.0)
    return {
        "datetime": _iso(c["mid"]),
        "start_datetime": _iso(c["start"]),
        "end_datetime": _iso(c["end"]),
        # Catalogued (processed) a little after the collect ends; assumed delay.
        "created": _iso(c["end"] + PROCESSING_DELAY),
        "updated": _iso(c["end"] + PROCESSING_DELAY),
        "platform": f"capella-{c['number']}",
        "constellation": "capella",
        "instruments": [f"capella-radar-{c['number']}"],
        "sar:instrument_mode": mode.instrument_mode,
        "sar:frequency_band": "X",
        "sar:center_frequency": 9.65,
        "sar:polarizations": [c["pol"]],
        "sar:product_type": "",
        "sar:observation_direction": c["direction"],
        "sar:resolution_range": c["res_rg"],
        "sar:resolution_azimuth": c["res_az"],
        "capella:resolution_ground_range": round(ground_range, 2),
        "sat:orbit_state": c["orbit_state"],
        "view:incidence_angle": incidence,
        "view:look_angle": round(_look_angle(incidence), 1),
        "view:azimuth": round(look_azimuth % 360, 1),
        "capella:squint_angle": c["squint"],
        "capella:orbital_plane": c["inclination"],
        "capella:collect_id": c["collect_id"],
        "capella:collection_type": c["collection_type"],
        "capella:image_formation_algorithm": c["algorithm"],
    }


def _grid_properties(c: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Image-grid properties of the geocoded and of the slant-range complex products."""
    spacing = c["mode"].geo_pixel_spacing
    looks = c["looks_az"]
    geocoded = {
        "sar:pixel_spacing_range": spacing,
        "sar:pixel_spacing_azimuth": spacing,
        "sar:looks_range": 1,
        "sar:looks_azimuth": looks,
        "sar:looks_equivalent_number": round(looks * 0.85, 2),
        "proj:epsg": c["epsg"],
    }
    complex_ = {
        "sar:pixel_spacing_range": round(c["res_rg"] * 0.85, 2),
        "sar:pixel_spacing_azimuth": round(c["res_az"] * 0.8, 2),
        "sar:looks_range": 1,
        "sar:looks_azimuth": 1,
        "sar:looks_equivalent_number": 1,
    }
    return geocoded, complex_


def collect_items(c: dict[str, Any], products: list[str]) -> list[dict[str, Any]]:
    """One native item per product of collect ``c``."""
    fp: synth.Footprint = c["footprint"]
    shared = _shared_properties(c)
    geocoded, complex_ = _grid_properties(c)
    head = f"CAPELLA_C{c['number']:02d}_{c['mode'].code}_"
    tail = f"_{c['pol']}_{_stamp(c['start'])}_{_stamp(c['end'])}"
    geometry = fp.geometry
    items = []
    for product in products:
        props = {**shared, "sar:product_type": product}
        if product in GEOCODED:
            props.update(geocoded)
        elif product != "CPHD":  # phase history has no image grid yet
            props.update(complex_)
        items.append(
            {
                "type": "Feature",
                "stac_version": "1.0.0",
                "id": f"{head}{product}{tail}",
                "collection": COLLECTIONS[product],
                "geometry": geometry,
                "bbox": list(fp.bbox),
                "properties": props,
            }
        )
    return items


@cache
def build_archive(seed: int, scenes: int) -> Archive:
    """The archive of ``scenes`` items for ``seed`` (cached: built once per process)."""
    rng = random.Random(seed ^ _SEED_SALT)
    archive = Archive([], [], [], {})
    while len(archive.items) < scenes:
        c = _collect(rng)
        products = ["SLC", "GEO", "GEC", "SICD"]
        products += [p for p, share in OPTIONAL_PRODUCTS.items() if rng.random() < share]
        bbox = c["footprint"].bbox
        when = c["mid"].timestamp()
        for item in collect_items(c, products):
            if item["id"] in archive.by_id or len(archive.items) >= scenes:
                continue  # same satellite, mode and second twice: keep the first
            archive.by_id[item["id"]] = len(archive.items)
            archive.items.append(item)
            archive.bboxes.append(bbox)
            archive.times.append(when)
    return archive
