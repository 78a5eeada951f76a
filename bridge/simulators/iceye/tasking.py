"""ICEYE tasking: the task book, its state machine, native validation rules and prices.

Lifecycle (ICEYE docs "get task"): RECEIVED → ACTIVE or REJECTED (the optimizer);
ACTIVE → FULFILLED (SLA products ready) → DONE (all products), straight to DONE when no
non-SLA product was asked for, or FAILED; RECEIVED and ACTIVE can be CANCELED by the
user. Status is computed from the creation time on the simulator's one clock, one
``task_step_s`` per step, no background task. Whether a task is rejected or fails is drawn
once per task (seeded) from ``task_reject_rate`` / ``task_fail_rate``.

A task that reaches FULFILLED has been acquired: its products become scenes of the
archive (:func:`bridge.simulators.iceye.archive.tasked_scenes`), served as COGs like
every archive product and found by the owner's catalog searches.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bridge.simulators.iceye.archive import Archive, Scene, tasked_scenes, with_scenes
from bridge.simulators.iceye.orders import CURRENCY, EULAS, iso

# API imagingMode → the archive's acquisition mode (ICEYE docs "create task" table; the
# fine/precise/look variants are not simulated).
IMAGING_MODES: dict[str, str] = {
    "STRIPMAP": "stripmap",
    "SPOTLIGHT": "spotlight",
    "SPOTLIGHT_EXTENDED_AREA": "spotlight_extended_area",
    "SCAN": "scan",
    "SPOTLIGHT_EXTENDED_DWELL": "dwell",
}
PRIORITIES = ("COMMERCIAL", "BACKGROUND")
EXCLUSIVITIES = ("PUBLIC", "PRIVATE")
SLAS = ("SLA_2H", "SLA_8H", "SLA_12H", "SLA_24H")
LOOK_SIDES = ("LEFT", "RIGHT", "ANY")
PASS_DIRECTIONS = ("ASCENDING", "DESCENDING", "ANY")
SLA_PRODUCTS = ("GRD", "SLC")
"""Products delivered at FULFILLED (the demo contract's SLA products, assumed)."""
PRODUCT_TYPES = ("GRD", "SLC", "SICD", "SIDD", "CSI", "VID")
"""Types a task may ask for (seed 001 product-type enum, COG and QLK variants aside)."""
MIN_WINDOW_S = 24 * 3600.0
MAX_AHEAD_S = 14 * 86400.0
CANCELLABLE = frozenset({"RECEIVED", "ACTIVE"})
# EUR cents per task by imaging mode, and factors (assumed: ICEYE publishes no list
# price; the seed documents only the {amount, currency} shape in minor units).
TASK_PRICE = {
    "STRIPMAP": 300_000,
    "SPOTLIGHT": 450_000,
    "SPOTLIGHT_EXTENDED_AREA": 550_000,
    "SCAN": 350_000,
    "SPOTLIGHT_EXTENDED_DWELL": 700_000,
}
PRIORITY_FACTOR = {"COMMERCIAL": 1.0, "BACKGROUND": 0.7}
EXCLUSIVITY_FACTOR = {"PUBLIC": 1.0, "PRIVATE": 1.25}
EULA_FACTOR = {"STANDARD": 1.0, "GOVERNMENT": 1.0, "MULTI": 1.5}
SLA_FACTOR = {"SLA_2H": 1.5, "SLA_8H": 1.2, "SLA_12H": 1.1, "SLA_24H": 1.0}
TASK_NUMBER_BASE = 900_000
"""Frame numbers of tasked acquisitions (above any archive frame's)."""


class Invalid(Exception):
    """A task body ICEYE refuses: ``field`` named in the message."""

    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def _choice(body: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


def _time(value: Any, name: str) -> float:
    if not isinstance(value, str):
        raise Invalid(f"{name} is required and must be an RFC 3339 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{name} is not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise Invalid(f"{name} needs a time zone offset")
    return parsed.timestamp()


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Invalid(f"{name} must be a number between {low:g} and {high:g}")
    return float(value)


def _window(window: Any, now: float, check: bool) -> tuple[float, float]:
    if not isinstance(window, Mapping):
        raise Invalid("acquisitionWindow is required: {start, end}")
    start = _time(window.get("start"), "acquisitionWindow.start")
    end = _time(window.get("end"), "acquisitionWindow.end")
    if check:
        if start <= now:
            raise Invalid("acquisitionWindow.start cannot be immediate or in the past")
        if end - start < MIN_WINDOW_S:
            raise Invalid("acquisitionWindow must be at least 24h wide (end - start >= 24h)")
        if end > now + MAX_AHEAD_S:
            raise Invalid("acquisitionWindow.end cannot be more than 14 days from now")
    return start, end


def _incidence(incidence: Any) -> tuple[float, float] | None:
    if incidence is None:
        return None
    if not isinstance(incidence, Mapping):
        raise Invalid("incidenceAngle must be an object {min, max}")
    bounds = (
        _number(incidence.get("min", 10), "incidenceAngle.min", 0, 90),
        _number(incidence.get("max", 45), "incidenceAngle.max", 0, 90),
    )
    if bounds[0] > bounds[1]:
        raise Invalid("incidenceAngle.min must not exceed incidenceAngle.max")
    return bounds


@dataclass(frozen=True)
class TaskSpec:
    """A validated task body (createTask, feasibility and price share it)."""

    contract_id: str
    lat: float
    lon: float
    start: float
    end: float
    imaging_mode: str
    priority: str
    exclusivity: str
    sla: str
    eula: str
    reference: str | None
    product_types: tuple[str, ...]
    incidence: tuple[float, float] | None
    look_side: str
    pass_direction: str


def parse_task(body: Mapping[str, Any], now: float, check_window: bool = True) -> TaskSpec:
    """Validate a createTask body (ICEYE docs "create task"); raises :class:`Invalid`."""
    contract = body.get("contractID")
    if not isinstance(contract, str) or not contract:
        raise Invalid("contractID is required and must be a string")
    poi = body.get("pointOfInterest")
    if not isinstance(poi, Mapping):
        raise Invalid("pointOfInterest is required: {lat, lon}")
    lat = _number(poi.get("lat"), "pointOfInterest.lat", -90, 90)
    lon = _number(poi.get("lon"), "pointOfInterest.lon", -180, 180)
    start, end = _window(body.get("acquisitionWindow"), now, check_window)
    mode = body.get("imagingMode")
    if mode not in IMAGING_MODES:
        raise Invalid(f"imagingMode must be one of {', '.join(IMAGING_MODES)}")
    types = body.get("productTypes", list(SLA_PRODUCTS))
    if not isinstance(types, list) or not types or any(t not in PRODUCT_TYPES for t in types):
        raise Invalid(f"productTypes must be a non-empty list of {', '.join(PRODUCT_TYPES)}")
    bounds = _incidence(body.get("incidenceAngle"))
    reference = body.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise Invalid("reference must be a string")
    return TaskSpec(
        contract_id=contract,
        lat=lat,
        lon=lon,
        start=start,
        end=end,
        imaging_mode=str(mode),
        priority=_choice(body, "priority", PRIORITIES, "COMMERCIAL"),
        exclusivity=_choice(body, "exclusivity", EXCLUSIVITIES, "PUBLIC"),
        sla=_choice(body, "sla", SLAS, "SLA_24H"),
        eula=_choice(body, "eula", EULAS, "STANDARD"),
        reference=reference,
        product_types=tuple(dict.fromkeys(types)),
        incidence=bounds,
        look_side=_choice(body, "lookSide", LOOK_SIDES, "ANY"),
        pass_direction=_choice(body, "passDirection", PASS_DIRECTIONS, "ANY"),
    )


def task_price(spec: TaskSpec) -> int:
    """The price of a task in EUR cents (assumed figures, see :data:`TASK_PRICE`)."""
    factor = (
        PRIORITY_FACTOR[spec.priority]
        * EXCLUSIVITY_FACTOR[spec.exclusivity]
        * EULA_FACTOR[spec.eula]
        * SLA_FACTOR[spec.sla]
    )
    return round(TASK_PRICE[spec.imaging_mode] * factor)


@dataclass
class Task:
    """One task as the simulator keeps it."""

    id: str
    number: int
    client: str
    created: float
    spec: TaskSpec
    outcome: str
    """``ok``, ``rejected`` or ``failed``: drawn at creation."""
    canceled: float | None = None
    scenes: tuple[Scene, ...] = ()
    """The acquired products (made when the task is first seen FULFILLED or DONE)."""


@dataclass
class TaskBook:
    """Every task, the base archive, and the timings that drive task status."""

    base: Archive
    clock: Callable[[], float]
    seed: int
    step_s: float = 5.0
    reject_rate: float = 0.0
    fail_rate: float = 0.0
    budgets: Mapping[str, int] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    _archive: Archive | None = None

    def create(self, client: str, spec: TaskSpec) -> Task:
        """Record a new task (RECEIVED); raises :class:`Invalid` (402) over budget."""
        budget = self.budgets.get(spec.contract_id)
        if budget is not None:
            spent = sum(
                task_price(t.spec)
                for t in self.tasks.values()
                if t.spec.contract_id == spec.contract_id
                and self.status(t) not in ("REJECTED", "FAILED", "CANCELED")
            )
            price = task_price(spec)
            if spent + price > budget:
                raise Invalid(
                    f"task price {price} exceeds the remaining budget {budget - spent} "
                    f"of contract {spec.contract_id}",
                    402,
                    "BUDGET_EXCEEDED",
                )
        number = TASK_NUMBER_BASE + len(self.tasks)
        rng = random.Random(f"iceye-task-{self.seed}-{number}")
        draw = rng.random()
        outcome = (
            "rejected"
            if draw < self.reject_rate
            else "failed"
            if draw < self.reject_rate + self.fail_rate
            else "ok"
        )
        task_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        task = Task(task_id, number, client, self.clock(), spec, outcome)
        self.tasks[task.id] = task
        return task

    def get(self, client: str, task_id: str) -> Task | None:
        """The task ``task_id`` if ``client`` made it."""
        task = self.tasks.get(task_id)
        return task if task is not None and task.client == client else None

    def listing(self, client: str, contract: str | None) -> list[Task]:
        """The client's tasks, newest first (assumed order)."""
        mine = [
            t
            for t in self.tasks.values()
            if t.client == client and (contract is None or t.spec.contract_id == contract)
        ]
        return sorted(mine, key=lambda t: (-t.created, t.id))

    def history(self, task: Task) -> list[tuple[str, float]]:
        """(status, since) of every status the task has had, oldest first."""
        steps = [("RECEIVED", task.created)]
        now = self.clock()
        extra = any(t not in SLA_PRODUCTS for t in task.spec.product_types)
        if task.outcome == "rejected":
            plan = [("REJECTED", 1)]
        elif task.outcome == "failed":
            plan = [("ACTIVE", 1), ("FAILED", 2)]
        elif extra:
            plan = [("ACTIVE", 1), ("FULFILLED", 2), ("DONE", 3)]
        else:
            plan = [("ACTIVE", 1), ("DONE", 2)]
        for status, step in plan:
            at = task.created + step * self.step_s
            if at > now or (task.canceled is not None and at > task.canceled):
                break
            steps.append((status, at))
        if task.canceled is not None:
            steps.append(("CANCELED", task.canceled))
        return steps

    def status(self, task: Task) -> str:
        """The task's status now."""
        return self.history(task)[-1][0]

    def cancel(self, task: Task) -> None:
        """Cancel ``task``; raises :class:`Invalid` (409) unless RECEIVED or ACTIVE."""
        status = self.status(task)
        if status not in CANCELLABLE:
            raise Invalid(
                f"task {task.id} is {status}: only RECEIVED or ACTIVE tasks can be canceled",
                409,
                "CONFLICT",
            )
        task.canceled = self.clock()

    def products(self, task: Task) -> tuple[Scene, ...]:
        """The products ready now: SLA products at FULFILLED, all at DONE."""
        status = self.status(task)
        if status not in ("FULFILLED", "DONE"):
            return ()
        self._acquire(task)
        if status == "FULFILLED":
            return tuple(s for s in task.scenes if s.product_type in SLA_PRODUCTS)
        return task.scenes

    def _acquire(self, task: Task) -> None:
        if task.scenes:
            return
        rng = random.Random(f"iceye-acquisition-{self.seed}-{task.number}")
        types = tuple(t for t in PRODUCT_TYPES if t in task.spec.product_types)
        task.scenes = tasked_scenes(
            rng,
            task.number,
            IMAGING_MODES[task.spec.imaging_mode],
            (task.spec.lon, task.spec.lat),
            datetime.fromtimestamp(task.spec.start + 3600.0, UTC),
            types,
        )
        self._archive = None

    def archive(self) -> Archive:
        """The base archive plus every acquired task's products."""
        for task in self.tasks.values():
            if not task.scenes and self.status(task) in ("FULFILLED", "DONE"):
                self._acquire(task)
        if self._archive is None:
            extra = tuple(s for t in self.tasks.values() for s in t.scenes)
            self._archive = with_scenes(self.base, extra)
        return self._archive

    def owned_frames(self, client: str) -> frozenset[str]:
        """Frames of the client's acquired tasks."""
        return frozenset(
            s.properties["frame_id"]
            for t in self.tasks.values()
            if t.client == client
            for s in self.products(t)
        )


def task_body(book: TaskBook, task: Task) -> dict[str, Any]:
    """The v2 Task object (create, get and list answers)."""
    spec = task.spec
    body: dict[str, Any] = {
        "id": task.id,
        "contractID": spec.contract_id,
        "status": book.status(task),
        "createdAt": iso(task.created),
        "pointOfInterest": {"lat": spec.lat, "lon": spec.lon},
        "acquisitionWindow": {"start": iso(spec.start), "end": iso(spec.end)},
        "imagingMode": spec.imaging_mode,
        "exclusivity": spec.exclusivity,
        "priority": spec.priority,
        "sla": spec.sla,
        "eula": spec.eula,
        "productTypes": list(spec.product_types),
        "lookSide": spec.look_side,
        "passDirection": spec.pass_direction,
    }
    if spec.reference is not None:
        body["reference"] = spec.reference
    if spec.incidence is not None:
        body["incidenceAngle"] = {"min": spec.incidence[0], "max": spec.incidence[1]}
    return body


def price_body(spec: TaskSpec) -> dict[str, Any]:
    """``{amount, currency}`` (seed 001: the Price object, minor units)."""
    return {"amount": task_price(spec), "currency": CURRENCY}
