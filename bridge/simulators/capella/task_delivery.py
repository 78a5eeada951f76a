"""What a completed Capella tasking request delivers: one collect, as archive products.

The collect is made like the archive's own (:func:`.archive.make_collect`), centred on
the request's geometry, with the request's collection type and its constraints (look
direction, pass direction, polarization, off-nadir range); its SLC, GEO, GEC and SICD
products join the simulator's archive, so the catalog search finds them and their files
are served like every archive product's.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape

from bridge.simulators.capella.archive import (
    MODES,
    Archive,
    CollectChoice,
    collect_items,
    make_collect,
)
from bridge.simulators.capella.orders import iso_ms

DELIVERED_PRODUCTS = ["SLC", "GEO", "GEC", "SICD"]
_EITHER = (None, "either")


def mode_code(collection_type: str) -> str:
    """The archive imaging mode (``SP``, ``SM``) of a tasking collection type."""
    return "SP" if collection_type.startswith("spotlight") else "SM"


def incidence_for(constraints: dict[str, Any]) -> float | None:
    """An incidence angle whose look (off-nadir) angle is mid-range of the constraints."""
    low, high = constraints.get("offNadirMin"), constraints.get("offNadirMax")
    if low is None and high is None:
        return None
    look = ((low if low is not None else 5.0) + (high if high is not None else 45.0)) / 2
    factor = 6371.0 / (6371.0 + 525.0)  # Earth radius over orbit radius (525 km)
    return round(math.degrees(math.asin(min(1.0, math.sin(math.radians(look)) / factor))), 1)


def _choice(props: dict[str, Any]) -> CollectChoice:
    constraints = props["collectConstraints"]
    asc_dsc, look = constraints.get("ascDsc"), constraints.get("lookDirection")
    return CollectChoice(
        collection_type=props["collectionType"],
        orbit_state=None if asc_dsc in _EITHER else asc_dsc,
        direction=None if look in _EITHER else look,
        pol=constraints.get("polarization"),
        incidence=incidence_for(constraints),
    )


def deliver_collect(
    archive: Archive,
    seed: int,
    task_id: str,
    geometry: dict[str, Any],
    props: dict[str, Any],
    collected_at: float,
    delivered_at: float,
) -> tuple[dict[str, Any], list[str]]:
    """Add the request's collect to ``archive``: its ``/collects/list`` record and item ids.

    The collect starts at ``collected_at`` (deterministic per ``seed`` and request); its
    products are catalogued at ``delivered_at`` (``created``/``updated``).
    """
    mode = next(m for m in MODES if m.code == mode_code(props["collectionType"]))
    centre = shape(geometry).centroid
    rng = random.Random(f"{seed}:{task_id}")
    lon = max(-178.5, min(178.5, centre.x))  # as the archive: off the antimeridian
    start = datetime.fromtimestamp(collected_at, UTC)
    collect = make_collect(rng, mode, lon, centre.y, start, _choice(props))
    stamp = iso_ms(delivered_at)
    item_ids = []
    for item in collect_items(collect, DELIVERED_PRODUCTS):
        item["properties"].update(created=stamp, updated=stamp)
        if archive.add(item):
            item_ids.append(item["id"])
    record = {
        "collectId": collect["collect_id"],
        "taskingrequestId": task_id,
        "repeatrequestId": None,
        "spacecraftId": collect["number"],
        "center": [round(centre.x, 6), round(centre.y, 6), 0.0],
        "windowOpen": iso_ms(collect["start"].timestamp()),
        "windowClose": iso_ms(collect["end"].timestamp()),
        "windowDuration": (collect["end"] - collect["start"]).total_seconds(),
        "collectStatus": "delivered",
        "accessProperties": {
            "ascdsc": collect["orbit_state"],
            "lookDirection": collect["direction"],
            "offNadirAngle": round(collect["incidence"], 1),
        },
    }
    return record, item_ids
