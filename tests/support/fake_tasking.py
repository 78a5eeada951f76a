"""An in-memory tasking provider (``TaskingProvider``) for testing the STAPI layer alone.

It keeps real tasks: statuses move on a manual clock (``step_s`` per status), every call
is counted, creation can be slowed (``delay_s``) or its answer lost after the task was
made (``lose_answer``: the outcome-unknown case), and a completed task delivers an item of
the fake archive provider it is given.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bridge.core.tasking_contract import (
    Delivery,
    NativeTask,
    Opportunity,
    OpportunityResult,
    StapiStatus,
    StatusEvent,
    TaskingProduct,
    TaskingRequest,
    TaskQuote,
)
from bridge.errors import BadRequest, Conflict, ProviderError
from tests.support.clock import ManualClock

# Native status words and their STAPI words: a table kept as data, as adapters do.
STATUS_MAP: dict[str, StapiStatus] = {
    "NEW": "received",
    "PENDING_APPROVAL": "held",
    "ACCEPTED": "accepted",
    "ACQUIRING": "tasked",
    "DONE": "completed",
    "CANCELED": "user_cancelled",
}
PROGRESS = ("NEW", "ACCEPTED", "ACQUIRING", "DONE")

QUERYABLES: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "view:off_nadir": {"type": "number", "minimum": 0, "maximum": 45},
        "sat:orbit_state": {"type": "string", "enum": ["ascending", "descending"]},
    },
}
ORDER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "priority": {"type": "string", "enum": ["standard", "priority"], "default": "standard"},
        "sla": {"type": "string", "default": "standard"},
    },
    "additionalProperties": False,
}


@dataclass
class _Task:
    native_id: str
    request: TaskingRequest
    reference: str
    created: float
    approval: bool
    approved_at: float | None = None
    canceled_at: float | None = None


@dataclass
class FakeTasking:
    """Tasks of provider ``name`` over the items of ``items`` (collection, item id)."""

    name: str
    clock: ManualClock
    items: list[tuple[str, str]]
    step_s: float = 10.0
    price: int | None = 50_000
    delay_s: float = 0.0
    lose_answer: bool = False
    refuse_with: Exception | None = None
    calls: Counter[str] = field(default_factory=Counter)
    tasks: dict[str, _Task] = field(default_factory=dict)
    contexts: list[Any] = field(default_factory=list)

    def factory(self, context: Any) -> FakeTasking:
        """``create_tasking``: remembers the context it was built from."""
        self.contexts.append(context)
        return self

    def products(self) -> list[TaskingProduct]:
        provider = ({"name": self.name, "roles": ["producer"], "url": "https://example.com"},)
        spot = TaskingProduct(
            id=f"{self.name}-spot",
            title="Spot",
            description="A point acquisition.",
            queryables=QUERYABLES,
            order_parameters=ORDER_PARAMETERS,
            collection_id=self.items[0][0],
            opportunities=True,
            providers=provider,
            cancellable=True,
        )
        strip = replace(
            spot,
            id=f"{self.name}-strip",
            title="Strip",
            description="An area acquisition, its cost approved by the customer.",
            opportunities=False,
            cancellable=False,
            approval=True,
        )
        return [spot, strip]

    def _time(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    async def opportunities(self, request: TaskingRequest, limit: int) -> OpportunityResult:
        self.calls["opportunities"] += 1
        found = [
            Opportunity(
                start=request.start,
                end=request.end,
                geometry=request.geometry,
                id=f"opp-{k}",
                properties={"view:off_nadir": 10.0 + k},
            )
            for k in range(min(limit, 3))
        ]
        return OpportunityResult(found, errors=["supplier-x: no answer"])

    async def quote(self, request: TaskingRequest) -> TaskQuote:
        self.calls["quote"] += 1
        return TaskQuote(self.price, "USD", "one acquisition")

    async def create_task(
        self, request: TaskingRequest, reference: str, webhook_url: str | None = None
    ) -> NativeTask:
        self.calls["create_task"] += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.refuse_with is not None:
            raise self.refuse_with
        if request.start.year < 2000:
            raise BadRequest("datetime: the window must be in the future")
        approval = request.product_id.endswith("-strip")
        task = _Task(f"task-{len(self.tasks) + 1}", request, reference, self.clock(), approval)
        self.tasks[task.native_id] = task
        if self.lose_answer:
            raise ProviderError(self.name, "connection dropped after the request was sent")
        return self._read(task)

    def _read(self, task: _Task) -> NativeTask:
        now = self.clock()
        history: list[StatusEvent] = []

        def step(at: float, native: str, reason: str | None = None) -> None:
            history.append(StatusEvent(self._time(at), STATUS_MAP[native], native, reason))

        step(task.created, "NEW")
        started = task.created
        if task.approval:
            step(task.created, "PENDING_APPROVAL", "cost review")
            started = task.approved_at if task.approved_at is not None else now + 1e9
        for k, native in enumerate(PROGRESS[1:], start=1):
            at = started + k * self.step_s
            if at > now or (task.canceled_at is not None and at > task.canceled_at):
                break
            step(at, native)
        if task.canceled_at is not None:
            step(task.canceled_at, "CANCELED", "canceled by the customer")
        last = history[-1]
        return NativeTask(
            native_id=task.native_id,
            status=last.status,
            native_status=last.native_status,
            history=tuple(history),
            reference=task.reference,
            amount=self.price,
            currency="USD",
            awaiting_approval=task.approval and task.approved_at is None,
        )

    async def find_tasks(self, request: TaskingRequest, reference: str) -> list[NativeTask]:
        self.calls["find_tasks"] += 1
        return [self._read(t) for t in self.tasks.values() if t.reference == reference]

    async def get_task(self, native_id: str) -> NativeTask:
        self.calls["get_task"] += 1
        return self._read(self.tasks[native_id])

    async def cancel_task(self, native_id: str) -> NativeTask:
        self.calls["cancel_task"] += 1
        task = self.tasks[native_id]
        if self._read(task).status in ("completed", "user_cancelled"):
            raise Conflict("the task can no longer be canceled")
        task.canceled_at = self.clock()
        return self._read(task)

    async def approve_task(self, native_id: str) -> NativeTask:
        self.calls["approve_task"] += 1
        task = self.tasks[native_id]
        if not task.approval or task.approved_at is not None:
            raise Conflict("nothing to approve")
        task.approved_at = self.clock()
        return self._read(task)

    async def deliveries(self, native_id: str) -> list[Delivery]:
        self.calls["deliveries"] += 1
        task = self.tasks[native_id]
        if self._read(task).status != "completed":
            return []
        index = int(native_id.split("-")[1]) % len(self.items)
        collection, item = self.items[index]
        return [Delivery(collection, item, f"delivery-{native_id}")]

    def task_id_from_webhook(self, payload: Any) -> str | None:
        return payload.get("task") if isinstance(payload, dict) else None

    async def aclose(self) -> None:
        return None
