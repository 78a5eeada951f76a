"""ICEYE tasking: the task book and its state machine (rules and prices: ``task_rules``).

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
from bridge.simulators.iceye.orders import iso
from bridge.simulators.iceye.task_rules import (
    CANCELLABLE,
    IMAGING_MODES,
    PRODUCT_TYPES,
    SLA_PRODUCTS,
    Invalid,
    TaskSpec,
    task_price,
)

TASK_NUMBER_BASE = 900_000
"""Frame numbers of tasked acquisitions (above any archive frame's)."""


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
