"""From a tasking order to downloadable pixels: statuses move, the poller records the
history, a completed task's items become the tenant's succeeded archive orders."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from bridge.auth.keys import KeyStore
from bridge.tasking.service import TaskingService
from tests.support.clock import ManualClock
from tests.support.fake_provider import OrderingFakeProvider
from tests.support.fake_tasking import FakeTasking
from tests.tasking.conftest import SPOT, client_for, order_body


async def test_completed_task_is_delivered_as_stac_items(
    app: FastAPI, tasking: FakeTasking, archive: OrderingFakeProvider, clock: ManualClock
) -> None:
    service: TaskingService = app.state.tasking
    async with await client_for(app, "acme") as c:
        order = (await c.post(f"{SPOT}/orders", json=order_body())).json()
        oid = order["id"]
        assert order["properties"]["status"]["status_code"] == "received"
        clock.now += 15  # accepted
        await service.poll_due()
        mid = (await c.get(f"/tasking/orders/{oid}")).json()
        assert mid["properties"]["status"]["status_code"] == "accepted"
        assert not [x for x in mid["links"] if x["rel"] == "item"]
        clock.now += 30  # tasked, then completed
        await service.poll_due()
        done = (await c.get(f"/tasking/orders/{oid}")).json()
        assert done["properties"]["status"]["status_code"] == "completed"
        items = [x["href"] for x in done["links"] if x["rel"] == "item"]
        collection, item_id = tasking.items[1]
        assert items == [f"http://b.test/collections/{collection}/items/{item_id}"]

        history = (await c.get(f"/tasking/orders/{oid}/statuses")).json()["statuses"]
        codes = [s["status_code"] for s in history]
        assert codes == ["received", "received", "accepted", "tasked", "completed"]
        assert [s["reason_code"] for s in history][1:] == ["NEW", "ACCEPTED", "ACQUIRING", "DONE"]
        assert all(s["timestamp"].endswith("Z") for s in history)
        paged = (await c.get(f"/tasking/orders/{oid}/statuses", params={"limit": 2})).json()
        assert len(paged["statuses"]) == 2
        assert [x for x in paged["links"] if x["rel"] == "next"]

        found = (
            await c.post("/search", json={"collections": [collection], "ids": [item_id]})
        ).json()["features"]
        assert found[0]["properties"]["order:status"] == "succeeded"
        asset = await c.get(f"/collections/{collection}/items/{item_id}/assets/data")
        assert asset.status_code == 307
        assert "order=delivery-task-1" in asset.headers["location"]

        # Polling again neither re-delivers nor re-reads a finished task.
        before = dict(tasking.calls)
        assert await service.poll_due() == 0
        assert tasking.calls == before
    async with await client_for(app, "other") as c:
        theirs = await c.post("/search", json={"collections": [collection], "ids": [item_id]})
        assert theirs.json()["features"][0]["properties"]["order:status"] == "orderable"
    orders = await service.archive.by_native("alpha", "delivery-task-1")
    assert len(orders) == 1 and orders[0].state == "succeeded"


async def test_the_background_poller_tracks_tasks(
    app: FastAPI, tasking: FakeTasking, clock: ManualClock
) -> None:
    """The archive orders' poller (one per database, under its lease) polls tasks too."""
    service: TaskingService = app.state.tasking
    async with app.router.lifespan_context(app), await client_for(app, "acme") as c:
        oid = (await c.post(f"{SPOT}/orders", json=order_body())).json()["id"]
        tenant = (await KeyStore(app.state.db).ensure_tenant("acme")).id
        clock.now += 100  # the fake task completes
        for _ in range(200):
            record = await service.ledger.get(tenant, oid)
            if record is not None and record.delivered:
                break
            await asyncio.sleep(0.02)
    assert record is not None and record.state == "completed" and record.delivered
    assert tasking.calls["create_task"] == 1
