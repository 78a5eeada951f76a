"""Capella's tasking requests: native validation, cost, and statuses that move with time.

A request's history is materialised lazily: each read calls :meth:`TaskBook.advance`,
which appends every status whose time has come on ``config.clock`` and performs its side
effects once (charging the organization's budget on ``submitted``, adding the collect's
products to the archive on ``completed``). One ``capella_task_step_s`` passes between
steps. What the sources say and what is assumed is in ``SOURCES.md`` ("Tasking").
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.simulators.capella.archive import Archive
from bridge.simulators.capella.orders import OrderBook, iso_ms, usd
from bridge.simulators.capella.task_delivery import deliver_collect, mode_code
from bridge.simulators.capella.task_rules import TaskError, validate_task

# Invented list prices (USD) for a standard-tier request, and the area each covers.
TASK_PRICE_USD = {
    "spotlight": 2000.0,
    "spotlight_ultra": 3000.0,
    "spotlight_wide": 1800.0,
    "stripmap_20": 1500.0,
    "stripmap_50": 1250.0,
    "stripmap_100": 1000.0,
    "parallel_stripmap_20": 2250.0,
    "parallel_stripmap_50": 1900.0,
    "parallel_stripmap_100": 1500.0,
}
ACCOUNTING_SQKM = {"spotlight": 25, "spotlight_ultra": 25, "spotlight_wide": 100}
STRIPMAP_SQKM = 100
TIER_FACTOR = {"urgent": 3.0, "priority": 2.0, "standard": 1.0, "flexible": 0.75}
CANCELLABLE = frozenset({"received", "review", "submitted", "active", "accepted"})
TERMINAL = frozenset({"completed", "rejected", "canceled", "expired", "failed", "error"})
MESSAGES = {
    "received": "Request created",
    "review": "Tasking request ready for review.",
    "auto": "Request submitted through automatic approval",
    "approved": "Request approved and submitted for scheduling",
    "accepted": "Request can be completely satisfied during validity window.",
    "completed": "Tasking request has been completed.",
    "rejected": "Request cannot be completed: conflicting tasks within the validity window.",
    "funds": "Request rejected: the cost exceeds your contract's available commitment.",
    "declined": "Request rejected by customer.",
    "canceled": "Request canceled by customer.",
    "expired": "Request could not be collected within its validity window.",
    "failed": "Collect failed: an anomaly prevented the collection.",
}
Event = tuple[float, str, str]


def task_price_usd(collection_type: str, tier: str) -> float:
    """The cost estimate of one request."""
    return round(TASK_PRICE_USD[collection_type] * TIER_FACTOR[tier], 2)


@dataclass
class Task:
    """One tasking request as the book keeps it."""

    task_id: str
    user_id: str
    organization_id: str
    contract_id: str
    created: float
    geometry: dict[str, Any]
    props: dict[str, Any]
    cost_usd: float
    fate: str
    """What the scheduler will do once submitted: ``completed``, ``rejected``, ``failed``."""
    events: list[Event] = field(default_factory=list)
    collects: list[dict[str, Any]] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The latest status code."""
        return self.events[-1][1]

    @property
    def window(self) -> tuple[float, float]:
        """``windowOpen`` and ``windowClose`` as unix seconds."""
        return self.props["_open"], self.props["_close"]


@dataclass
class TaskBook:
    """Every organization's tasking requests, in memory (one book per simulator app)."""

    archive: Archive
    orders: OrderBook
    seed: int
    clock: Callable[[], float]
    """The simulator's one clock (``SimulatorConfig.clock``)."""
    step_s: float = 3.0
    reject_rate: float = 0.0
    fail_rate: float = 0.0
    dice_seed: int = 0
    tasks: dict[str, Task] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._dice = random.Random(self.dice_seed)

    def create(self, user: dict[str, Any], contract_id: str, body: Any) -> Task:
        """Validate ``body`` (``POST /task``) and create the request in ``received``."""
        now = self.clock()
        geometry, props = validate_task(body, now)
        # Both dice are thrown for every request so one rate never shifts the other's draws.
        rejected, failed = self._dice.random() < self.reject_rate, self._dice.random()
        fate = "rejected" if rejected else ("failed" if failed < self.fail_rate else "completed")
        task = Task(
            task_id=str(uuid.uuid4()),
            user_id=user["id"],
            organization_id=user["organizationId"],
            contract_id=contract_id,
            created=now,
            geometry=geometry,
            props=props,
            cost_usd=task_price_usd(props["collectionType"], props["collectionTier"]),
            fate=fate,
            events=[(now, "received", MESSAGES["received"])],
        )
        self.tasks[task.task_id] = task
        return task

    def get(self, organization_id: str, task_id: str) -> Task:
        """The organization's request ``task_id``, advanced to now (404 if none)."""
        task = self.tasks.get(task_id)
        if task is None or task.organization_id != organization_id:
            raise TaskError(404, f"Tasking request {task_id} not found", "NOT_FOUND")
        self.advance(task)
        return task

    def visible(self, organization_id: str) -> list[Task]:
        """The organization's requests, advanced to now, newest submission first."""
        found = [t for t in self.tasks.values() if t.organization_id == organization_id]
        for task in found:
            self.advance(task)
        return sorted(found, key=lambda t: t.created)[::-1]  # ties: latest created first

    def delivered(self, organization_id: str) -> frozenset[str]:
        """Granules of the organization's completed requests (its own, unordered)."""
        return frozenset(
            i for t in self.tasks.values() if t.organization_id == organization_id
            for i in t.item_ids
        )  # fmt: skip

    def set_status(self, task: Task, status: Any) -> None:
        """``PATCH /task/{id}/status``: ``canceled`` (cancel), ``approved`` or ``rejected``
        (the cost review's answer)."""
        self.advance(task)
        now = self.clock()
        current = task.status
        if status == "canceled":
            if current not in CANCELLABLE:
                raise TaskError(
                    409, f"Tasking request in status {current} cannot be canceled", "CONFLICT"
                )
            task.events.append((now, "canceled", MESSAGES["canceled"]))
            return
        if status not in ("approved", "rejected"):
            raise TaskError(
                400, "status must be one of canceled, approved, rejected", "VALIDATION_ERROR"
            )
        if current != "review" or task.props["preApproval"]:
            raise TaskError(
                409,
                f"Tasking request in status {current} is not awaiting cost approval",
                "CONFLICT",
            )
        if status == "rejected":
            task.events.append((now, "rejected", MESSAGES["declined"]))
            return
        self._submit(task, now, MESSAGES["approved"])
        self.advance(task)

    def advance(self, task: Task) -> None:
        """Append every status whose time has come (side effects happen here, once)."""
        now = self.clock()
        while task.status not in TERMINAL:
            step = self._next(task)
            if step is None or step[0] > now:
                return
            when, code, message = step
            if code == "submitted":
                self._submit(task, when, message)
            else:
                if code == "completed":
                    collect, items = deliver_collect(
                        self.archive,
                        self.seed,
                        task.task_id,
                        task.geometry,
                        task.props,
                        collected_at=when - self.step_s,  # inside the window (see _next)
                        delivered_at=when,
                    )
                    task.collects.append(collect)
                    task.item_ids.extend(items)
                task.events.append(step)

    def _next(self, task: Task) -> Event | None:
        when, code, _ = task.events[-1]
        opens, closes = task.window
        if code == "received":
            return (when + self.step_s, "review", MESSAGES["review"])
        if code == "review":
            if task.props["preApproval"]:
                return (when, "submitted", MESSAGES["auto"])
            return (closes, "expired", MESSAGES["expired"])  # never approved
        if code == "submitted":
            if task.fate == "rejected":
                return (when + self.step_s, "rejected", MESSAGES["rejected"])
            return (when + self.step_s, "accepted", MESSAGES["accepted"])
        # accepted: the collect happens inside the window, delivered one step later
        collect_at = max(when, opens) + self.step_s
        if collect_at > closes:
            return (closes, "expired", MESSAGES["expired"])
        if task.fate == "failed":
            return (collect_at, "failed", MESSAGES["failed"])
        return (collect_at, "completed", MESSAGES["completed"])

    def _submit(self, task: Task, when: float, message: str) -> None:
        if self.orders.charge(task.organization_id, task.cost_usd):
            task.events.append((when, "submitted", message))
        else:
            task.events.append((when, "rejected", MESSAGES["funds"]))

    def transaction_status(self, task: Task) -> str:
        """``''`` before the cost estimate, ``pending-customer-approval`` while it waits."""
        code = task.status
        if code == "received":
            return ""
        if code == "review" and not task.props["preApproval"]:
            return "pending-customer-approval"
        if code == "completed":
            return "completed"
        return "canceled" if code in TERMINAL else "in-progress"

    def to_feature(self, task: Task) -> dict[str, Any]:
        """The request as ``GET /task/{id}`` answers it (history newest first)."""
        props = {k: v for k, v in task.props.items() if not k.startswith("_")}
        opens, closes = task.window
        reviewed = any(code == "review" for _, code, _ in task.events)
        ctype = props["collectionType"]
        sqkm = ACCOUNTING_SQKM.get(ctype, STRIPMAP_SQKM)
        body: dict[str, Any] = {
            **props,
            "submissionTime": iso_ms(task.created),
            "taskingrequestId": task.task_id,
            "userId": task.user_id,
            "orgId": task.organization_id,
            "contractId": task.contract_id,
            "repeatrequestId": None,
            "windowDuration": int(closes - opens),
            "statusHistory": [
                {"time": iso_ms(t), "code": c, "message": m} for t, c, m in reversed(task.events)
            ],
            "type": "spotlight" if mode_code(ctype) == "SP" else "stripmap",
            "transactionStatus": self.transaction_status(task),
            "sandbox": False,
        }
        if reviewed:
            total = usd(task.cost_usd)
            body["order"] = {
                "summary": {"total": total, "subtotal": total},
                "lineItems": [
                    {"taskId": task.task_id, "accountingSize": {"unit": "sqkm", "value": sqkm}}
                ],
                "archiveHoldback": props["archiveHoldback"],
                "managedOrganizationIds": ["*"],
            }
        return {"type": "Feature", "geometry": task.geometry, "properties": body}
