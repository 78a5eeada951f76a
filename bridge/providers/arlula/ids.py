"""Bridge item ids for Arlula scenes, and reading them back for a by-id lookup.

Arlula cannot search by id (no id parameter in any generation; ``orderingID`` is tied to
one search's area), and every search needs a date and an area. So an item id carries
what a narrow native search needs to find the scene again:

    {supplier}_{sceneID}_{YYYYMMDD}_{center longitude}_{center latitude}

e.g. ``siis_K3A_20230514043512_41723_00145012_L1R_20230514_24.93012_60.17034``: the
supplier's scene id (stable across searches), its UTC acquisition day and its centre
(5 decimals, about a metre). :func:`parse_item_id` reads it right to left, so scene ids
may contain underscores; the supplier key is escaped should it ever contain one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

_DAY = re.compile(r"^\d{8}$")


@dataclass(frozen=True)
class SceneRef:
    """What an item id says about its scene."""

    supplier: str
    scene_id: str
    day: str  # YYYY-MM-DD
    lon: float
    lat: float


def item_id(supplier: str, scene_id: str, day: str, lon: float, lat: float) -> str:
    """The bridge item id of a scene (``day`` as ``YYYY-MM-DD``)."""
    key = supplier.replace("%", "%25").replace("_", "%5F")
    return f"{key}_{scene_id}_{day.replace('-', '')}_{lon:.5f}_{lat:.5f}"


def parse_item_id(value: str) -> SceneRef | None:
    """The scene an item id names, or None when it is not an Arlula item id."""
    key, sep, rest = value.partition("_")
    parts = rest.rsplit("_", 3)
    if not sep or not key or len(parts) != 4 or not parts[0] or not _DAY.match(parts[1]):
        return None
    try:
        lon, lat = float(parts[2]), float(parts[3])
    except ValueError:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    d = parts[1]
    day = f"{d[:4]}-{d[4:6]}-{d[6:]}"
    try:
        date.fromisoformat(day)
    except ValueError:
        return None
    supplier = key.replace("%5F", "_").replace("%25", "%")
    return SceneRef(supplier, parts[0], day, lon, lat)
