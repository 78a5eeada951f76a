"""An Arlula order whose answer never comes in time is not placed twice.

Arlula's node SDK gives an order 120 s (suppliers with immediate fulfilment deliver before
answering), so the adapter's order deadline is its own setting, not the search deadline.
When even that passes, the order may have been placed, and Arlula keeps no client
reference: the bridge reconciles by listing the account's recent orders of the scene. The
simulator's ``late`` fault places the order in full, then holds the answer back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bridge.auth.keys import KeyStore
from bridge.catalog import load_catalog
from bridge.core.contract import Item, OrderOptions
from bridge.core.query import build_query
from bridge.db.engine import Database
from bridge.orders.ledger import OrderLedger
from bridge.orders.service import OrderService
from bridge.orders.tenants import TenantProviders
from bridge.orders.timing import CheckTiming
from bridge.providers.arlula import ArlulaProvider
from bridge.providers.base import ProviderContext
from bridge.settings import ProviderSettings, Settings, TenantSettings
from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app
from bridge.simulators.common.faults import FaultSettings
from tests.support.wiring import COLLECTIONS, sandbox_app, simulator_config

HELSINKI = [24.5, 60.0, 25.5, 60.4]
TWO_YEARS = "2022-01-01T00:00:00Z/2023-12-31T23:59:59Z"
ORDER_PATHS = {"2023-01": "/api/archive/order", "2020-12": "/api/order/new"}


def arlula(app: Starlette, version: str, **settings: float) -> ArlulaProvider:
    """The adapter on ``app`` with the given deadlines (production defaults otherwise)."""
    collections = load_catalog(COLLECTIONS, providers=["arlula"]).by_provider["arlula"]
    ps = ProviderSettings(
        base_url="http://arlula.test",
        api_version=version,
        api_key=SecretStr(DEMO_KEY),
        api_secret=SecretStr(DEMO_SECRET),
        **settings,
    )
    context = ProviderContext("arlula", ps, collections, httpx.ASGITransport(app=app))
    return ArlulaProvider(context)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    await database.ready()
    yield database
    await database.close()


async def paid_item(provider: ArlulaProvider) -> Item:
    page = await provider.search(build_query(bbox=HELSINKI, datetime=TWO_YEARS), None, 200)
    return next(i for i in page.items if i["properties"]["arlula:supplier"] == "maxar")


def test_the_order_deadline_is_its_own_setting_of_120_s() -> None:
    provider = arlula(create_app(simulator_config()), "2023-01")
    assert (provider.timeout_s, provider.order_timeout_s) == (10.0, 120.0)
    assert ProviderSettings(order_timeout_s=30).order_timeout_s == 30


async def test_an_order_slower_than_the_search_deadline_still_succeeds() -> None:
    app = create_app(simulator_config(extra={"arlula_order_step_s": 0.05}))
    provider = arlula(app, "2023-01", timeout_s=0.3, order_timeout_s=5.0)
    item = await paid_item(provider)
    app.state.faults.set(FaultSettings(delay_ms=600, paths=["/api/archive/order"]))
    order = await provider.place_order(item["collection"], item["id"], OrderOptions(), "r-1")
    assert order.state == "ordered"
    await provider.aclose()


@pytest.mark.parametrize("version", ["2023-01", "2020-12"])
async def test_a_timed_out_order_is_reconciled_not_placed_again(
    sqlite: Database, version: str
) -> None:
    app = create_app(simulator_config(extra={"arlula_order_step_s": 0.05}))
    provider = arlula(app, version, order_timeout_s=0.3)
    item = await paid_item(provider)
    catalog = load_catalog(COLLECTIONS, providers=["arlula"])
    tenants = TenantProviders(
        Settings(), catalog, {"arlula": lambda ctx: provider}, {"arlula": ProviderSettings()}
    )
    provider_of = dict.fromkeys(provider.collection_ids, "arlula")
    timing = CheckTiming(min_check_s=0.01, reconcile_after_s=0.0)
    service = OrderService(OrderLedger(sqlite), tenants, provider_of, timing)
    who = await KeyStore(sqlite).ensure_tenant("acme")
    app.state.faults.set(FaultSettings(late_rate=1.0, late_s=5.0, paths=[ORDER_PATHS[version]]))

    record = await service.order(who, item["collection"], item["id"], OrderOptions(), "k-1")
    assert record.state == "placing" and record.native_id is None  # outcome unknown
    app.state.faults.clear()  # later calls would be answered in time (not needed: reads)
    for _ in range(200):
        record = await service.refresh(who, record)
        if record.state == "succeeded":
            break
        await asyncio.sleep(0.02)
    assert record.state == "succeeded" and record.native_id is not None
    scene = f"maxar/{item['properties']['arlula:scene_id']}"
    assert app.state.stats.orders == {scene: 1}  # one native order: adopted, not re-placed
    await provider.aclose()


async def test_reconciling_waits_for_a_placement_still_under_way() -> None:
    # The order deadline (120 s) can outlast the bridge's reconcile delay: a check of the
    # same scene meanwhile must see the order being placed, not an empty list.
    app = create_app(simulator_config(extra={"arlula_order_step_s": 0.05}))
    provider = arlula(app, "2023-01", order_timeout_s=5.0)
    item = await paid_item(provider)
    app.state.faults.set(FaultSettings(delay_ms=400, paths=["/api/archive/order"]))
    placing = asyncio.create_task(
        provider.place_order(item["collection"], item["id"], OrderOptions(), "r-1")
    )
    await asyncio.sleep(0.1)  # the order request is under way
    found = await provider.find_orders(item["collection"], item["id"], "r-1")
    placed = await placing
    assert [o.native_id for o in found] == [placed.native_id]
    await provider.aclose()


async def test_through_the_api_a_late_order_ends_succeeded_with_one_native_order(
    tmp_path: Path,
) -> None:
    # The production app over the simulators; the tenant's contract sets a short order
    # deadline, the simulator places the order and answers too late.
    tenant = TenantSettings(providers={"arlula": ProviderSettings(order_timeout_s=0.3)})
    settings = Settings(
        data_dir=tmp_path,
        tenants={"acme": tenant},
        order_check_min_s=0.001,
        order_reconcile_after_s=0.05,
    )
    app, sims = sandbox_app(simulator_config(extra={"arlula_order_step_s": 0.05}), settings)
    key = await KeyStore(app.state.db).add_key("acme")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://b.test", headers={"Authorization": f"Bearer {key}"}
    ) as bridge:
        query = {"collections": ["arlula-vhr"], "bbox": HELSINKI, "datetime": TWO_YEARS,
                 "filter": "\"arlula:supplier\" = 'maxar'", "limit": 1}  # fmt: skip
        found = await bridge.post("/search", json=query)
        assert found.status_code == 200, found.text
        item = found.json()["features"][0]
        late = FaultSettings(late_rate=1.0, late_s=5.0, paths=["/api/archive/order"])
        sims["arlula"].state.faults.set(late)
        href = f"/collections/{item['collection']}/items/{item['id']}/order"
        placed = await bridge.post(href, headers={"Idempotency-Key": "k-1"})
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == "pending"  # placing: the outcome is unknown
        for _ in range(200):
            order = (await bridge.get(f"/orders/{order['id']}")).json()
            if order["status"] == "succeeded":
                break
            await asyncio.sleep(0.02)
    assert order["status"] == "succeeded", order
    scene = f"maxar/{item['properties']['arlula:scene_id']}"
    assert sims["arlula"].state.stats.orders == {scene: 1}
    await app.state.db.close()
