"""Capella orders through the bridge's API (production factory, in-process simulators)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bridge.auth.keys import KeyStore
from bridge.settings import Settings
from bridge.simulators.capella.archive import build_archive
from tests.support.clock import ManualClock
from tests.support.wiring import TEST_SCENES, TEST_SEED, sandbox_app


async def test_an_expired_capella_delivery_is_renewed_never_410(tmp_path: Path) -> None:
    app, sims = sandbox_app(settings=Settings(data_dir=tmp_path, order_check_min_s=0.001))
    sim = sims["capella"]
    clock = ManualClock(time.time())
    sim.state.orders.clock = clock
    geo = next(
        i for i in build_archive(TEST_SEED, TEST_SCENES).items if i["collection"] == "capella-geo"
    )
    item = f"/collections/capella-geo/items/{geo['id']}"
    data_key = geo["properties"]["sar:polarizations"][0]
    key = await KeyStore(app.state.db).add_key("acme")
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://b.test", headers=headers
        ) as c:
            ordered = await c.post(f"{item}/order", headers={"Idempotency-Key": "k"})
            assert ordered.status_code == 201, ordered.text
            clock.now += 10  # submitted -> pending -> completed
            first = await c.get(f"{item}/assets/{data_key}")
            assert first.status_code == 307, first.text
            clock.now += 3601  # the delivery's hour is over
            # Another asset of the order: not in the bridge's URL cache, so Capella is asked.
            later = await c.get(f"{item}/assets/metadata")
            assert later.status_code == 307, later.text
            assert (await c.get(f"{item}/assets/{data_key}")).status_code == 307
        assert sum(sim.state.stats.orders.values()) == 2, "one free resubmission"
    finally:
        await app.state.db.close()
