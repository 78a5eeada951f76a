"""The tasking ledger on SQLite and on a real PostgreSQL: one claim wins across
"processes" (ledgers) sharing the database; history steps are kept once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bridge.auth.keys import KeyStore
from bridge.core.tasking_contract import NativeTask, StatusEvent, TaskingRequest
from bridge.db.engine import Database
from bridge.errors import Conflict
from bridge.tasking.ledger import TaskingLedger

REQUEST = TaskingRequest(
    product_id="alpha-spot",
    start=datetime(2030, 1, 1, tzinfo=UTC),
    end=datetime(2030, 1, 8, tzinfo=UTC),
    geometry={"type": "Point", "coordinates": [24.94, 60.17]},
    order_parameters={"priority": "standard"},
)


async def _tenant(db: Database) -> int:
    return (await KeyStore(db).ensure_tenant("acme")).id


async def test_one_claim_wins_across_processes(db: Database) -> None:
    tenant = await _tenant(db)
    ledgers = [TaskingLedger(db), TaskingLedger(db)]  # two processes on one database
    claims = await asyncio.gather(
        *(ledgers[k % 2].claim(tenant, "alpha", REQUEST) for k in range(50))
    )
    assert sum(1 for _, mine in claims if mine) == 1
    assert len({r.id for r, _ in claims}) == 1
    keyed = await asyncio.gather(
        *(ledgers[k % 2].claim(tenant, "alpha", REQUEST, "key-1") for k in range(20))
    )
    assert sum(1 for _, mine in keyed if mine) == 1
    other = TaskingRequest(**{**REQUEST.__dict__, "order_parameters": {"priority": "high"}})
    with pytest.raises(Conflict, match="Idempotency-Key"):
        await ledgers[0].claim(tenant, "alpha", other, "key-1")


async def test_history_is_kept_once_and_refusal_frees_the_digest(db: Database) -> None:
    tenant = await _tenant(db)
    ledger = TaskingLedger(db)
    record, _ = await ledger.claim(tenant, "alpha", REQUEST)
    t0 = datetime(2029, 12, 1, tzinfo=UTC)
    history = (
        StatusEvent(t0, "received", "NEW"),
        StatusEvent(t0 + timedelta(minutes=1), "accepted", "ACCEPTED", "feasible"),
    )
    task = NativeTask("task-1", "accepted", "ACCEPTED", history, record.id, 100, "USD")
    for _ in range(3):
        await ledger.record_task(record.id, task, timedelta(seconds=5))
    events = await ledger.events(record.id)
    assert [(e.status, e.native_status) for e in events] == [
        ("received", "placing"),
        ("received", "NEW"),
        ("accepted", "ACCEPTED"),
    ]
    assert events[-1].reason == "feasible"
    assert await ledger.spent(tenant, "USD") == 100
    second, mine = await ledger.claim(tenant, "alpha", REQUEST)
    assert second.id == record.id and not mine
    other = TaskingRequest(**{**REQUEST.__dict__, "product_id": "alpha-strip"})
    refused, _ = await ledger.claim(tenant, "alpha", other)
    await ledger.record_refusal(refused.id, "outside coverage")
    again, mine = await ledger.claim(tenant, "alpha", other)
    assert mine and again.id != refused.id
    assert await ledger.forget_all() == 3


async def test_a_status_beyond_the_providers_history_is_recorded_once(db: Database) -> None:
    """ICEYE's task history stops at creation: later statuses are the ones observed."""
    tenant = await _tenant(db)
    ledger = TaskingLedger(db)
    record, _ = await ledger.claim(tenant, "alpha", REQUEST)
    created = (StatusEvent(datetime.now(UTC), "received", "RECEIVED"),)
    for status, native in (("received", "RECEIVED"), ("tasked", "ACTIVE"), ("completed", "DONE")):
        task = NativeTask("task-1", status, native, created)  # type: ignore[arg-type]
        for _ in range(2):  # polled twice in each status
            await ledger.record_task(record.id, task, timedelta(seconds=5))
    events = await ledger.events(record.id)
    assert [(e.status, e.native_status) for e in events] == [
        ("received", "placing"),
        ("received", "RECEIVED"),
        ("tasked", "ACTIVE"),
        ("completed", "DONE"),
    ]
