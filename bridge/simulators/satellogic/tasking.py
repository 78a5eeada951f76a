"""Satellogic tasking (V1 Tasking API) in the simulator: the task book and its timelines.

A task asks for captures of one target (a Point for POI products, a Polygon for AOI
products) between ``start`` and ``end`` (docs tasking-service description). Its life,
computed from its creation time on the simulator's one clock (no background task runs),
with ``s`` = the ``task_step_s`` setting and ``o`` = ``order_step_s``:

=========================  ==================================================================
when                       what
=========================  ==================================================================
``t0``                     ``received`` (documented: "the first status is always received")
``t0 + s``                 ``in_progress`` (seed 004), its capture ``planned`` — or
                           ``rejected`` with a reason (share ``task_reject_rate``)
``t0 + 2s``                the capture is taken (``processing``) — or the task ``failed``
                           (share ``task_fail_rate``: the window yields no usable capture)
``t0 + 2s + 2o``           capture ``published`` (seed 004), task ``completed`` (docs filter
                           ``status=completed``): the capture's tiles join the archive and its
                           delivery is an Aleph V2 order (seed 000: V1 tasks are represented as
                           orders, ``GET /orders?task_id=``) served through Telluric with
                           ``sceneset_id`` = ``capture_id`` (seed 004)
=========================  ==================================================================

Rejection and failure are drawn deterministically from the seed and the task id. A task
can be canceled while ``received`` or ``in_progress`` (the docs name cancellation, not its
path or rules: assumed). Statuses other than ``received``, ``in_progress``, ``completed``
are assumed words.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bridge.simulators.common.cog import PixelSpec, stable_seed
from bridge.simulators.satellogic.archive import L1D, QUICKVIEW, Archive, Tile, tasked_capture
from bridge.simulators.satellogic.orders import Order, OrderBook, iso, new_ids
from bridge.simulators.satellogic.products import (
    MS,
    RGB,
    Product,
    Raster,
    quantity_and_price,
)

REJECTED_REASON = "No feasible capture of the target within the requested window."
FAILED_REASON = "The window closed without a usable capture (cloud cover above threshold)."


@dataclass(frozen=True)
class TaskProduct:
    """One product of ``GET /tasking/products/`` and what a task of it delivers."""

    pk: int
    name: str
    is_area: bool
    delivery: Product
    """The V2 SKU a task's delivery order carries, its level, rasters and price."""
    min_km2: Decimal
    """The billed minimum: a POI capture's fixed footprint, an AOI's smallest area."""


_RASTERS = (
    Raster("MS", MS, PixelSpec("optical", 4, "uint16")),
    Raster("VIS", RGB, PixelSpec("optical", 3, "uint8")),
)
TASK_PRODUCTS: dict[int, TaskProduct] = {
    p.pk: p
    for p in (
        # docs command-line examples / introduction: 169 "Multispectral 70cm" (POI, 5x5 km
        # fixed footprint), 178 "Area Coverage 70cm" (AOI); SKUs TSKPOI-M / TSKARE-M (seed
        # 000); prices per km² assumed.
        TaskProduct(169, "Multispectral 70cm", False,
                    Product("TSKPOI-M", "L1D", "Standard Tasking (POI)", L1D, Decimal("15.00"),
                            _RASTERS), Decimal("25")),
        TaskProduct(178, "Area Coverage 70cm", True,
                    Product("TSKARE-M", "L1D", "Standard Area Coverage (AOI)", L1D,
                            Decimal("10.00"), _RASTERS), Decimal("25")),
    )
}  # fmt: skip
MAX_AOI_KM2 = Decimal("2500")
"""The largest AOI a task may cover (assumed: the docs give no limit)."""


def task_price(product: TaskProduct, area_km2: float) -> tuple[Decimal, Decimal]:
    """Billed km² (the product's minimum at least) and the price of a task."""
    area = max(Decimal(str(round(area_km2, 4))), product.min_km2)
    return quantity_and_price(float(area), product.delivery)


@dataclass(frozen=True)
class TaskEvent:
    """One status of a task."""

    at: float
    status: str
    reason: str | None = None


@dataclass
class Task:
    """One tasking task and everything it will become."""

    task_id: int
    contract_id: str
    task_name: str
    project_name: str
    product: TaskProduct
    target: dict[str, Any]
    start: datetime
    end: datetime
    created: float
    quantity: Decimal
    price: Decimal
    fate: str
    """``completed``, ``rejected`` or ``failed``: decided at creation (deterministic)."""
    canceled_at: float | None = None
    tiles: list[Tile] = field(default_factory=list)
    order_id: str | None = None

    def timeline(self, step: float, order_step: float) -> list[TaskEvent]:
        """Every status of the task's life, past and future, in time order."""
        t0 = self.created
        events = [TaskEvent(t0, "received")]
        if self.fate == "rejected":
            events.append(TaskEvent(t0 + step, "rejected", REJECTED_REASON))
        else:
            events.append(TaskEvent(t0 + step, "in_progress"))
            if self.fate == "failed":
                events.append(TaskEvent(t0 + 2 * step, "failed", FAILED_REASON))
            else:
                events.append(TaskEvent(t0 + 2 * step + 2 * order_step, "completed"))
        if self.canceled_at is not None:
            events = [e for e in events if e.at <= self.canceled_at]
            events.append(TaskEvent(self.canceled_at, "canceled", "Canceled by the customer."))
        return events


class TaskBook:
    """The simulator's tasks, per app instance."""

    def __init__(
        self,
        step_s: float,
        reject_rate: float,
        fail_rate: float,
        seed: int,
        clock: Callable[[], float],
        archive: Archive,
        orders: OrderBook,
    ) -> None:
        self.step_s = step_s
        self.reject_rate = reject_rate
        self.fail_rate = fail_rate
        self.seed = seed
        self.clock = clock
        self.archive = archive
        self.orders = orders
        self.tasks: dict[int, Task] = {}
        self._pending: list[Task] = []

    def fate(self, task_id: int) -> str:
        """Whether a new task will be rejected, fail or complete (deterministic)."""
        draw = stable_seed(self.seed, "task", task_id) / 2**63
        if draw < self.reject_rate:
            return "rejected"
        if draw < self.reject_rate + (1 - self.reject_rate) * self.fail_rate:
            return "failed"
        return "completed"

    def next_id(self) -> int:
        # Task ids are integers (seed 004: 23272); start past zero like a real sequence.
        return 30000 + len(self.tasks) + 1

    def add(self, task: Task) -> None:
        self.tasks[task.task_id] = task
        if task.fate == "completed":
            self._pending.append(task)

    def get(self, contract_id: str, task_id: int) -> Task | None:
        """The task, if it was created under ``contract_id``."""
        task = self.tasks.get(task_id)
        return task if task is not None and task.contract_id == contract_id else None

    def of_contract(self, contract_id: str) -> list[Task]:
        """The contract's tasks, newest first."""
        found = [t for t in self.tasks.values() if t.contract_id == contract_id]
        return sorted(found, key=lambda t: t.task_id, reverse=True)

    def events(self, task: Task) -> list[TaskEvent]:
        """The statuses the task has had by now."""
        now = self.clock()
        timeline = task.timeline(self.step_s, self.orders.step_s)
        return [e for e in timeline if e.at <= now]

    def status(self, task: Task) -> str:
        return self.events(task)[-1].status

    def captured_at(self, task: Task) -> float:
        return task.created + 2 * self.step_s

    def settle(self) -> None:
        """Deliver every task that has completed by now: its capture joins the archive and
        its delivery order the order book (idempotent; called before each request)."""
        if not self._pending:
            return
        still: list[Task] = []
        for task in self._pending:
            if self.status(task) == "completed":
                self._deliver(task)
            elif task.canceled_at is None:
                still.append(task)
        self._pending = still

    def _deliver(self, task: Task) -> None:
        lon, lat = _centre(task.target)
        when = datetime.fromtimestamp(self.captured_at(task), UTC).replace(tzinfo=None)
        outcome = capture_id(self.seed, task.task_id)
        tiles = tasked_capture(self.seed, outcome, lon, lat, when, [QUICKVIEW, L1D])
        self.archive.add(tiles)
        task.tiles = tiles
        delivered = [t for t in tiles if t.collection == task.product.delivery.collection]
        order_id = self.orders.next_id()
        deliverable_id, _ = new_ids(self.seed, order_id)
        bbox = (
            min(t.item["bbox"][0] for t in delivered),
            min(t.item["bbox"][1] for t in delivered),
            max(t.item["bbox"][2] for t in delivered),
            max(t.item["bbox"][3] for t in delivered),
        )
        self.orders.add(
            Order(
                order_id=order_id,
                contract_id=task.contract_id,
                product=task.product.delivery,
                name=task.task_name,
                project_name=task.project_name,
                parameters={"outcome_id": outcome, "task_id": task.task_id},
                geometry=task.target,
                capture=delivered[0],
                tiles=[t.id for t in delivered],
                bbox=bbox,
                quantity=task.quantity,
                price=task.price,
                created=self.captured_at(task),
                fails=False,
                deliverable_id=deliverable_id,
                sceneset_id=outcome,  # seed 004: the sceneset id is the capture id
                scene_id=f"{delivered[0].id.rsplit('_', 2)[0]}_T{task.task_id}",
            )
        )
        task.order_id = order_id


def _centre(target: dict[str, Any]) -> tuple[float, float]:
    """The point a capture is centred on: the POI, or the AOI's bounding-box centre."""
    if target["type"] == "Point":
        lon, lat = target["coordinates"][:2]
        return float(lon), float(lat)
    ring = target["coordinates"][0]
    xs, ys = [float(p[0]) for p in ring], [float(p[1]) for p in ring]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def task_json(book: TaskBook, task: Task) -> dict[str, Any]:
    """A task as ``GET /tasking/tasks/{id}`` shows it (seed 004 fields)."""
    target = dict(task.target)
    if target["type"] == "Point":  # seed 004: the answer carries an altitude of 0.0
        target["coordinates"] = [*target["coordinates"][:2], 0.0]
    events = book.events(task)
    body: dict[str, Any] = {
        "task_id": task.task_id,
        "task_name": task.task_name,
        "project_name": task.project_name,
        "product": task.product.pk,
        "start": task.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": task.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "priority": 13,
        "client": "Sandbox client",
        "target": target,
        "created_time": iso(task.created),
        "status": events[-1].status,
    }
    if events[-1].reason and events[-1].status in ("rejected", "failed"):
        body["status_reason"] = events[-1].reason  # assumed field: why it ended so
    return body


def captures_json(book: TaskBook, task: Task) -> list[dict[str, Any]]:
    """The task's captures (seed 004 fields; ``published`` documented, ``planned``,
    ``processing``, ``failed``, ``canceled`` assumed): none before the task is accepted."""
    events = book.events(task)
    if not any(e.status == "in_progress" for e in events):
        return []
    status = events[-1].status
    if status == "completed":
        word = "published"
    elif status in ("failed", "canceled"):  # a task is canceled only before its capture
        word = status
    else:
        word = "processing" if book.clock() >= book.captured_at(task) else "planned"
    sat = task.tiles[0].item["properties"]["platform"] if task.tiles else "newsat-23"
    return [
        {
            "capture_id": capture_id(book.seed, task.task_id),
            "start": iso(book.captured_at(task)),
            "satellite_name": str(sat).replace("-", ""),
            "status": word,
        }
    ]


def capture_id(seed: int, task_id: int) -> str:
    """The id of a task's capture, known from planning on (stable per seed and task)."""
    digest = hashlib.sha256(f"{seed}\x1fcapture\x1f{task_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
