"""A purchase whose outcome the bridge does not know (ICEYE answered after the adapter's
deadline) is reconciled with ICEYE's own records, by the bridge's reference, before
anything is bought again: one native purchase, and the bridge's order ends succeeded."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from bridge.auth.keys import KeyStore
from bridge.sandbox import in_process_sandbox
from bridge.settings import Settings
from bridge.simulators.common.faults import FaultSettings
from tests.providers.test_iceye_orders import GRD, STEP
from tests.support import wiring
from tests.support.clock import ManualClock

DEADLINE_S = 1.0
RECONCILE_AFTER_S = 0.05


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_a_late_purchase_is_adopted_not_bought_twice(tmp_path: Path, version: str) -> None:
    config = wiring.simulator_config(
        extra={"iceye_order_step_s": STEP}, clock=ManualClock(time.time())
    )
    sandbox = in_process_sandbox(config, api_versions={"iceye": version})
    sim = sandbox.simulators["iceye"]
    iceye = sandbox.provider_settings["iceye"]
    sandbox.provider_settings["iceye"] = iceye.model_copy(update={"timeout_s": DEADLINE_S})
    settings = Settings(data_dir=tmp_path, order_reconcile_after_s=RECONCILE_AFTER_S)
    app = wiring.app_over(sandbox, settings)
    key = await KeyStore(app.state.db).add_key("acme")
    auth = {"Authorization": f"Bearer {key}"}
    # ICEYE places the purchase, then answers only after the adapter gave up.
    late = FaultSettings(
        late_rate=1.0,
        late_s=3 * DEADLINE_S,
        paths=[f"/api/catalog/{version}/purchases"],
        methods=["POST"],
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        # Warm up (token, archive indexes) so only the purchase can miss the deadline.
        assert (await c.get(f"/collections/iceye-grd/items/{GRD}", headers=auth)).is_success
        sim.state.faults.set(late)
        placed = await c.post(f"/collections/iceye-grd/items/{GRD}/order", headers=auth)
        assert placed.status_code in (200, 201, 202), placed.text
        order = placed.json()
        assert order["status"] == "pending"  # the outcome is unknown
        book = sim.state.purchases.purchases
        assert len(book) == 1  # ... but ICEYE did buy the frame
        sim.state.faults.clear()

        await asyncio.sleep(RECONCILE_AFTER_S * 2)
        adopted = (await c.get(f"/orders/{order['id']}", headers=auth)).json()
        assert adopted["status"] in ("ordered", "shipping"), adopted
        sim.state.clock.now += 2 * STEP
        done = (await c.get(f"/orders/{order['id']}", headers=auth)).json()
        assert done["status"] == "succeeded", done
        # Ordering the same item again changes nothing either.
        again = await c.post(f"/collections/iceye-grd/items/{GRD}/order", headers=auth)
        assert again.json()["id"] == order["id"]
    assert len(book) == 1
    purchase = next(iter(book.values()))
    assert purchase.reference == order["id"]
    stats = sim.state.stats.snapshot()
    assert stats["requests"][f"POST /api/catalog/{version}/purchases"] == 1
    await app.state.db.close()
