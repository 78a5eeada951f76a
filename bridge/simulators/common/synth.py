"""Building blocks for the simulators' deterministic synthetic archives.

Every archive is generated from a seeded :class:`random.Random`, so the same seed gives
the same scenes on every machine. Locations mix a global spread over land-ish latitudes
with dense clusters over a few cities (where buyers look), so both sparse and crowded
searches are exercised.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# (name, lon, lat): clusters where many scenes pile up.
CITIES: tuple[tuple[str, float, float], ...] = (
    ("Helsinki", 24.94, 60.17),
    ("Rotterdam", 4.48, 51.92),
    ("San Francisco", -122.42, 37.77),
    ("Singapore", 103.82, 1.35),
    ("Dubai", 55.27, 25.20),
    ("Sydney", 151.21, -33.87),
    ("Buenos Aires", -58.38, -34.60),
    ("Kyiv", 30.52, 50.45),
)

ARCHIVE_START = datetime(2019, 1, 1, tzinfo=UTC)
ARCHIVE_END = datetime(2026, 10, 31, tzinfo=UTC)
_SPAN_S = (ARCHIVE_END - ARCHIVE_START).total_seconds()
_KM_PER_DEG_LAT = 110.574


@dataclass(frozen=True)
class Footprint:
    """A scene footprint: GeoJSON polygon coordinates and its bbox."""

    coordinates: list[list[list[float]]]
    bbox: tuple[float, float, float, float]

    @property
    def geometry(self) -> dict[str, object]:
        """GeoJSON Polygon."""
        return {"type": "Polygon", "coordinates": self.coordinates}

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the bbox (lon, lat)."""
        return ((self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2)


def location(rng: random.Random, cluster_share: float = 0.4) -> tuple[float, float]:
    """A scene centre: near a city with probability ``cluster_share``, else anywhere inhabited."""
    if rng.random() < cluster_share:
        _, lon, lat = rng.choice(CITIES)
        return (
            max(-179.5, min(179.5, lon + rng.gauss(0, 0.25))),
            max(-79.5, min(79.5, lat + rng.gauss(0, 0.2))),
        )
    return rng.uniform(-179.0, 179.0), rng.uniform(-58.0, 72.0)


def acquisition_time(rng: random.Random) -> datetime:
    """An instant between 2019-01-01 and 2026-10-31, to the microsecond."""
    offset = rng.random() * _SPAN_S
    return ARCHIVE_START + timedelta(seconds=round(offset, 6))


def rotated_rectangle(
    lon: float, lat: float, width_km: float, length_km: float, heading_deg: float
) -> Footprint:
    """A ``width_km`` by ``length_km`` rectangle centred on (lon, lat), its long side on
    ``heading_deg`` (clockwise from north): the shape of a SAR strip or optical scene."""
    km_per_deg_lon = max(_KM_PER_DEG_LAT * math.cos(math.radians(lat)), 1e-3)
    h = math.radians(heading_deg)
    along = (math.sin(h), math.cos(h))  # east, north unit vector of the long side
    across = (math.cos(h), -math.sin(h))
    # The half sides once (the sign of a term is exact in floating point, so the corners
    # are bit for bit those of the textbook loop; archives must not change).
    ax, ay = along[0] * length_km / 2, along[1] * length_km / 2
    cx, cy = across[0] * width_km / 2, across[1] * width_km / 2
    xs = [
        round(lon + (-ax - cx) / km_per_deg_lon, 6),
        round(lon + (ax - cx) / km_per_deg_lon, 6),
        round(lon + (ax + cx) / km_per_deg_lon, 6),
        round(lon + (-ax + cx) / km_per_deg_lon, 6),
    ]
    ys = [
        round(lat + (-ay - cy) / _KM_PER_DEG_LAT, 6),
        round(lat + (ay - cy) / _KM_PER_DEG_LAT, 6),
        round(lat + (ay + cy) / _KM_PER_DEG_LAT, 6),
        round(lat + (-ay + cy) / _KM_PER_DEG_LAT, 6),
    ]
    corners = [[x, y] for x, y in zip(xs, ys, strict=True)]
    ring = [*corners, corners[0]]
    return Footprint([ring], (min(xs), min(ys), max(xs), max(ys)))


def square_tile(lon: float, lat: float, size_km: float) -> Footprint:
    """A north-up square tile of ``size_km`` centred on (lon, lat)."""
    return rotated_rectangle(lon, lat, size_km, size_km, 0.0)


def heading_for(orbit_state: str, rng: random.Random) -> float:
    """A ground-track heading for a sun-synchronous orbit pass (near-polar, slightly tilted)."""
    base = 350.0 if orbit_state == "ascending" else 190.0
    return (base + rng.uniform(-4, 4)) % 360


def weighted(rng: random.Random, choices: dict[str, float]) -> str:
    """Pick a key of ``choices`` with probability proportional to its weight."""
    keys = list(choices)
    return rng.choices(keys, weights=[choices[k] for k in keys], k=1)[0]
