"""The order ledger: every order the bridge places, recorded before the native call.

Exactly once: a new order is first *claimed* — inserted in state ``placing`` under a
unique index on (tenant, collection, item, live options digest). Of any number of
concurrent requests, in any number of processes sharing the database, one insert wins
and only that caller places the native order; the others get the same order. A crash
between the native call and the ledger write leaves the row in ``placing``, and
reconciliation asks the provider before ever placing again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from bridge.core.contract import NativeOrder, OrderOptions
from bridge.db.engine import Database
from bridge.db.schema import IdempotencyKey, Order, Tenant
from bridge.errors import Conflict, NotFound

PLACING = "placing"
TERMINAL = frozenset({"succeeded", "failed", "canceled"})


def utcnow() -> datetime:
    """Now, timezone-aware."""
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes even for timezone=True columns.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class OrderRecord:
    """One ledger row, read-only."""

    id: str
    tenant_id: int
    provider: str
    collection_id: str
    item_id: str
    options: OrderOptions
    state: str
    native_id: str | None
    native_status: str | None
    amount: int | None
    currency: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None

    @property
    def status(self) -> str:
        """The state in the STAC Order extension's vocabulary."""
        return "pending" if self.state == PLACING else self.state

    @property
    def live(self) -> bool:
        """Not failed or canceled (succeeded orders stay live: they are owned)."""
        return self.state not in ("failed", "canceled")

    @classmethod
    def of(cls, row: Order) -> OrderRecord:
        """From an ORM row."""
        options: dict[str, Any] = orjson.loads(row.options)
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            provider=row.provider,
            collection_id=row.collection_id,
            item_id=row.item_id,
            options=OrderOptions(**options),
            state=row.state,
            native_id=row.native_id,
            native_status=row.native_status,
            amount=row.amount,
            currency=row.currency,
            error=row.error,
            created_at=_aware(row.created_at) or utcnow(),
            updated_at=_aware(row.updated_at) or utcnow(),
            expires_at=_aware(row.expires_at),
        )


class OrderLedger:
    """Reads and writes the ``orders`` table."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def claim(
        self,
        tenant_id: int,
        provider: str,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        idempotency_key: str | None = None,
    ) -> tuple[OrderRecord, bool]:
        """The live order for (tenant, item, options), creating it in ``placing`` if none.

        Returns the order and True when this caller created it and so must place the
        native order. An ``idempotency_key`` already used for another item or options is
        a 409.
        """
        if idempotency_key:
            earlier = await self._by_idempotency_key(tenant_id, idempotency_key)
            if earlier is not None:
                self._same_request(earlier, collection_id, item_id, options)
                return earlier, False
        now = self.clock()
        row = Order(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            provider=provider,
            collection_id=collection_id,
            item_id=item_id,
            options_key=options.key(),
            active_key=options.key(),
            options=orjson.dumps(options.__dict__).decode(),
            state=PLACING,
            created_at=now,
            updated_at=now,
            checks=0,
        )
        created = True
        try:
            async with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            created = False
        record = await self._live(tenant_id, collection_id, item_id, options.key())
        if record is None:  # the live order ended between our insert and read: try again
            return await self.claim(
                tenant_id, provider, collection_id, item_id, options, idempotency_key
            )
        if idempotency_key:
            record = await self._remember_key(tenant_id, idempotency_key, record)
            self._same_request(record, collection_id, item_id, options)
        return record, created and record.id == row.id

    @staticmethod
    def _same_request(
        record: OrderRecord, collection_id: str, item_id: str, options: OrderOptions
    ) -> None:
        if (record.collection_id, record.item_id, record.options) != (
            collection_id,
            item_id,
            options,
        ):
            raise Conflict(
                "this Idempotency-Key was already used for another item or other options"
            )

    async def _remember_key(self, tenant_id: int, key: str, record: OrderRecord) -> OrderRecord:
        try:
            async with self.db.session() as session:
                session.add(IdempotencyKey(tenant_id=tenant_id, key=key, order_id=record.id))
        except IntegrityError:
            earlier = await self._by_idempotency_key(tenant_id, key)
            if earlier is not None:
                return earlier
        return record

    async def _by_idempotency_key(self, tenant_id: int, key: str) -> OrderRecord | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(Order)
                .join(IdempotencyKey, IdempotencyKey.order_id == Order.id)
                .where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
            )
            return OrderRecord.of(row) if row else None

    async def _live(
        self, tenant_id: int, collection_id: str, item_id: str, options_key: str
    ) -> OrderRecord | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(Order).where(
                    Order.tenant_id == tenant_id,
                    Order.collection_id == collection_id,
                    Order.item_id == item_id,
                    Order.active_key == options_key,
                )
            )
            return OrderRecord.of(row) if row else None

    async def record_native(
        self, order_id: str, native: NativeOrder, next_check_in: timedelta | None
    ) -> OrderRecord:
        """Store what the provider says of the order."""
        values: dict[str, Any] = {
            "native_id": native.native_id,
            "native_status": native.native_status,
            "state": native.state,
            "updated_at": self.clock(),
            "expires_at": native.expires_at,
            "next_check_at": None if next_check_in is None else self.clock() + next_check_in,
            "error": None,
        }
        if native.amount is not None:
            values["amount"] = native.amount
            values["currency"] = native.currency
        if native.state in ("failed", "canceled"):
            values["active_key"] = None
        return await self._update(order_id, values)

    async def record_price(self, order_id: str, amount: int, currency: str) -> None:
        """Remember the quoted price of an order being placed."""
        await self._update(order_id, {"amount": amount, "currency": currency})

    async def record_failure(self, order_id: str, error: str) -> OrderRecord:
        """The provider refused the order: it failed, and the item can be ordered again."""
        values = {"state": "failed", "error": error, "active_key": None, "updated_at": self.clock()}
        return await self._update(order_id, values)

    async def record_uncertain(self, order_id: str, error: str, retry_in: timedelta) -> OrderRecord:
        """The native call's outcome is unknown: stay ``placing``, reconcile later."""
        values = {"error": error, "next_check_at": self.clock() + retry_in}
        return await self._update(order_id, values)

    async def _update(self, order_id: str, values: dict[str, Any]) -> OrderRecord:
        async with self.db.session() as session:
            await session.execute(update(Order).where(Order.id == order_id).values(**values))
            row = await session.get(Order, order_id)
            assert row is not None
            return OrderRecord.of(row)

    async def lease(self, record: OrderRecord, hold: timedelta) -> bool:
        """Take the right to work on an order for ``hold`` (optimistic: one process wins)."""
        async with self.db.session() as session:
            result = await session.execute(
                update(Order)
                .where(Order.id == record.id, Order.updated_at == record.updated_at)
                .values(updated_at=self.clock(), next_check_at=self.clock() + hold)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, tenant_id: int, order_id: str) -> OrderRecord | None:
        """One of the tenant's orders."""
        async with self.db.session() as session:
            row = await session.get(Order, order_id)
            return OrderRecord.of(row) if row and row.tenant_id == tenant_id else None

    async def page(self, tenant_id: int, limit: int, offset: int) -> list[OrderRecord]:
        """The tenant's orders, newest first."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Order)
                .where(Order.tenant_id == tenant_id)
                .order_by(Order.created_at.desc(), Order.id)
                .limit(limit)
                .offset(offset)
            )
            return [OrderRecord.of(r) for r in rows]

    async def for_items(
        self, tenant_id: int, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], OrderRecord]:
        """The tenant's most relevant order per (collection, item): live before ended,
        then newest."""
        if not keys:
            return {}
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Order).where(
                    Order.tenant_id == tenant_id,
                    tuple_(Order.collection_id, Order.item_id).in_(list(keys)),
                )
            )
            records = [OrderRecord.of(r) for r in rows]
        best: dict[tuple[str, str], OrderRecord] = {}
        for rec in sorted(records, key=lambda r: (r.live, r.created_at)):
            best[(rec.collection_id, rec.item_id)] = rec
        return best

    async def by_native(self, provider: str, native_id: str) -> list[OrderRecord]:
        """Ledger orders carrying a provider's order id (a native order may cover several)."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Order).where(Order.provider == provider, Order.native_id == native_id)
            )
            return [OrderRecord.of(r) for r in rows]

    async def due(self, limit: int = 50) -> list[OrderRecord]:
        """Orders whose state must be checked with the provider now."""
        now = self.clock()
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Order)
                .where(
                    Order.state.not_in(TERMINAL),
                    or_(Order.next_check_at.is_(None), Order.next_check_at <= now),
                )
                .order_by(Order.next_check_at)
                .limit(limit)
            )
            return [OrderRecord.of(r) for r in rows]

    async def record_delivered(
        self, tenant_id: int, provider: str, collection_id: str, item_id: str, native_order_id: str
    ) -> OrderRecord:
        """A succeeded order of an item a tenant's *task* delivered (STAPI tasking).

        ``/search`` then shows the item as ordered by the tenant and ``/assets/{key}``
        resolves it with ``native_order_id`` like any archive order. Recording the same
        delivery again returns the order already recorded.
        """
        # One row per delivery: its own live key, apart from the tenant's archive orders.
        active = f"task:{native_order_id}"[:64]
        now = self.clock()
        row = Order(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            provider=provider,
            collection_id=collection_id,
            item_id=item_id,
            options_key=OrderOptions().key(),
            active_key=active,
            options=orjson.dumps(OrderOptions().__dict__).decode(),
            state="succeeded",
            native_id=native_order_id,
            native_status="delivered",
            created_at=now,
            updated_at=now,
            checks=0,
        )
        try:
            async with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            pass  # recorded before (a repeated poll, another process)
        record = await self._live(tenant_id, collection_id, item_id, active)
        assert record is not None
        return record

    async def forget_all(self) -> int:
        """Delete every order and idempotency key; return how many orders there were.

        Only for the sandbox: its simulators keep their orders in memory, so orders a
        previous sandbox run left would name native orders that no longer exist.
        """
        async with self.db.session() as session:
            await session.execute(delete(IdempotencyKey))
            result = await session.execute(delete(Order))
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def tenant_name(self, tenant_id: int) -> str:
        """The name of a tenant (for rebuilding its adapters in background work)."""
        async with self.db.session() as session:
            name = await session.scalar(select(Tenant.name).where(Tenant.id == tenant_id))
        if name is None:
            raise NotFound(f"no tenant {tenant_id}")
        return str(name)

    async def spent(self, tenant_id: int, currency: str) -> int:
        """What the tenant's live orders cost in ``currency`` (for spending caps)."""
        async with self.db.session() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(Order.amount), 0)).where(
                    and_(
                        Order.tenant_id == tenant_id,
                        Order.currency == currency,
                        Order.state.not_in(("failed", "canceled")),
                    )
                )
            )
            return int(total or 0)
