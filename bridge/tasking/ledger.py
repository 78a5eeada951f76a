"""The tasking ledger: every STAPI order, recorded before its native task is created.

The archive ledger's guarantees (``bridge/orders/ledger.py``), extended to tasking. A new
order is first *claimed*: inserted in state ``placing`` under a unique index on (tenant,
product, claim key), the claim key being the client's ``Idempotency-Key`` or else the
request's digest. Of any number of concurrent requests, in any number of processes
sharing the database, one insert wins and only that caller creates the native task; the
others get the same order. A crash between the native call and the ledger write leaves
the row in ``placing``, and reconciliation asks the provider (``find_tasks``) before ever
creating a task again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bridge.core.tasking_contract import TERMINAL_STATUSES, NativeTask, TaskingRequest
from bridge.db.engine import Database
from bridge.db.schema import TaskingEvent, TaskingOrder
from bridge.errors import Conflict
from bridge.tasking.records import PLACING, EventRecord, TaskingRecord, request_json

# Statuses in which nothing was bought: they do not count toward a spending cap.
UNSPENT = frozenset({"rejected", "cancelled", "user_cancelled", "expired", "failed"})


def utcnow() -> datetime:
    """Now, timezone-aware."""
    return datetime.now(UTC)


class TaskingLedger:
    """Reads and writes the ``tasking_orders`` and ``tasking_events`` tables."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def claim(
        self,
        tenant_id: int,
        provider: str,
        request: TaskingRequest,
        idempotency_key: str | None = None,
    ) -> tuple[TaskingRecord, bool]:
        """The order for (tenant, product, key), creating it in ``placing`` if none.

        Returns the order and True when this caller created it and so must create the
        native task.

        Raises:
            Conflict: the ``Idempotency-Key`` was already used for a different request.
        """
        claim_key = idempotency_key or request.key()
        now = self.clock()
        row = TaskingOrder(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            provider=provider,
            product_id=request.product_id,
            claim_key=claim_key,
            idempotency_key=idempotency_key,
            request_key=request.key(),
            request=request_json(request),
            state=PLACING,
            awaiting_approval=False,
            created_at=now,
            updated_at=now,
        )
        created = True
        try:
            async with self.db.session() as session:
                session.add(row)
                await session.flush()  # the order before its first event (foreign key)
                session.add(
                    TaskingEvent(
                        order_id=row.id,
                        time=now,
                        status="received",
                        native_status=PLACING,
                        reason="order received",
                    )
                )
        except IntegrityError:
            created = False
        record = await self._claimed(tenant_id, request.product_id, claim_key)
        if record is None:  # the claim was released between our insert and read: try again
            return await self.claim(tenant_id, provider, request, idempotency_key)
        if record.request.key() != request.key():
            raise Conflict(
                "Idempotency-Key: this key was already used for a different tasking request"
            )
        return record, created and record.id == row.id

    async def _claimed(self, tenant_id: int, product_id: str, key: str) -> TaskingRecord | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(TaskingOrder).where(
                    TaskingOrder.tenant_id == tenant_id,
                    TaskingOrder.product_id == product_id,
                    TaskingOrder.claim_key == key,
                )
            )
            return TaskingRecord.of(row) if row else None

    async def record_task(
        self, order_id: str, task: NativeTask, next_check_in: timedelta | None
    ) -> TaskingRecord:
        """Store what the provider says of the task, and every status step not yet kept."""
        values: dict[str, Any] = {
            "native_id": task.native_id,
            "native_status": task.native_status,
            "state": task.status,
            "awaiting_approval": task.awaiting_approval,
            "updated_at": self.clock(),
            "next_check_at": None if next_check_in is None else self.clock() + next_check_in,
            "error": None,
        }
        if task.amount is not None:
            values["amount"] = task.amount
            values["currency"] = task.currency
        events = [(e.time, e.status, e.native_status, e.reason) for e in task.history]
        record = await self._update(order_id, values)
        known = await self.events(order_id)
        now = (task.status, task.native_status)
        said = (events[-1][1], events[-1][2]) if events else None
        kept = (known[-1].status, known[-1].native_status) if known else None
        if now not in (said, kept):
            # The provider's history (if it keeps one) does not reach the status it reports
            # now (ICEYE keeps none beyond creation): record the change the bridge observed.
            events = [*events, (self.clock(), task.status, task.native_status, None)]
        await self._add_events(order_id, events, known)
        return record

    async def _add_events(
        self,
        order_id: str,
        events: Sequence[tuple[datetime, str, str, str | None]],
        known: list[EventRecord],
    ) -> None:
        seen = {(e.time, e.status, e.native_status) for e in known}
        for time, status, native_status, reason in events:
            if (time, status, native_status) in seen:
                continue
            try:
                async with self.db.session() as session:
                    session.add(
                        TaskingEvent(
                            order_id=order_id,
                            time=time,
                            status=status,
                            native_status=native_status,
                            reason=reason,
                        )
                    )
            except IntegrityError:
                pass  # another process recorded the same step

    async def record_price(self, order_id: str, amount: int | None, currency: str) -> None:
        """Remember the quoted price of a task being created."""
        await self._update(order_id, {"amount": amount, "currency": currency})

    async def record_refusal(self, order_id: str, error: str) -> TaskingRecord:
        """The provider (or the cap) refused the task: it is ``rejected``, nothing was
        bought. A claim by digest is released so the same request may be tried again; a
        client's ``Idempotency-Key`` keeps naming this answer."""
        now = self.clock()
        async with self.db.session() as session:
            await session.execute(
                update(TaskingOrder)
                .where(TaskingOrder.id == order_id, TaskingOrder.idempotency_key.is_(None))
                .values(claim_key=None)
            )
        record = await self._update(
            order_id, {"state": "rejected", "error": error, "updated_at": now}
        )
        await self._add_events(order_id, [(now, "rejected", "refused", error)], [])
        return record

    async def record_uncertain(
        self, order_id: str, error: str, retry_in: timedelta
    ) -> TaskingRecord:
        """The native call's outcome is unknown: stay ``placing``, reconcile later."""
        values = {"error": error, "next_check_at": self.clock() + retry_in}
        return await self._update(order_id, values)

    async def record_delivered(self, order_id: str, items: list[tuple[str, str]]) -> None:
        """Remember which archive items the task delivered (their archive orders exist)."""
        await self._update(order_id, {"delivered": orjson.dumps(items).decode()})

    async def _update(self, order_id: str, values: dict[str, Any]) -> TaskingRecord:
        async with self.db.session() as session:
            await session.execute(
                update(TaskingOrder).where(TaskingOrder.id == order_id).values(**values)
            )
            row = await session.get(TaskingOrder, order_id, populate_existing=True)
            assert row is not None
            return TaskingRecord.of(row)

    async def lease(self, record: TaskingRecord, hold: timedelta) -> bool:
        """Take the right to work on an order for ``hold`` (optimistic: one process wins)."""
        async with self.db.session() as session:
            result = await session.execute(
                update(TaskingOrder)
                .where(TaskingOrder.id == record.id, TaskingOrder.updated_at == record.updated_at)
                .values(updated_at=self.clock(), next_check_at=self.clock() + hold)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, tenant_id: int, order_id: str) -> TaskingRecord | None:
        """One of the tenant's tasking orders."""
        async with self.db.session() as session:
            row = await session.get(TaskingOrder, order_id)
            return TaskingRecord.of(row) if row and row.tenant_id == tenant_id else None

    async def page(
        self, tenant_id: int, limit: int, offset: int, product_id: str | None = None
    ) -> list[TaskingRecord]:
        """The tenant's tasking orders (of one product if given), newest first."""
        query = select(TaskingOrder).where(TaskingOrder.tenant_id == tenant_id)
        if product_id is not None:
            query = query.where(TaskingOrder.product_id == product_id)
        async with self.db.session() as session:
            rows = await session.scalars(
                query.order_by(TaskingOrder.created_at.desc(), TaskingOrder.id)
                .limit(limit)
                .offset(offset)
            )
            return [TaskingRecord.of(r) for r in rows]

    async def events(self, order_id: str) -> list[EventRecord]:
        """An order's status history, oldest first."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(TaskingEvent)
                .where(TaskingEvent.order_id == order_id)
                .order_by(TaskingEvent.time, TaskingEvent.id)
            )
            return [EventRecord.of(r) for r in rows]

    async def by_native(self, provider: str, native_id: str) -> list[TaskingRecord]:
        """Ledger orders carrying a provider's task id."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(TaskingOrder).where(
                    TaskingOrder.provider == provider, TaskingOrder.native_id == native_id
                )
            )
            return [TaskingRecord.of(r) for r in rows]

    async def claimed_native_ids(self, provider: str, product_id: str) -> set[str]:
        """Task ids some ledger order of the product already owns (never adopted twice)."""
        async with self.db.session() as session:
            ids = await session.scalars(
                select(TaskingOrder.native_id).where(
                    TaskingOrder.provider == provider,
                    TaskingOrder.product_id == product_id,
                    TaskingOrder.native_id.is_not(None),
                )
            )
            return {i for i in ids if i}

    async def due(self, limit: int = 50) -> list[TaskingRecord]:
        """Orders to check with the provider now: not terminal, or completed and not yet
        delivered."""
        now = self.clock()
        async with self.db.session() as session:
            rows = await session.scalars(
                select(TaskingOrder)
                .where(
                    or_(
                        TaskingOrder.state.not_in(TERMINAL_STATUSES),
                        and_(TaskingOrder.state == "completed", TaskingOrder.delivered.is_(None)),
                    ),
                    or_(TaskingOrder.next_check_at.is_(None), TaskingOrder.next_check_at <= now),
                )
                .order_by(TaskingOrder.next_check_at)
                .limit(limit)
            )
            return [TaskingRecord.of(r) for r in rows]

    async def spent(self, tenant_id: int, currency: str) -> int:
        """What the tenant's live tasking orders cost in ``currency`` (for spending caps)."""
        async with self.db.session() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(TaskingOrder.amount), 0)).where(
                    TaskingOrder.tenant_id == tenant_id,
                    TaskingOrder.currency == currency,
                    TaskingOrder.state.not_in(UNSPENT),
                )
            )
            return int(total or 0)

    async def forget_all(self) -> int:
        """Delete every tasking order (sandbox start, like the archive ledger's)."""
        async with self.db.session() as session:
            await session.execute(delete(TaskingEvent))
            result = await session.execute(delete(TaskingOrder))
            return int(result.rowcount)  # type: ignore[attr-defined]
