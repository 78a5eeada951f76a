"""Arlula's tasking adapter against the in-process simulator: products, opportunities,
quote, create, get, cancel (only while awaiting approval), the unknown outcome reconciled
by find_tasks without a second campaign, and deliveries whose data asset is a GeoTIFF."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import httpx
import orjson
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.tasking_contract import StapiStatus, TaskingProvider, TaskingRequest
from bridge.errors import BadRequest, Conflict, ProviderError
from bridge.providers.arlula import ArlulaProvider, ArlulaTasking, create_tasking
from bridge.providers.arlula.tasking_mapping import (
    failure_text,
    opportunity,
    options,
    order_body,
    price_cents,
    search_body,
    task_from_order,
)
from bridge.providers.arlula.tasking_products import product_specs, stapi_status
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
    clock.now += 2 * 86400  # the window has started: the result cannot be searched again
    late = await tasking.find_tasks(request(), "ref-6")
    assert [t.native_id for t in late] == [found[0].native_id]
    assert await tasking.find_tasks(other, "ref-7") == []
    assert len(app.state.tasking.campaigns) == 1


# --- pure mappings, against golden files (UPDATE_GOLDEN=1 rewrites them) ----------------

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "arlula"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
FIXED = 1_780_000_000.0  # the golden natives were captured at this simulator time


def golden(name: str, actual: Any) -> Any:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return orjson.loads(path.read_bytes())


def fixed_request(**extra: Any) -> TaskingRequest:
    fields: dict[str, Any] = {
        "product_id": "arlula-tasking-maxar",
        "start": datetime.fromtimestamp(FIXED, UTC) + timedelta(days=1),
        "end": datetime.fromtimestamp(FIXED, UTC) + timedelta(days=8),
        "geometry": HELSINKI,
        **extra,
    }
    return TaskingRequest(**fields)


async def natives() -> tuple[dict[str, Any], dict[str, Any]]:
    """The native search answer and order answer the goldens map (captured once)."""
    if UPDATE:
        app = sim(ManualClock(FIXED))
        transport = httpx.ASGITransport(app=app)
        auth = (DEMO_KEY, DEMO_SECRET)
        spec = product_specs()["arlula-tasking-maxar"]
        async with httpx.AsyncClient(transport=transport, base_url="http://a.test", auth=auth) as c:
            search = (
                await c.post("/api/tasking/search", json=search_body(fixed_request(), spec))
            ).json()
            opts = options(search["results"][0], {}, spec)
            body = order_body(search["results"][0], opts, "https://hooks.example/arlula")
            order = (await c.post("/api/tasking/order", json=body)).json()
        # Ids are random UUIDs: fixed ones keep the golden files stable.
        order["id"] = order["campaigns"][0]["order"] = "00000000-0000-4000-8000-000000000001"
        order["campaigns"][0]["id"] = "00000000-0000-4000-8000-000000000002"
        golden("tasking_native_search.json", search)
        golden("tasking_native_order.json", order)
    return (
        orjson.loads((GOLDEN / "tasking_native_search.json").read_bytes()),
        orjson.loads((GOLDEN / "tasking_native_order.json").read_bytes()),
    )


async def test_golden_search_body_and_opportunities() -> None:
    spec = product_specs()["arlula-tasking-maxar"]
    bound = {"op": "<=", "args": [{"property": "view:off_nadir"}, 20]}
    body = search_body(fixed_request(constraints=bound), spec)
    assert body == golden("tasking_search_body.json", body)
    assert body["offNadir"] == 20 and body["supplier"] == ["maxar"]
    search, _ = await natives()
    mapped = [
        {**asdict(opportunity(r, spec, {})), "start": r["startDate"], "end": r["endDate"]}
        for r in search["results"]
        if r["supplier"] == "maxar"
    ]
    assert mapped == golden("tasking_opportunities.json", mapped)
    assert [failure_text(e) for e in [{"type": "too-large", "message": "m", "supplier": "s"}]] == [
        "arlula: s: too-large: m"
    ]


async def test_golden_order_body_and_task() -> None:
    spec = product_specs()["arlula-tasking-maxar"]
    search, order = await natives()
    result = search["results"][0]
    params = {"bundle": "pansharpened", "license": "enterprise", "priority": "urgent", "cloud": 10}
    opts = options(result, params, spec)
    body = order_body(result, opts, "https://hooks.example/arlula")
    assert body == golden("tasking_order_body.json", body)
    # The native formula by hand: bundle * (1 + 100% + 50% + 30%) + 5000 + 20000 cents.
    by_hand = -(-(opts.bundle["price"] * 2.8 + 25000) // 100) * 100
    assert price_cents(opts) == int(by_hand)
    task = task_from_order(order)
    as_dict = orjson.loads(orjson.dumps(asdict(task)))
    assert as_dict == golden("tasking_task.json", as_dict)
    assert task.native_id == order["id"] and task.amount == order["total"]


def test_status_table_covers_every_native_word_and_tolerates_new_ones() -> None:
    table = orjson.loads((ROOT / "bridge/providers/arlula/tasking_statuses.json").read_bytes())
    stapi = set(get_args(StapiStatus))
    assert set(table["statuses"].values()) <= stapi and table["default"] in stapi
    assert stapi_status("complete") == "completed"
    assert stapi_status("pending-approval") == "held"
    assert stapi_status("rescheduled") == "scheduled"
    assert stapi_status("some-new-word") == "processing"
    order = {
        "id": "o",
        "status": "some-new-word",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "total": 100,
    }
    task = task_from_order(order)
    assert (task.status, task.native_status) == ("processing", "some-new-word")
