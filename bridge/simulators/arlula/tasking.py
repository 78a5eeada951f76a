"""The Arlula simulator's tasking: opportunities, prices, campaigns and what they capture.

A tasking search (``POST /api/tasking/search``) answers, per supplier that can task at
the requested gsd, one result for the whole window: the AOI inflated to the supplier's
minimum order (``polygon``), ``metrics``, bundles, licenses, priorities and cloud levels,
and an ``orderingID`` naming all of it; suppliers that cannot serve the request leave an
``errors`` entry instead (arlulacore ``TaskingSearchFailureType``). Ordering one result
creates an order holding one *campaign* (arlulacore ``campaign.py``); a batch, one order
holding a campaign per result. A campaign moves on
``SimulatorConfig.clock``, ``step`` = ``arlula_tasking_step_s`` (assumed timeline):

    pending --step--> processing --step--> post-processing --step--> complete
            \\--step--> rejected (rate)  \\--step--> failed (rate)

Time is compressed (a campaign captures within seconds of being ordered, not inside its
window) so the sandbox shows a whole campaign. On completion the capture becomes a scene
of the simulator's archive (found by archive searches) and a dataset of the order whose
resources download as archive ones do. Sources: ``SOURCES.md`` ("Tasking").
"""

from __future__ import annotations

import base64
import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from shapely.geometry import Polygon

from bridge.simulators.arlula.archive import SUPPLIERS_BY_KEY, Archive, Supplier, _scene_id
from bridge.simulators.arlula.render import iso
from bridge.simulators.arlula.search import area_km2
from bridge.simulators.arlula.settings import ArlulaSimSettings

DAY_S = 86400.0
# Suppliers that take tasking orders, with (price factor over their archive price per km²,
# passes per day at their maximum off-nadir). Assumed: no public list; free and
# monitoring-only suppliers (esa, planet) are not tasked.
TASKABLE: dict[str, tuple[float, float]] = {
    "maxar": (2.0, 2.0),
    "siis": (2.0, 1.0),
    "21at": (2.0, 1.5),
    "satellogic": (1.5, 3.0),
    "airbus": (2.0, 1.0),
}
# (key, name, description, loadingPercent, loadingAmount in US cents): assumed values in
# the shape of arlulacore's ``Priority``.
PRIORITIES: tuple[tuple[str, str, str, float, int], ...] = (
    ("standard", "Standard", "Captured in the supplier's normal schedule", 0.0, 0),
    ("priority", "Priority", "Scheduled ahead of standard requests", 25.0, 0),
    ("urgent", "Urgent", "Scheduled first; the earliest pass is used", 50.0, 20000),
)
# (name, max cloud %, description, loadingPercent, loadingAmount): arlulacore's
# ``CloudLevel`` shape; the levels and loadings are assumed.
CLOUD_LEVELS: tuple[tuple[str, int, str, float, int], ...] = (
    ("Standard", 30, "A capture with 30% cloud or less completes the campaign", 0.0, 0),
    ("Clear", 10, "A capture with 10% cloud or less completes the campaign", 30.0, 0),
    ("Any", 100, "The first capture completes the campaign, whatever its cloud", 0.0, 0),
)


def encode_ordering_id(data: dict[str, Any]) -> str:
    """An opaque tasking ordering id naming the result (decodable by :func:`decode`)."""
    raw = orjson.dumps({"k": "tasking", **data}, option=orjson.OPT_SORT_KEYS)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_ordering_id(value: str) -> dict[str, Any] | None:
    """What a tasking ordering id names; None when it is not one (e.g. an archive id)."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    keys = {"k", "p", "a", "ts", "te", "g", "o"}
    if not isinstance(data, dict) or data.get("k") != "tasking" or not keys <= data.keys():
        return None
    return data if data["p"] in TASKABLE else None


def dollars(cents: float) -> int:
    """US cents rounded up to a whole dollar (arlulacore ``calculate_price`` rounds so)."""
    return int(math.ceil(round(cents, 6) / 100) * 100)


def tasking_bundles(supplier: Supplier, area_km2: float) -> list[dict[str, Any]]:
    """The bundles a campaign of ``area_km2`` is sold in, priced in US cents."""
    base = area_km2 * supplier.cents_per_km2 * TASKABLE[supplier.key][0]
    return [
        {"name": name, "key": key, "bands": list(bands), "price": dollars(base * factor)}
        for name, key, bands, factor in supplier.bundles
    ]


def priorities() -> list[dict[str, Any]]:
    """The priority options (arlulacore ``Priority``)."""
    return [
        {"key": k, "name": n, "description": d, "loadingPercent": p, "loadingAmount": a}
        for k, n, d, p, a in PRIORITIES
    ]


def cloud_levels() -> list[dict[str, Any]]:
    """The cloud guarantee options (arlulacore ``CloudLevel``)."""
    return [
        {"name": n, "max": m, "description": d, "loadingPercent": p, "loadingAmount": a}
        for n, m, d, p, a in CLOUD_LEVELS
    ]


def campaign_price(
    bundle: dict[str, Any], license: dict[str, Any], priority: dict[str, Any], cloud: dict[str, Any]
) -> int:
    """arlulacore ``calculate_price``: bundle * (1 + the three loading %) + the three
    fixed loadings, in US cents rounded up to a whole dollar."""
    percent = 1 + (license["loadingPercent"] + priority["loadingPercent"]
                   + cloud["loadingPercent"]) / 100  # fmt: skip
    fixed = license["loadingAmount"] + priority["loadingAmount"] + cloud["loadingAmount"]
    return dollars(bundle["price"] * percent + fixed)


@dataclass
class Campaign:
    """One tasking campaign (what a tasking order buys) and its fate, drawn at creation."""

    id: str
    order_id: str
    created_at: float
    step_s: float
    ordering_id: str
    supplier: str
    platforms: list[str]
    aoi: list[list[list[float]]]
    start: float
    end: float
    gsd: float
    off_nadir: float
    cloud: int
    bundle: str
    license: str
    priority: str
    total: int
    rejected: bool
    fails: bool
    approval_s: float | None = None
    """How long a team admin takes to approve (None: the order needed no approval)."""
    approval_refused: bool = False
    cancelled_at: float | None = None
    dataset_ids: list[str] = field(default_factory=list)

    def timeline(self) -> list[tuple[float, str]]:
        """Every ``(since, status)`` the campaign goes through, in time order."""
        t, s = self.created_at, self.step_s
        events: list[tuple[float, str]] = []
        if self.approval_s is not None:
            events.append((t, "pending-approval"))
            if self.cancelled_at is not None:
                return [*events, (self.cancelled_at, "cancelled")]
            t += self.approval_s
            if self.approval_refused:
                return [*events, (t, "rejected")]
        if self.rejected:
            return [*events, (t, "pending"), (t + s, "rejected")]
        if self.fails:
            return [*events, (t, "pending"), (t + s, "processing"), (t + 2 * s, "failed")]
        return [*events, (t, "pending"), (t + s, "processing"), (t + 2 * s, "post-processing"),
                (t + 3 * s, "complete")]  # fmt: skip

    def status_at(self, now: float) -> str:
        """The campaign's status at ``now``."""
        current = self.timeline()[0][1]
        for since, status in self.timeline():
            if since <= now:
                current = status
        return current

    def captured_at(self) -> float | None:
        """When the capture was taken (entering post-processing); None if never."""
        return next((t for t, status in self.timeline() if status == "post-processing"), None)


class TaskBook:
    """Every campaign of the app, and the draws that decide their fates."""

    def __init__(self, settings: ArlulaSimSettings, seed: int) -> None:
        self.settings = settings
        self.seed = seed
        self.campaigns: dict[str, Campaign] = {}

    def fate(self, campaign_id: str) -> tuple[bool, bool]:
        """Whether a new campaign is rejected, or fails, at the configured rates
        (drawn from the campaign id, so a run is reproducible)."""
        rng = random.Random(f"{self.seed}:{campaign_id}")
        rejected = rng.random() < self.settings.tasking_reject_rate
        return rejected, not rejected and rng.random() < self.settings.tasking_fail_rate

    def due(self, now: float) -> list[Campaign]:
        """Completed campaigns whose capture has not joined the archive yet."""
        due = []
        for c in self.campaigns.values():
            done_at, last = c.timeline()[-1]
            if not c.dataset_ids and last == "complete" and done_at <= now:
                due.append(c)
        return due


def captured_scene(campaign: Campaign, seed: int) -> dict[str, Any]:
    """The scene a completed campaign captured, shaped as the archive's own scenes."""
    supplier = SUPPLIERS_BY_KEY[campaign.supplier]
    rng = random.Random(f"{seed}:capture:{campaign.id}")
    platform, gsd = min(
        (p for p in supplier.platforms if p[1] <= campaign.gsd),
        key=lambda p: p[1],
        default=supplier.platforms[0],
    )
    when = campaign.captured_at() or campaign.created_at
    date = iso(when) or ""
    foot = Polygon(campaign.aoi[0], campaign.aoi[1:])
    c = foot.centroid
    return {
        "sceneID": _scene_id(supplier.key, platform, rng, date),
        "supplier": supplier.key,
        "platform": platform,
        "date": date,
        "epoch": when,
        "gsd": gsd,
        "cloud": round(rng.uniform(0, min(campaign.cloud, 100)), 2),
        "offNadir": round(rng.uniform(0, campaign.off_nadir), 2),
        "fulfillmentTime": supplier.fulfillment_h[0],
        "bounding": campaign.aoi,
        "bbox": foot.bounds,
        "center": {"long": round(c.x, 6), "lat": round(c.y, 6)},
    }


def with_scene(archive: Archive, scene: dict[str, Any], area_km2: float) -> Archive:
    """``archive`` plus one scene (a new value: the built archive is shared and cached)."""
    foot = Polygon(scene["bounding"][0], scene["bounding"][1:])
    footprints = np.empty(len(archive.footprints) + 1, dtype=object)
    footprints[:-1] = archive.footprints
    footprints[-1] = foot
    return Archive(
        (*archive.scenes, scene),
        np.vstack([archive.bboxes, np.array([scene["bbox"]], dtype=float)]),
        np.append(archive.times, scene["epoch"]),
        footprints,
        np.append(archive.areas_km2, area_km2),
    )


def settle(app: Any) -> None:
    """Turn every newly completed campaign's capture into an archive scene and a dataset
    of its order (called before any request reads the archive or the account's orders)."""
    from bridge.simulators.arlula.orders import Dataset, new_id
    from bridge.simulators.arlula.orders_api import make_resources

    state = app.state
    book: TaskBook = state.tasking
    for campaign in book.due(state.ledger.clock()):
        order = next(
            o for a in state.ledger.accounts.values() for o in a.orders.values()
            if o.id == campaign.order_id
        )  # fmt: skip
        scene = captured_scene(campaign, book.seed)
        foot = Polygon(scene["bounding"][0], scene["bounding"][1:])
        state.archive = with_scene(state.archive, scene, area_km2(foot))
        index = len(state.archive.scenes) - 1
        state.scene_index[(scene["supplier"], scene["sceneID"])] = index
        dataset_id = new_id()
        dataset = Dataset(
            dataset_id, order.id, index, campaign.supplier, scene["sceneID"],
            campaign.ordering_id, campaign.bundle, campaign.license, 1, 0,
            foot.bounds, public=False,
            resources=make_resources(dataset_id, scene["sceneID"], campaign.bundle),
            campaign=campaign.id,
        )  # fmt: skip
        campaign.dataset_ids.append(dataset_id)
        state.ledger.add_dataset(order, dataset)
