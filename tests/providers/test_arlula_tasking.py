"""Arlula's tasking adapter against the in-process simulator: products, opportunities,
quote, create, get, cancel (only while awaiting approval), the unknown outcome reconciled
by find_tasks without a second campaign, and deliveries whose data asset is a GeoTIFF."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.tasking_contract import TaskingProvider, TaskingRequest
from bridge.errors import BadRequest, Conflict, ProviderError
from bridge.providers.arlula import ArlulaProvider, ArlulaTasking, create_tasking
from bridge.providers.arlula.tasking_mapping import product_specs
from bridge.providers.base import ProviderContext
from bridge.registry import tasking_factory
from bridge.settings import ProviderSettings
from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app
from bridge.simulators.common.faults import FaultSettings
from tests.support.clock import ManualClock
from tests.support.wiring import COLLECTIONS, simulator_config

# The archive adapter checks a delivery's expiry against the wall clock: start from now.
START = float(int(time.time()))
STEP = 10.0
HELSINKI = {
    "type": "Polygon",
    "coordinates": [
        [[24.85, 60.12], [25.05, 60.12], [25.05, 60.22], [24.85, 60.22], [24.85, 60.12]]
    ],
}


def context(app: Starlette, **settings: Any) -> ProviderContext:
    collections = load_catalog(COLLECTIONS, providers=["arlula"]).by_provider["arlula"]
    ps = ProviderSettings(
        base_url="http://arlula.test",
        api_key=SecretStr(DEMO_KEY),
        api_secret=SecretStr(DEMO_SECRET),
        **settings,
    )
    return ProviderContext("arlula", ps, collections, httpx.ASGITransport(app=app))


def request(product: str = "arlula-tasking-maxar", **extra: Any) -> TaskingRequest:
    fields: dict[str, Any] = {
        "product_id": product,
        "start": datetime.fromtimestamp(START, UTC) + timedelta(days=1),
        "end": datetime.fromtimestamp(START, UTC) + timedelta(days=8),
        "geometry": HELSINKI,
        **extra,
    }
    return TaskingRequest(**fields)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def sim(clock: ManualClock, **extra: Any) -> Starlette:
    settings = {"arlula_tasking_step_s": STEP, **extra}
    return create_app(simulator_config(extra=settings, clock=clock))


@pytest.fixture
async def pair(clock: ManualClock) -> AsyncIterator[tuple[ArlulaTasking, Starlette]]:
    app = sim(clock)
    tasking = ArlulaTasking(context(app))
    yield tasking, app
    await tasking.aclose()


def test_create_tasking_is_exported_and_registered() -> None:
    assert tasking_factory("arlula") is create_tasking
    provider: TaskingProvider = create_tasking(context(sim(ManualClock(START))))
    assert provider.name == "arlula"


def test_products_are_data_with_optional_parameters_and_defaults(
    pair: tuple[ArlulaTasking, Starlette],
) -> None:
    tasking, _ = pair
    products = tasking.products()
    assert {p.id for p in products} == set(product_specs())
    for product in products:
        assert product.id.startswith("arlula-") and product.opportunities and product.cancellable
        schema = product.order_parameters
        assert "required" not in schema
        assert all("default" in p for p in schema["properties"].values())
        assert "view:off_nadir" in product.queryables["properties"]
        assert product.collection_id in {"arlula-vhr", "arlula-hr"}


async def test_opportunities_are_the_suppliers_results_with_prices(
    pair: tuple[ArlulaTasking, Starlette],
) -> None:
    tasking, _ = pair
    found = await tasking.opportunities(request(), limit=10)
    assert found.errors == [] and len(found.opportunities) == 1
    opp = found.opportunities[0]
    assert opp.id and opp.properties["constellation"] == "maxar"
    assert opp.properties["arlula:price_cents"] % 100 == 0
    assert opp.properties["price:amount"] == opp.properties["arlula:price_cents"] / 100
    assert opp.start == request().start


async def test_failing_suppliers_are_partial_errors(clock: ManualClock) -> None:
    tasking = ArlulaTasking(context(sim(clock, arlula_failing_suppliers=["maxar"])))
    found = await tasking.opportunities(request(), limit=10)
    assert found.opportunities == []
    assert found.errors == ["arlula: maxar: supplier-error: the supplier's API is unavailable"]


async def test_bad_requests_name_the_field(pair: tuple[ArlulaTasking, Starlette]) -> None:
    tasking, _ = pair
    with pytest.raises(BadRequest, match="geometry"):
        await tasking.opportunities(request(geometry={"type": "LineString", "coordinates": []}), 5)
    past = datetime.fromtimestamp(START, UTC) - timedelta(days=1)
    with pytest.raises(BadRequest, match="Start date must be in the future"):
        await tasking.opportunities(request(start=past), 5)
    with pytest.raises(BadRequest, match=r"order_parameters\.priority"):
        await tasking.quote(request(order_parameters={"priority": "yesterday"}))
    gt = {"op": ">=", "args": [{"property": "view:off_nadir"}, 5]}
    with pytest.raises(BadRequest, match="filter"):
        await tasking.opportunities(request(constraints=gt), 5)
    with pytest.raises(BadRequest, match="opportunity_id"):
        await tasking.quote(request(opportunity_id="nope"))


async def test_quote_is_the_native_price_and_create_charges_it(
    pair: tuple[ArlulaTasking, Starlette],
) -> None:
    tasking, app = pair
    params = {"bundle": "multispectral", "license": "Enterprise", "priority": "urgent", "cloud": 10}
    quote = await tasking.quote(request(order_parameters=params))
    assert quote.currency == "USD" and quote.amount is not None and quote.amount % 100 == 0
    task = await tasking.create_task(request(order_parameters=params), "ref-1")
    assert task.amount == quote.amount and task.status == "accepted"
    assert task.native_status == "pending" and task.reference is None
    assert task.details["priority"] == "urgent" and task.details["cloud"] == 10
    assert len(app.state.tasking.campaigns) == 1


async def test_an_opportunity_id_orders_that_opportunity(
    pair: tuple[ArlulaTasking, Starlette],
) -> None:
    tasking, _ = pair
    opp = (await tasking.opportunities(request(), 5)).opportunities[0]
    task = await tasking.create_task(request(opportunity_id=opp.id), "ref-2")
    assert task.details["ordering_id"] == opp.id


async def test_get_task_follows_the_campaign_and_deliveries_resolve_to_geotiff(
    clock: ManualClock,
) -> None:
    app = sim(clock)
    tasking = ArlulaTasking(context(app))
    archive = ArlulaProvider(context(app))
    task = await tasking.create_task(request(), "ref-3")
    assert await tasking.deliveries(task.native_id) == []
    seen = []
    for _ in range(4):
        now = await tasking.get_task(task.native_id)
        seen.append((now.status, now.native_status))
        assert len(now.history) == 1 and now.history[0].status == now.status
        clock.now += STEP
    assert seen == [
        ("accepted", "pending"),
        ("tasked", "processing"),
        ("processing", "post-processing"),
        ("completed", "complete"),
    ]
    delivered = await tasking.deliveries(task.native_id)
    assert len(delivered) == 1 and delivered[0].native_order_id == task.native_id
    item = delivered[0]
    assert item.collection_id == "arlula-vhr" and item.item_id.startswith("maxar_")
    assert await archive.get_item(item.collection_id, item.item_id) is not None
    location = await archive.asset_location(
        item.collection_id, item.item_id, "data", item.native_order_id
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://arlula.test") as plain:
        data = await plain.get(location.href)
    assert data.status_code == 200 and data.content[:4] in (b"II*\x00", b"MM\x00*")
    await tasking.aclose()
    await archive.aclose()


async def test_cancel_only_while_awaiting_approval(clock: ManualClock) -> None:
    app = sim(clock, arlula_approval_above_cents=0, arlula_approval_s=30)
    tasking = ArlulaTasking(context(app))
    first = await tasking.create_task(request(), "ref-4")
    assert first.status == "held" and first.awaiting_approval
    with pytest.raises(Conflict, match="team admin"):
        await tasking.approve_task(first.native_id)
    cancelled = await tasking.cancel_task(first.native_id)
    assert cancelled.status == "cancelled" and cancelled.native_status == "cancelled"
    assert (await tasking.cancel_task(first.native_id)).status == "cancelled"
    second = await tasking.create_task(request(order_parameters={"priority": "priority"}), "r5")
    clock.now += 30
    with pytest.raises(Conflict, match="405"):
        await tasking.cancel_task(second.native_id)
    with pytest.raises(Conflict, match="no approval"):
        await tasking.approve_task(second.native_id)


async def test_a_lost_creation_answer_is_found_without_a_second_campaign(
    clock: ManualClock,
) -> None:
    app = sim(clock)
    tasking = ArlulaTasking(context(app, order_timeout_s=0.2))
    app.state.faults.set(FaultSettings(late_rate=1.0, late_s=5, paths=["/api/tasking/order"]))
    with pytest.raises(ProviderError):
        await tasking.create_task(request(), "ref-6")
    app.state.faults.clear()
    assert len(app.state.tasking.campaigns) == 1  # placed, though its answer was lost
    found = await tasking.find_tasks(request(), "ref-6")
    assert len(found) == 1 and found[0].native_status == "pending"
    assert found[0].details["campaign_id"] in app.state.tasking.campaigns
    other = request(order_parameters={"priority": "urgent"})
    assert await tasking.find_tasks(other, "ref-7") == []
    assert len(app.state.tasking.campaigns) == 1
