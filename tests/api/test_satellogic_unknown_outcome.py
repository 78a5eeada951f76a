"""An order whose outcome the bridge never saw (Satellogic answered after the deadline, or
the connection dropped after the order was placed) is reconciled against Satellogic's own
order list before anything is placed again: one native order, and the bridge's order ends
``succeeded``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bridge.auth.keys import KeyStore
from bridge.sandbox import in_process_sandbox
from bridge.settings import ProviderSettings, Settings, TenantSettings
from bridge.simulators.common.faults import FaultSettings
from bridge.simulators.satellogic.archive import QUICKVIEW, build_archive
from tests.support.wiring import (
    TEST_SCENES,
    TEST_SEED,
    app_over,
    sandbox_app,
    simulator_config,
)

TILE = next(t for t in build_archive(TEST_SEED, TEST_SCENES).tiles if t.collection == QUICKVIEW)
ITEM = f"/collections/satellogic-quickview/items/{TILE.id}"
DEADLINE_S = 0.5


async def test_a_late_order_is_adopted_not_placed_twice(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        order_check_min_s=0.05,
        order_reconcile_after_s=0.05,
        tenants={
            "acme": TenantSettings(providers={"satellogic": ProviderSettings(timeout_s=DEADLINE_S)})
        },
    )
    config = simulator_config(extra={"satellogic_order_step_s": 0.05})
    app, sims = sandbox_app(config=config, settings=settings)
    sim = sims["satellogic"]
    key = await KeyStore(app.state.db).add_key("acme")
    headers = {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
        # The order is placed in full, its answer held back past the adapter's deadline.
        sim.state.faults.set(FaultSettings(late_rate=1.0, late_s=5.0, paths=["/v2/orders"]))
        placed = await client.post(
            f"{ITEM}/order", headers={**headers, "Idempotency-Key": "late-1"}
        )
        assert placed.status_code in (201, 202), placed.text
        order = placed.json()
        assert order["status"] == "pending", order
        assert sim.state.stats.snapshot()["orders"] == {TILE.id: 1}
        sim.state.faults.clear()  # the network is back: reconciliation can ask

        for _ in range(100):
            await asyncio.sleep(0.05)
            order = (await client.get(f"/orders/{order['id']}", headers=headers)).json()
            if order["status"] == "succeeded":
                break
        assert order["status"] == "succeeded", order
        # the same request again (a client retry) changes nothing either
        again = await client.post(f"{ITEM}/order", headers={**headers, "Idempotency-Key": "late-1"})
        assert again.json()["id"] == order["id"]
    stats = sim.state.stats.snapshot()
    assert stats["orders"] == {TILE.id: 1}, "one native order, never a second"
    assert stats["requests"].get("POST /v2/orders/") == 1, stats["requests"]
    await app.state.db.close()


class DroppedAfterOrder(httpx.AsyncBaseTransport):
    """The simulator's transport, but the first order POST's answer is lost on the way
    back (the order was placed): the connection drops."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.dropped = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/v2/orders/" and not self.dropped:
            self.dropped += 1
            await response.aclose()
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return response


async def test_a_dropped_order_answer_is_adopted_not_placed_twice(tmp_path: Path) -> None:
    sandbox = in_process_sandbox(
        simulator_config(extra={"satellogic_order_step_s": 0.05}), names=["satellogic"]
    )
    dropping = DroppedAfterOrder(sandbox.transports["satellogic"])
    settings = Settings(data_dir=tmp_path, order_check_min_s=0.05, order_reconcile_after_s=0.05)
    app = app_over(sandbox, settings, {"satellogic": dropping})
    sim = sandbox.simulators["satellogic"]
    key = await KeyStore(app.state.db).add_key("acme")
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b.test"
    ) as client:
        placed = await client.post(f"{ITEM}/order", headers={**headers, "Idempotency-Key": "d"})
        order = placed.json()
        assert dropping.dropped == 1 and order["status"] == "pending", order
        for _ in range(100):
            await asyncio.sleep(0.05)
            order = (await client.get(f"/orders/{order['id']}", headers=headers)).json()
            if order["status"] == "succeeded":
                break
        assert order["status"] == "succeeded", order
    assert sim.state.stats.snapshot()["orders"] == {TILE.id: 1}
    await app.state.db.close()
