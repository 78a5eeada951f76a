"""Capella orders through the bridge's API (production factory, in-process simulators)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bridge.app import create_app
from bridge.auth.keys import KeyStore
from bridge.catalog import load_catalog
from bridge.provider_pool import ProviderWiring
from bridge.settings import ProviderSettings, Settings, TenantSettings
from bridge.simulators.capella.archive import build_archive
from bridge.simulators.capella.downloads import native_feature
from tests.support.clock import ManualClock
from tests.support.wiring import (
    COLLECTIONS,
    TEST_SCENES,
    TEST_SEED,
    sandbox_app,
    simulator_config,
)


async def test_an_expired_capella_delivery_is_renewed_never_410(tmp_path: Path) -> None:
    clock = ManualClock(time.time())
    app, sims = sandbox_app(
        simulator_config(clock=clock),
        settings=Settings(data_dir=tmp_path, order_check_min_s=0.001),
    )
    sim = sims["capella"]
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


async def test_price_unavailable_is_quoted_and_never_auto_ordered(tmp_path: Path) -> None:
    native = build_archive(TEST_SEED, TEST_SCENES).items[1]
    record = native_feature(native, "http://capella.mock", lambda key: f"http://s.test/{key}")
    posted: list[str] = []

    def capella(request: httpx.Request) -> httpx.Response:
        # The review answer of the SDK's own mocks: authorized, no cost stated.
        bodies: dict[str, Any] = {
            "/catalog/search": {"type": "FeatureCollection", "numberMatched": 1,
                                "features": [record], "links": []},
            "/orders/review": {"authorized": True},
        }  # fmt: skip
        if request.url.path == "/orders":
            posted.append(request.url.path)
        return httpx.Response(200, content=orjson.dumps(bodies.get(request.url.path, {})))

    transport = httpx.MockTransport(capella)
    catalog = load_catalog(COLLECTIONS, providers=["capella"])
    contract = ProviderSettings(base_url="http://capella.mock", api_key="k")
    settings = Settings(
        data_dir=tmp_path, tenants={"gdal": TenantSettings(auto_order=True, spending_cap=10**6)}
    )
    wiring = ProviderWiring(
        catalog=catalog,
        operator_settings={"capella": contract},
        tenant_defaults={"capella": contract},
        transports={"capella": transport},
    )
    app = create_app(settings, wiring=wiring)
    item = f"/collections/{record['collection']}/items/{record['id']}"
    key = await KeyStore(app.state.db).add_key("gdal")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://b.test",
            headers={"Authorization": f"Bearer {key}"},
        ) as c:
            quote = await c.get(f"{item}/quote")
            assert quote.status_code == 200, quote.text
            assert quote.json()["price"] is None
            assert quote.json()["details"]["price"] == "unavailable"
            data = record["properties"]["sar:polarizations"][0]
            refused = await c.get(f"{item}/assets/{data}")
            assert refused.status_code == 403 and "price unavailable" in refused.text
        assert posted == [], "nothing ordered at an unknown price"
    finally:
        await app.state.db.close()
