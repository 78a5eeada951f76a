"""Geometry helpers of the Satellogic archive: the sun's position and the 2 km tile grid."""

from __future__ import annotations

import math
from datetime import datetime

_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON_EQ = 111.32


def sun_position(lat: float, when: datetime, lon: float) -> tuple[float, float]:
    """Sun elevation and azimuth (degrees) at (lat, lon) and ``when``; good to ~1 degree."""
    doy = when.timetuple().tm_yday
    decl = math.radians(23.44) * math.sin(2 * math.pi * (doy - 81) / 365)
    solar_h = (when.hour + when.minute / 60 + when.second / 3600 + lon / 15) % 24
    hour_angle = math.radians(15 * (solar_h - 12))
    phi = math.radians(lat)
    sin_el = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(hour_angle)
    el = math.degrees(math.asin(max(-1.0, min(1.0, sin_el))))
    az = math.degrees(
        math.atan2(
            -math.sin(hour_angle),
            math.tan(decl) * math.cos(phi) - math.sin(phi) * math.cos(hour_angle),
        )
    )
    return el, az % 360


class Grid:
    """The capture's UTM-like zone: km coordinates <-> lon/lat, cell naming."""

    def __init__(self, lon: float, lat: float) -> None:
        self.zone = min(60, int((lon + 180) // 6) + 1)
        self.cm = -183 + 6 * self.zone
        self.south = lat < 0
        self.y_off = 10000.0 if self.south else 0.0
        self.epsg = (32700 if self.south else 32600) + self.zone

    def to_km(self, lon: float, lat: float) -> tuple[float, float]:
        k = _KM_PER_DEG_LON_EQ * math.cos(math.radians(lat))
        return 500 + (lon - self.cm) * k, lat * _KM_PER_DEG_LAT + self.y_off

    def to_lonlat(self, x: float, y: float, lat_ref: float) -> tuple[float, float]:
        k = _KM_PER_DEG_LON_EQ * math.cos(math.radians(lat_ref))
        return round(self.cm + (x - 500) / k, 6), round((y - self.y_off) / _KM_PER_DEG_LAT, 6)

    def code(self, ix: int, iy: int) -> str:
        hemi = "S" if self.south else "N"
        return f"SATL-2KM-{self.zone}{hemi}_{ix * 2}_{iy * 2}"


def rect(grid: Grid, x0: float, y0: float, x1: float, y1: float, lat_ref: float) -> list[float]:
    w, s = grid.to_lonlat(x0, y0, lat_ref)
    e, n = grid.to_lonlat(x1, y1, lat_ref)
    return [w, s, e, n]
