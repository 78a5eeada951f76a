"""Satellogic's tasking adapter against the in-process simulator, and its pure mappings
against golden files (``UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest
from starlette.applications import Starlette

from bridge import registry
from bridge.catalog import load_catalog
from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider, TaskingRequest
from bridge.errors import BadRequest, Conflict, NotFound, ProviderTimeout
from bridge.providers.base import ProviderContext
from bridge.providers.satellogic import tasking_mapping
from bridge.sandbox import in_process_sandbox
from bridge.simulators.common.faults import FaultSettings
from tests.support import wiring
from tests.support.clock import ManualClock
from tests.support.wiring import COLLECTIONS

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "satellogic"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
STEP = 10.0
ORDER_STEP = 5.0
DONE_AFTER = 2 * STEP + 2 * ORDER_STEP
POI = {"type": "Point", "coordinates": [-58.3816, -34.6037]}
AOI = {
    "type": "Polygon",
    "coordinates": [[[-58.44, -34.64], [-58.36, -34.64], [-58.36, -34.58], [-58.44, -34.58],
                     [-58.44, -34.64]]],
}  # fmt: skip


def _golden(name: str, actual: Any) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(
            orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
    assert orjson.loads(path.read_bytes()) == orjson.loads(orjson.dumps(actual))


def _request(product: str = "satellogic-poi", **over: Any) -> TaskingRequest:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    fields: dict[str, Any] = {
        "product_id": product,
        "start": start,
        "end": start + timedelta(days=14),
        "geometry": POI if product == "satellogic-poi" else AOI,
        "order_parameters": {"project_name": "bridge"},
    }
    return TaskingRequest(**{**fields, **over})


@dataclasses.dataclass
class Wired:
    tasking: TaskingProvider
    archive: Provider
    app: Starlette
    clock: ManualClock
    transport: httpx.AsyncBaseTransport


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    clock = ManualClock(datetime(2026, 1, 20, tzinfo=UTC).timestamp())
    extra = {"satellogic_task_step_s": STEP, "satellogic_order_step_s": ORDER_STEP}
    sandbox = in_process_sandbox(
        wiring.simulator_config(extra=extra, clock=clock), names=["satellogic"]
    )
    catalog = load_catalog(COLLECTIONS, providers=["satellogic"])
    settings = sandbox.provider_settings["satellogic"].model_copy(update={"timeout_s": 0.5})
    context = ProviderContext(
        name="satellogic",
        settings=settings,
        collections=catalog.by_provider["satellogic"],
        transport=sandbox.transports["satellogic"],
    )
    factory = registry.tasking_factory("satellogic")
    assert factory is not None
    tasking = factory(context)
    archive = registry.provider_factory("satellogic")(context)
    app = sandbox.simulators["satellogic"]
    yield Wired(tasking, archive, app, clock, sandbox.transports["satellogic"])
    await tasking.aclose()
    await archive.aclose()


def _native_count(app: Starlette) -> int:
    return len(app.state.tasks.tasks)


# --- pure mappings (golden) --------------------------------------------------------------


def test_products_are_point_and_area_with_valid_schemas() -> None:
    products = tasking_mapping.products()
    assert [p.id for p in products] == ["satellogic-poi", "satellogic-aoi"]
    for product in products:
        assert product.collection_id == "satellogic-l1d"
        assert not product.opportunities and product.cancellable and not product.approval
        jsonschema.Draft7Validator.check_schema(product.queryables)
        jsonschema.Draft7Validator.check_schema(product.order_parameters)
        for name, prop in product.order_parameters["properties"].items():
            assert "default" in prop, name
            jsonschema.validate(prop["default"], prop)
        assert not product.order_parameters.get("required")
    _golden("tasking_products.json", [dataclasses.asdict(p) for p in products])


def test_task_body_names_the_task_after_the_reference() -> None:
    _golden("tasking_body_poi.json", tasking_mapping.task_body(_request(), "bridge-order-0001"))
    area = _request("satellogic-aoi", order_parameters={"project_name": "Pampas"})
    _golden("tasking_body_aoi.json", tasking_mapping.task_body(area, "bridge-order-0002"))


def test_native_task_keeps_the_native_word() -> None:
    seed_answer = {  # seed 004 step 4
        "task_id": 23272,
        "task_name": "My first task",
        "project_name": "My first task project",
        "product": 90,
        "start": "2020-12-22T21:00:00Z",
        "end": "2021-01-11T21:00:00Z",
        "priority": 13,
        "client": "Demo client",
        "target": {"type": "Point", "coordinates": [72.905273, 19.023001, 0.0]},
        "created_time": "2020-12-23T22:13:52.943224Z",
        "status": "in_progress",
    }
    task = tasking_mapping.native_task(seed_answer)
    _golden("tasking_native_task.json", dataclasses.asdict(task))
    unknown = tasking_mapping.native_task({**seed_answer, "status": "awaiting_downlink"})
    assert (unknown.status, unknown.native_status) == ("accepted", "awaiting_downlink")


def test_status_table() -> None:
    words = ["received", "in_progress", "completed", "rejected", "failed", "canceled", "new"]
    _golden("tasking_statuses.json", {w: tasking_mapping.stapi_status(w) for w in words})
    assert tasking_mapping.stapi_status("_unknown") == "accepted"


def test_quotes() -> None:
    from decimal import Decimal

    poi = tasking_mapping.quote(_request(), Decimal("15.00"))
    assert (poi.amount, poi.currency) == (37500, "USD")
    area = tasking_mapping.quote(_request("satellogic-aoi"), Decimal("10.00"))
    _golden("tasking_quote_aoi.json", dataclasses.asdict(area))
    assert tasking_mapping.quote(_request(), None).amount is None


# --- against the simulator ---------------------------------------------------------------


async def test_quote_reads_the_contract_prices(wired: Wired) -> None:
    poi = await wired.tasking.quote(_request())
    assert poi.amount == 37500 and poi.details["sku"] == "TSKPOI-M"
    area = await wired.tasking.quote(_request("satellogic-aoi"))
    assert area.details["sku"] == "TSKARE-M" and 45 * 1000 < (area.amount or 0) < 52 * 1000


async def test_no_opportunities_and_no_approval(wired: Wired) -> None:
    with pytest.raises(Conflict):
        await wired.tasking.opportunities(_request(), 10)
    task = await wired.tasking.create_task(_request(), "ref-approve")
    with pytest.raises(Conflict, match="no approval"):
        await wired.tasking.approve_task(task.native_id)


async def test_create_get_and_complete(wired: Wired) -> None:
    created = await wired.tasking.create_task(_request(), "ref-0001")
    assert (created.status, created.native_status) == ("received", "received")
    assert created.reference == "ref-0001"
    assert await wired.tasking.deliveries(created.native_id) == []
    wired.clock.now += STEP
    assert (await wired.tasking.get_task(created.native_id)).status == "accepted"
    wired.clock.now += DONE_AFTER
    done = await wired.tasking.get_task(created.native_id)
    assert (done.status, done.native_status, done.history) == ("completed", "completed", ())
    with pytest.raises(NotFound):
        await wired.tasking.get_task("999999")
    with pytest.raises(NotFound):
        await wired.tasking.get_task("not-a-number")


async def test_bad_request_names_the_field(wired: Wired) -> None:
    past = _request(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 2, tzinfo=UTC))
    with pytest.raises(BadRequest, match="end"):
        await wired.tasking.create_task(past, "ref-past")
    assert _native_count(wired.app) == 0


async def test_cancel_before_the_capture_and_conflict_after(wired: Wired) -> None:
    first = await wired.tasking.create_task(_request(), "ref-c1")
    second = await wired.tasking.create_task(_request(), "ref-c2")
    canceled = await wired.tasking.cancel_task(first.native_id)
    assert (canceled.status, canceled.native_status) == ("cancelled", "canceled")
    wired.clock.now += 2 * STEP
    with pytest.raises(Conflict, match="capture"):
        await wired.tasking.cancel_task(second.native_id)
    wired.clock.now += DONE_AFTER
    assert (await wired.tasking.get_task(first.native_id)).status == "cancelled"
    assert await wired.tasking.deliveries(first.native_id) == []


async def test_lost_creation_is_found_without_a_second_task(wired: Wired) -> None:
    request = _request("satellogic-aoi")
    late = FaultSettings(late_rate=1.0, late_s=2.0, paths=["/tasking/tasks"], methods=["POST"])
    wired.app.state.faults.set(late)
    with pytest.raises(ProviderTimeout):
        await wired.tasking.create_task(request, "ref-lost")
    wired.app.state.faults.clear()
    await wired.tasking.create_task(_request(), "ref-other")
    found = await wired.tasking.find_tasks(request, "ref-lost")
    assert [t.reference for t in found] == ["ref-lost"]
    assert await wired.tasking.find_tasks(request, "ref-never") == []
    assert _native_count(wired.app) == 2  # the lost task and the other one: no second


async def test_deliveries_end_in_geotiff_bytes(wired: Wired) -> None:
    created = await wired.tasking.create_task(_request(), "ref-deliver")
    wired.clock.now += DONE_AFTER
    deliveries = await wired.tasking.deliveries(created.native_id)
    assert deliveries and {d.collection_id for d in deliveries} == {"satellogic-l1d"}
    assert len({d.native_order_id for d in deliveries}) == 1
    first = deliveries[0]
    item = await wired.archive.get_item(first.collection_id, first.item_id)
    assert item is not None and item["collection"] == "satellogic-l1d"
    order = await wired.archive.get_order(first.native_order_id)  # what the bridge records
    assert order.state == "succeeded" and order.amount == 37500
    location = await wired.archive.asset_location(
        first.collection_id, first.item_id, "analytic", first.native_order_id
    )
    async with httpx.AsyncClient(transport=wired.transport) as client:
        response = await client.get(location.href)
    assert response.status_code == 200
    assert response.content[:4] in (b"II*\x00", b"MM\x00*")


async def test_webhook_payloads(wired: Wired) -> None:
    assert wired.tasking.task_id_from_webhook({"task_id": 23272}) == "23272"
    assert wired.tasking.task_id_from_webhook({"task_id": "x"}) is None
    assert wired.tasking.task_id_from_webhook([]) is None
