"""Aleph V2 archive orders in the simulator: order → capture → deliverable, with events.

Seed 000 gives the entity model (an order has captures and deliverables, each with a
state machine and events) but no status values; the public examples add ``order_id`` as
a zero-padded number (``"000383"``). The states and timings below are assumed:

============  ========================================================================
entity        states (event type ``<entity>.<state>`` on each transition)
============  ========================================================================
order         ``created`` → ``processing`` → ``completed`` | ``failed``
capture       ``published`` (an archive capture is already in the archive)
deliverable   ``pending`` → ``processing`` → ``available`` → ``expired`` | ``failed``
============  ========================================================================

Everything is computed from the order's creation time, so no background task runs:
``step`` seconds after creation the order starts processing, ``2 * step`` after it the
deliverable is available (or failed) and the order completed (or failed); a deliverable
expires ``ttl`` seconds after it became available (deleted from Telluric). Settings
(:mod:`.settings`): ``order_step_s``, ``delivery_ttl_s``, ``fail_rate`` (the share of
orders whose processing fails, drawn deterministically from the order id).

The documents describe no cancellation, so orders cannot be canceled. Orders belong to the
contract they were placed under (``X-Satellogic-Contract-Id``) and are invisible to others.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bridge.simulators.common.cog import stable_seed
from bridge.simulators.satellogic.archive import Tile
from bridge.simulators.satellogic.products import PRODUCT_NAME, Product


def iso(seconds: float) -> str:
    """RFC 3339 UTC with microseconds, as Django REST Framework renders datetimes."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    """One state transition of an order's entity."""

    at: float
    entity_type: str
    entity_id: str
    status: str
    detail: str = ""


@dataclass
class Order:
    """One archive order and everything it will become."""

    order_id: str
    contract_id: str
    product: Product
    name: str | None
    project_name: str | None
    parameters: dict[str, Any]
    geometry: dict[str, Any]
    capture: Tile
    """A tile of the ordered capture (platform, time) and the seed of its pixels."""
    tiles: list[str]
    bbox: tuple[float, float, float, float]
    """Bounds of the clipped area: the delivered rasters' footprint."""
    quantity: Decimal
    price: Decimal
    created: float
    fails: bool
    deliverable_id: str
    sceneset_id: str
    scene_id: str

    @property
    def outcome_id(self) -> str:
        return str(self.capture.item["properties"]["satl:outcome_id"])

    def timeline(self, step: float, ttl: float) -> list[Event]:
        """Every event of the order's life, past and future, in time order."""
        t0, t1, t2 = self.created, self.created + step, self.created + 2 * step
        oid, did = self.order_id, self.deliverable_id
        events = [
            Event(t0, "order", oid, "created"),
            Event(t0, "capture", self.outcome_id, "published"),
            Event(t0, "deliverable", did, "pending"),
            Event(t1, "order", oid, "processing"),
            Event(t1, "deliverable", did, "processing"),
        ]
        if self.fails:
            reason = "Processing failed: insufficient ground control for orthorectification."
            events += [
                Event(t2, "deliverable", did, "failed", reason),
                Event(t2, "order", oid, "failed", "1 of 1 deliverables failed."),
            ]
        else:
            events += [
                Event(t2, "deliverable", did, "available"),
                Event(t2, "order", oid, "completed"),
                Event(t2 + ttl, "deliverable", did, "expired", "Delivery retention ended."),
            ]
        return events


@dataclass(frozen=True)
class Snapshot:
    """An order as seen at one instant."""

    order: Order
    now: float
    events: list[Event]
    """The events that have happened."""
    ttl: float
    """How long a deliverable stays available."""

    def status(self, entity_type: str) -> str:
        return [e for e in self.events if e.entity_type == entity_type][-1].status

    def first(self, entity_type: str, status: str) -> Event | None:
        return next(
            (e for e in self.events if e.entity_type == entity_type and e.status == status), None
        )

    @property
    def updated(self) -> float:
        return self.events[-1].at


class OrderBook:
    """The simulator's orders, per app instance."""

    def __init__(
        self,
        step_s: float,
        ttl_s: float,
        fail_rate: float,
        seed: int,
        clock: Callable[[], float],
    ) -> None:
        self.step_s = step_s
        self.ttl_s = ttl_s
        self.fail_rate = fail_rate
        self.seed = seed
        self.clock = clock
        """The simulator's one clock (``SimulatorConfig.clock``)."""
        self.orders: dict[str, Order] = {}
        self.by_scene: dict[str, Order] = {}

    def next_id(self) -> str:
        return f"{len(self.orders) + 1:06d}"

    def fails(self, order_id: str) -> bool:
        """Whether an order's processing fails (deterministic per seed and order id)."""
        return stable_seed(self.seed, "fail", order_id) / 2**63 < self.fail_rate

    def add(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.by_scene[order.scene_id] = order

    def get(self, contract_id: str, order_id: str) -> Order | None:
        """The order, if it was placed under ``contract_id``."""
        order = self.orders.get(order_id)
        return order if order is not None and order.contract_id == contract_id else None

    def of_contract(self, contract_id: str) -> list[Order]:
        """The contract's orders, newest first."""
        found = [o for o in self.orders.values() if o.contract_id == contract_id]
        return sorted(found, key=lambda o: (o.created, o.order_id), reverse=True)

    def snapshot(self, order: Order) -> Snapshot:
        now = self.clock()
        past = [e for e in order.timeline(self.step_s, self.ttl_s) if e.at <= now]
        return Snapshot(order, now, past, self.ttl_s)


def _uuid(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def new_ids(seed: int, order_id: str) -> tuple[str, str]:
    """Deliverable id and Telluric sceneset id of an order (stable per seed and order)."""
    return _uuid(seed, "deliverable", order_id), _uuid(seed, "sceneset", order_id)


def order_json(snap: Snapshot, contract_name: str) -> dict[str, Any]:
    """An order as ``GET /v2/orders/{order_id}`` shows it: a GeoJSON Feature.

    ``order_id``, ``contract_id``, ``contract_name``, ``project_id``, ``project_name``,
    ``sku`` and ``product_name`` are documented; the rest is assumed.
    """
    o = snap.order
    return {
        "type": "Feature",
        "geometry": o.geometry,
        "properties": {
            "order_id": o.order_id,
            "contract_id": o.contract_id,
            "contract_name": contract_name,
            "project_id": None,
            "project_name": o.project_name,
            "name": o.name,
            "sku": o.product.sku,
            "product_name": PRODUCT_NAME,
            "processing_level": o.product.level,
            "parameters": o.parameters,
            "status": snap.status("order"),
            "quantity": {"value": float(o.quantity), "unit": "km2"},
            "price": {"amount": str(o.price), "currency": "USD"},
            "created_at": iso(o.created),
            "updated_at": iso(snap.updated),
        },
    }


def capture_json(snap: Snapshot) -> dict[str, Any]:
    """The order's archive capture (V1 capture fields, seed 004, plus ``order_id``)."""
    props = snap.order.capture.item["properties"]
    return {
        "capture_id": snap.order.outcome_id,
        "order_id": snap.order.order_id,
        "start": props["datetime"],
        "satellite_name": str(props["platform"]).replace("-", ""),
        "status": snap.status("capture"),
    }


def deliverable_json(snap: Snapshot) -> dict[str, Any]:
    """The order's one deliverable (archive orders are stitched into one; assumed fields).

    ``sceneset_id`` names the Telluric sceneset to download it from, once available.
    """
    o = snap.order
    status = snap.status("deliverable")
    available = snap.first("deliverable", "available")
    return {
        "deliverable_id": o.deliverable_id,
        "order_id": o.order_id,
        "capture_id": o.outcome_id,
        "sku": o.product.sku,
        "processing_level": o.product.level,
        "status": status,
        "quantity": {"value": float(o.quantity), "unit": "km2"},
        "delivery_type": "telluric",
        "sceneset_id": o.sceneset_id if status in ("available", "expired") else None,
        "created_at": iso(o.created),
        "updated_at": iso(max(e.at for e in snap.events if e.entity_type == "deliverable")),
        "available_at": iso(available.at) if available else None,
        "expires_at": iso(available.at + snap.ttl) if available else None,
    }


def events_json(snap: Snapshot) -> list[dict[str, Any]]:
    """The order's events so far, oldest first (assumed fields)."""
    return [
        {
            "event_id": f"{snap.order.order_id}.{n:03d}",
            "order_id": snap.order.order_id,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "event_type": f"{e.entity_type}.{e.status}",
            "status": e.status,
            "detail": e.detail or None,
            "timestamp": iso(e.at),
        }
        for n, e in enumerate(snap.events, start=1)
    ]
