"""Raster grids for simulated assets: a footprint bbox in lon/lat -> pixel grid + ``proj:*``.

This is the cheap half of :mod:`.cog`: it computes exactly the grid the COG is written on,
without pixels, so simulators and adapters can put consistent ``proj:*`` fields on items.

UTM targets (EPSG 326xx/327xx) use the Krüger series of Karney (2011), the same algorithm
PROJ runs for ``+proj=utm`` (agreement far below a millimetre within a zone), in a few
microseconds; building a PROJ transformation through GDAL costs ~0.4 ms per call, too much
for a 900-item search page. EPSG:4326 is the identity; any other code goes through
:func:`rasterio.warp.transform_bounds`, cached per (bbox, code).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

BBox = tuple[float, float, float, float]

# WGS 84 ellipsoid and the UTM constants.
_A = 6378137.0
_F = 1 / 298.257223563
_N = _F / (2 - _F)
_E = math.sqrt(_F * (2 - _F))
_K0 = 0.9996
_RECTIFYING_RADIUS = _A / (1 + _N) * (1 + _N**2 / 4 + _N**4 / 64 + _N**6 / 256)
# Krüger alpha coefficients to order n^6 (Karney 2011, eq. 35).
_ALPHA = (
    _N / 2
    - 2 * _N**2 / 3
    + 5 * _N**3 / 16
    + 41 * _N**4 / 180
    - 127 * _N**5 / 288
    + 7891 * _N**6 / 37800,
    13 * _N**2 / 48
    - 3 * _N**3 / 5
    + 557 * _N**4 / 1440
    + 281 * _N**5 / 630
    - 1983433 * _N**6 / 1935360,
    61 * _N**3 / 240 - 103 * _N**4 / 140 + 15061 * _N**5 / 26880 + 167603 * _N**6 / 181440,
    49561 * _N**4 / 161280 - 179 * _N**5 / 168 + 6601661 * _N**6 / 7257600,
    34729 * _N**5 / 80640 - 3418889 * _N**6 / 1995840,
    212378941 * _N**6 / 319334400,
)
# Points per bbox edge when projecting through PROJ: edges curve in the target CRS, so
# the corners alone can miss the extreme (rasterio's transform_bounds default).
_DENSIFY = 21


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid in ``EPSG:epsg``: the shape and georeferencing of one raster."""

    epsg: int
    rows: int
    cols: int
    transform: tuple[float, float, float, float, float, float]
    """Affine coefficients ``(a, b, c, d, e, f)``: x = a*col + b*row + c, y = d*col + e*row + f."""

    @property
    def bbox(self) -> BBox:
        """(xmin, ymin, xmax, ymax) in the grid's CRS."""
        a, _, c, _, e, f = self.transform
        return (c, f + e * self.rows, c + a * self.cols, f)

    def proj_fields(self) -> dict[str, Any]:
        """The STAC Projection extension fields for a raster on this grid.

        Both ``proj:epsg`` and ``proj:code`` are given: GDAL 3.6's STACIT driver rejects
        ``proj:code`` alone. The transform is the 6-number north-up form.
        """
        return {
            "proj:epsg": self.epsg,
            "proj:code": f"EPSG:{self.epsg}",
            "proj:shape": [self.rows, self.cols],
            "proj:transform": list(self.transform),
            "proj:bbox": list(self.bbox),
        }


def utm_epsg(lon: float, lat: float) -> int:
    """The WGS 84 / UTM zone EPSG code for a point (326zz north, 327zz south).

    The Norway and Svalbard zone exceptions are ignored: simulated scenes do not need them.
    """
    zone = min(60, max(1, int((lon + 180.0) // 6.0) + 1))
    return (32600 if lat >= 0 else 32700) + zone


def _is_utm(epsg: int) -> bool:
    return 32601 <= epsg <= 32660 or 32701 <= epsg <= 32760


def utm_forward(epsg: int, lon: float, lat: float) -> tuple[float, float]:
    """Project a lon/lat point (degrees) to (easting, northing) metres in UTM ``epsg``.

    Scalar ``math`` on purpose: for the handful of points a bbox needs it is ~10x faster
    than numpy, whose per-call overhead dominates on tiny arrays.
    """
    zone = epsg % 100
    lam = math.radians(lon - (zone * 6 - 183))
    sin_phi = math.sin(math.radians(lat))
    t = math.sinh(math.atanh(sin_phi) - _E * math.atanh(_E * sin_phi))
    xi_p = math.atan2(t, math.cos(lam))
    eta_p = math.atanh(math.sin(lam) / math.sqrt(1 + t * t))
    xi, eta = xi_p, eta_p
    for j, alpha in enumerate(_ALPHA, start=1):
        xi += alpha * math.sin(2 * j * xi_p) * math.cosh(2 * j * eta_p)
        eta += alpha * math.cos(2 * j * xi_p) * math.sinh(2 * j * eta_p)
    false_northing = 10_000_000.0 if epsg >= 32700 else 0.0
    return (
        500_000.0 + _K0 * _RECTIFYING_RADIUS * eta,
        false_northing + _K0 * _RECTIFYING_RADIUS * xi,
    )


def _utm_extreme_points(bbox: BBox, epsg: int) -> list[tuple[float, float]]:
    """The lon/lat points of ``bbox`` where its UTM bounds are reached.

    In transverse Mercator, easting along a meridian is extreme where |lat| is least
    (a corner, or the equator) and northing along a parallel where the central meridian
    crosses it (else a corner), so these points give the exact bounds that densifying
    the edges only approaches.
    """
    west, south, east, north = bbox
    points = [(west, south), (west, north), (east, south), (east, north)]
    central = (epsg % 100) * 6 - 183
    if west < central < east:
        points += [(central, south), (central, north)]
    if south < 0 < north:
        points += [(west, 0.0), (east, 0.0)]
    return points


@lru_cache(maxsize=4096)
def _proj_bounds(bbox: BBox, epsg: int) -> BBox:
    from rasterio.crs import CRS  # imported here: only needed for uncommon target CRSs
    from rasterio.warp import transform_bounds

    bounds = transform_bounds(CRS.from_epsg(4326), CRS.from_epsg(epsg), *bbox, _DENSIFY)
    return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))


def project_bbox(bbox: BBox, epsg: int) -> BBox:
    """The bounds in ``EPSG:epsg`` of a lon/lat ``bbox``."""
    bbox = (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
    if epsg == 4326:
        return bbox
    if _is_utm(epsg):
        xs, ys = zip(
            *(utm_forward(epsg, lon, lat) for lon, lat in _utm_extreme_points(bbox, epsg)),
            strict=True,
        )
        return (min(xs), min(ys), max(xs), max(ys))
    return _proj_bounds(bbox, epsg)


def compute_grid(bbox: BBox, epsg: int, size: int | tuple[int, int] = 512) -> Grid:
    """The grid of a raster covering the lon/lat ``bbox`` in ``EPSG:epsg``.

    ``size`` as an int is the pixel count of the longer side, with square pixels; the
    shorter side is rounded up, so the grid may overhang the footprint by under a pixel.
    As ``(rows, cols)`` it is exact, and pixels are as wide and tall as that takes.
    """
    xmin, ymin, xmax, ymax = project_bbox(bbox, epsg)
    width, height = xmax - xmin, ymax - ymin
    if width <= 0 or height <= 0:
        raise ValueError(f"empty bbox {bbox!r}")
    if isinstance(size, int):
        res = max(width, height) / size
        # The tolerance keeps float noise from adding a whole extra row or column.
        cols = max(1, math.ceil(width / res - 1e-9))
        rows = max(1, math.ceil(height / res - 1e-9))
        res_x = res_y = res
    else:
        rows, cols = size
        res_x, res_y = width / cols, height / rows
    return Grid(epsg, rows, cols, (res_x, 0.0, xmin, 0.0, -res_y, ymax))
