"""One native task per (tenant, product, request): under concurrency, on retries with the
same key, and across an outcome lost in a crash (reconciled with ``find_tasks``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from bridge.core.tasking_contract import TaskingRequest
from bridge.errors import BadRequest
from bridge.settings import TenantSettings
from bridge.tasking.service import TaskingService
from tests.support.fake_provider import OrderingFakeProvider
from tests.support.fake_tasking import FakeTasking
from tests.tasking.conftest import SPOT, build, client_for, order_body


async def test_fifty_concurrent_identical_orders_make_one_task(
    app: FastAPI, tasking: FakeTasking
) -> None:
    tasking.delay_s = 0.05  # the native call is slow: the other 49 arrive meanwhile
    async with await client_for(app, "acme") as c:
        answers = await asyncio.gather(
            *(c.post(f"{SPOT}/orders", json=order_body()) for _ in range(50))
        )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert tasking.calls["create_task"] == 1
    assert tasking.calls["quote"] == 1


async def test_idempotency_key_names_one_order(app: FastAPI, tasking: FakeTasking) -> None:
    async with await client_for(app, "acme") as c:
        headers = {"Idempotency-Key": "k-1"}
        first = await c.post(f"{SPOT}/orders", json=order_body(), headers=headers)
        again = await c.post(f"{SPOT}/orders", json=order_body(), headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert first.headers["location"] == again.headers["location"]
        other = order_body(order_parameters={"priority": "priority"})
        clash = await c.post(f"{SPOT}/orders", json=other, headers=headers)
        assert clash.status_code == 409
        assert "Idempotency-Key" in clash.json()["description"]
        # A new key is a new order, even for the same request.
        fresh = await c.post(
            f"{SPOT}/orders", json=order_body(), headers={"Idempotency-Key": "k-2"}
        )
        assert fresh.json()["id"] != first.json()["id"]
    async with await client_for(app, "other") as c:
        theirs = await c.post(f"{SPOT}/orders", json=order_body(), headers=headers)
        assert theirs.json()["id"] != first.json()["id"]
    assert tasking.calls["create_task"] == 3


async def test_a_refused_request_may_be_sent_again(app: FastAPI, tasking: FakeTasking) -> None:
    tasking.refuse_with = BadRequest("geometry: outside the coverage")
    async with await client_for(app, "acme") as c:
        refused = await c.post(f"{SPOT}/orders", json=order_body())
        assert refused.status_code == 400 and "geometry" in refused.json()["description"]
        tasking.refuse_with = None
        ok = await c.post(f"{SPOT}/orders", json=order_body())
        assert ok.status_code == 201
        states = [
            f["properties"]["status"]["status_code"]
            for f in (await c.get("/tasking/orders")).json()["features"]
        ]
        assert sorted(states) == ["received", "rejected"]
    assert tasking.calls["create_task"] == 2


async def test_lost_answer_is_reconciled_never_a_second_task(
    tmp_path: Path, archive: OrderingFakeProvider, tasking: FakeTasking
) -> None:
    app = build(tmp_path, archive, tasking, reconcile_after_s=0.05)
    tasking.lose_answer = True  # the task is made, the answer never arrives
    async with await client_for(app, "acme") as c:
        first = await c.post(f"{SPOT}/orders", json=order_body())
        assert first.status_code == 201
        order = first.json()
        assert order["properties"]["bridge:native_id"] is None
        tasking.lose_answer = False
        # A retry before reconciliation returns the same order, creates nothing.
        retry = await c.post(f"{SPOT}/orders", json=order_body())
        assert retry.json()["id"] == order["id"]
        await asyncio.sleep(0.06)
        service: TaskingService = app.state.tasking
        assert await service.poll_due() == 1
        adopted = (await c.get(f"/tasking/orders/{order['id']}")).json()
    assert adopted["properties"]["bridge:native_id"] == "task-1"
    assert tasking.calls["create_task"] == 1
    assert tasking.calls["find_tasks"] == 1
    await app.state.db.close()


async def test_crash_after_claim_creates_exactly_one_task(
    tmp_path: Path, archive: OrderingFakeProvider, tasking: FakeTasking
) -> None:
    """The process "died" after claiming, before (or during) the native call."""
    app = build(tmp_path, archive, tasking, reconcile_after_s=0.05)
    service: TaskingService = app.state.tasking
    async with await client_for(app, "acme") as c:
        await c.get("/tasking/orders")  # the tenant exists
    tenant_id = 1
    request = TaskingRequest(
        product_id="alpha-spot",
        start=datetime(2030, 1, 1, tzinfo=UTC),
        end=datetime(2030, 1, 8, tzinfo=UTC),
        geometry={"type": "Point", "coordinates": [24.94, 60.17]},
        order_parameters={"priority": "standard", "sla": "standard"},
    )
    died_before, _ = await service.ledger.claim(tenant_id, "alpha", request, "before")
    died_after, _ = await service.ledger.claim(tenant_id, "alpha", request, "after")
    # The second process reached the provider before dying: its task exists natively.
    await tasking.create_task(request, died_after.id)
    assert tasking.calls["create_task"] == 1
    await asyncio.sleep(0.06)
    assert await service.poll_due() == 2
    await asyncio.sleep(0.01)
    await service.poll_due()  # both now tracked: read, never re-created
    before = await service.ledger.get(tenant_id, died_before.id)
    after = await service.ledger.get(tenant_id, died_after.id)
    assert before is not None and after is not None
    assert after.native_id == "task-1"  # adopted by reference
    assert before.native_id == "task-2"  # nothing found: created once
    assert tasking.calls["create_task"] == 2
    await app.state.db.close()


async def test_spending_cap_counts_tasking(
    tmp_path: Path, archive: OrderingFakeProvider, tasking: FakeTasking
) -> None:
    app = build(
        tmp_path, archive, tasking, capped=TenantSettings(spending_cap=120_000, cap_currency="USD")
    )
    async with await client_for(app, "capped") as c:
        for k in range(2):
            ok = await c.post(
                f"{SPOT}/orders", json=order_body(), headers={"Idempotency-Key": f"{k}"}
            )
            assert ok.status_code == 201
        over = await c.post(f"{SPOT}/orders", json=order_body(), headers={"Idempotency-Key": "3"})
        assert over.status_code == 403 and "cap" in over.json()["description"]
    assert tasking.calls["create_task"] == 2
    await app.state.db.close()
