"""The ICEYE tasking adapter against the in-process simulator: products, opportunities,
quotes, create/get/cancel, a lost creation answer reconciled without a second native
task, and deliveries whose data assets resolve to GeoTIFF bytes."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from bridge import registry
from bridge.catalog import load_catalog
from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider, TaskingRequest
from bridge.errors import BadRequest, Conflict, NotFound, PaymentRequired, ProviderTimeout
from bridge.providers.base import ProviderContext
from bridge.providers.iceye.tasking_mapping import (
    STATUS_TABLE,
    native_task,
    price_params,
    stapi_status,
    task_body,
)
from bridge.providers.iceye.tasking_mapping import opportunities as mapped_opportunities
from bridge.sandbox import in_process_sandbox
from bridge.simulators.common.faults import FaultSettings
from bridge.simulators.iceye.auth import DEMO_CONTRACT_ID
from tests.support import wiring
from tests.support.clock import ManualClock

STEP = 10.0
DEADLINE_S = 0.5


def _wired(
    **extra: Any,
) -> tuple[TaskingProvider, Provider, Starlette, ManualClock]:
    clock = ManualClock(time.time())
    config = wiring.simulator_config(extra={"iceye_task_step_s": STEP, **extra}, clock=clock)
    sandbox = in_process_sandbox(config, names=["iceye"])
    catalog = load_catalog(wiring.COLLECTIONS, providers=["iceye"])
    settings = sandbox.provider_settings["iceye"].model_copy(update={"timeout_s": DEADLINE_S})
    context = ProviderContext(
        name="iceye",
        settings=settings,
        collections=catalog.by_provider["iceye"],
        transport=sandbox.transports["iceye"],
    )
    factory = registry.tasking_factory("iceye")
    assert factory is not None
    archive = registry.provider_factory("iceye")(context)
    return factory(context), archive, sandbox.simulators["iceye"], clock


def _request(clock: ManualClock, **changes: Any) -> TaskingRequest:
    now = datetime.fromtimestamp(clock(), UTC)
    fields: dict[str, Any] = {
        "product_id": "iceye-spotlight",
        "start": now + timedelta(hours=2),
        "end": now + timedelta(hours=50),
        "geometry": {"type": "Point", "coordinates": [24.9384, 60.1699]},
        "order_parameters": {
            "priority": "COMMERCIAL",
            "exclusivity": "PUBLIC",
            "sla": "SLA_24H",
            "eula": "STANDARD",
            "product_types": ["GRD", "SLC"],
        },
    }
    fields.update(changes)
    return TaskingRequest(**fields)


async def test_products_one_per_imaging_mode_with_defaults() -> None:
    tasking, archive, _sim, _clock = _wired()
    try:
        found = {p.id: p for p in tasking.products()}
        assert set(found) == {
            "iceye-stripmap",
            "iceye-spotlight",
            "iceye-spotlight-extended-area",
            "iceye-scan",
            "iceye-dwell",
        }
        for product in found.values():
            assert product.opportunities and product.cancellable and not product.approval
            params = product.order_parameters["properties"]
            assert all("default" in schema for schema in params.values())
            assert product.order_parameters.get("required") is None
            assert "view:incidence_angle" in product.queryables["properties"]
    finally:
        await tasking.aclose()
        await archive.aclose()


async def test_opportunities_and_quote() -> None:
    tasking, archive, _sim, clock = _wired()
    try:
        constraints = {
            "op": "and",
            "args": [
                {"op": ">=", "args": [{"property": "view:incidence_angle"}, 20]},
                {"op": "<=", "args": [{"property": "view:incidence_angle"}, 40]},
            ],
        }
        result = await tasking.opportunities(_request(clock, constraints=constraints), 5)
        assert 0 < len(result.opportunities) <= 5
        for opportunity in result.opportunities:
            assert 20 <= opportunity.properties["view:incidence_angle"] <= 40
            assert opportunity.geometry["type"] == "Point"
        quote = await tasking.quote(_request(clock))
        assert (quote.amount, quote.currency) == (450_000, "EUR")
        with pytest.raises(BadRequest, match="geometry"):
            await tasking.quote(_request(clock, geometry={"type": "Polygon", "coordinates": []}))
    finally:
        await tasking.aclose()
        await archive.aclose()


async def test_a_contract_without_pricing_plan_is_quoted_without_amount() -> None:
    tasking, archive, _sim, clock = _wired(iceye_unpriced_contracts=[DEMO_CONTRACT_ID])
    try:
        quote = await tasking.quote(_request(clock))
        assert quote.amount is None
        assert "Pricing Plan" in quote.details["price_unavailable"]
    finally:
        await tasking.aclose()
        await archive.aclose()


async def test_native_refusals_become_bridge_errors() -> None:
    tasking, archive, sim, clock = _wired(iceye_task_budgets={DEMO_CONTRACT_ID: 100_000})
    try:
        start = datetime.fromtimestamp(clock(), UTC) + timedelta(hours=1)
        narrow = _request(clock, start=start, end=start + timedelta(hours=3))
        with pytest.raises(BadRequest, match="acquisitionWindow"):
            await tasking.create_task(narrow, "order-narrow")
        with pytest.raises(PaymentRequired, match="BUDGET_EXCEEDED"):
            await tasking.create_task(_request(clock), "order-poor")
        with pytest.raises(NotFound):
            await tasking.get_task("no-such-task")
        assert sim.state.tasks.tasks == {}
    finally:
        await tasking.aclose()
        await archive.aclose()


async def test_create_get_cancel_and_conflict_once_done() -> None:
    tasking, archive, sim, clock = _wired()
    try:
        created = await tasking.create_task(_request(clock), "order-1")
        assert (created.status, created.native_status) == ("received", "RECEIVED")
        assert created.reference == "order-1"
        assert [e.native_status for e in created.history] == ["RECEIVED"]
        clock.now += STEP
        active = await tasking.get_task(created.native_id)
        assert (active.status, active.native_status) == ("accepted", "ACTIVE")
        canceled = await tasking.cancel_task(created.native_id)
        assert (canceled.status, canceled.native_status) == ("user_cancelled", "CANCELED")
        second = await tasking.create_task(_request(clock), "order-2")
        clock.now += 2 * STEP
        done = await tasking.get_task(second.native_id)
        assert (done.status, done.native_status) == ("completed", "DONE")
        with pytest.raises(Conflict, match="only RECEIVED or ACTIVE"):
            await tasking.cancel_task(second.native_id)
        with pytest.raises(Conflict):
            await tasking.approve_task(second.native_id)
        assert len(sim.state.tasks.tasks) == 2
    finally:
        await tasking.aclose()
        await archive.aclose()


async def test_a_lost_creation_answer_is_found_by_reference_not_tasked_twice() -> None:
    tasking, archive, sim, clock = _wired()
    try:
        request = _request(clock)
        await tasking.find_tasks(request, "warm-up")  # token fetched before the fault
        sim.state.faults.set(
            FaultSettings(
                late_rate=1.0,
                late_s=3 * DEADLINE_S,
                paths=["/api/tasking/v2/tasks"],
                methods=["POST"],
            )
        )
        with pytest.raises(ProviderTimeout):
            await tasking.create_task(request, "order-lost")
        sim.state.faults.clear()
        assert len(sim.state.tasks.tasks) == 1  # ICEYE did create it
        found = await tasking.find_tasks(request, "order-lost")
        assert [t.reference for t in found] == ["order-lost"]
        assert found[0].native_id == next(iter(sim.state.tasks.tasks))
        assert await tasking.find_tasks(request, "another-order") == []
        assert len(sim.state.tasks.tasks) == 1
    finally:
        await tasking.aclose()
        await archive.aclose()


async def test_deliveries_resolve_to_geotiff_bytes() -> None:
    tasking, archive, sim, clock = _wired()
    try:
        params = {**_request(clock).order_parameters, "product_types": ["GRD", "SLC", "SIDD"]}
        created = await tasking.create_task(_request(clock, order_parameters=params), "order-d")
        assert await tasking.deliveries(created.native_id) == []
        clock.now += 3 * STEP
        delivered = await tasking.deliveries(created.native_id)
        assert sorted(d.collection_id for d in delivered) == [
            "iceye-grd",
            "iceye-sidd",
            "iceye-slc",
        ]
        assert {d.native_order_id for d in delivered} == {f"task:{created.native_id}"}
        grd = next(d for d in delivered if d.collection_id == "iceye-grd")
        # The delivered item is in the archive, found through the catalog search.
        item = await archive.get_item(grd.collection_id, grd.item_id)
        assert item is not None and item["id"] == grd.item_id
        location = await archive.asset_location(
            grd.collection_id, grd.item_id, "data", grd.native_order_id
        )
        transport = httpx.ASGITransport(app=sim)
        async with httpx.AsyncClient(transport=transport) as client:
            data = await client.get(location.href)
        assert data.status_code == 200
        assert data.content[:4] in (b"II*\x00", b"MM\x00*")
    finally:
        await tasking.aclose()
        await archive.aclose()


async def test_webhook_payload_names_the_task() -> None:
    tasking, archive, _sim, _clock = _wired()
    try:
        assert tasking.task_id_from_webhook({"data": {"taskID": "t-1"}}) == "t-1"
        assert tasking.task_id_from_webhook({"nothing": 1}) is None
        assert tasking.task_id_from_webhook(["not", "a", "dict"]) is None
    finally:
        await tasking.aclose()
        await archive.aclose()


# Pure mappings against golden files (``UPDATE_GOLDEN=1`` rewrites them).
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "iceye" / "tasking.json"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NATIVE_TASKS: list[dict[str, Any]] = [
    {
        "id": "6f1c6b1e-0000-4000-a000-000000000001",
        "status": "RECEIVED",
        "createdAt": "2026-03-01T12:00:00Z",
        "reference": "order-1",
        "imagingMode": "SPOTLIGHT",
        "acquisitionWindow": {"start": "2026-03-01T14:00:00Z", "end": "2026-03-03T14:00:00Z"},
        "pointOfInterest": {"lat": 60.1699, "lon": 24.9384},
        "productTypes": ["GRD", "SLC"],
        "sla": "SLA_8H",
        "eula": "STANDARD",
    },
    {"id": "t-done", "status": "DONE", "createdAt": "2026-03-01T12:00:00+00:00"},
    {"id": "t-fulfilled", "status": "FULFILLED", "newField": {"kept": False}},
    {"id": "t-new-word", "status": "ON_HOLD_FOR_WEATHER", "reference": 42},
]


def _golden_requests() -> list[TaskingRequest]:
    point = {"type": "Point", "coordinates": [24.9384, 60.1699]}
    return [
        TaskingRequest("iceye-stripmap", T0, T0 + timedelta(days=1), point),
        TaskingRequest(
            "iceye-dwell",
            T0,
            T0 + timedelta(days=2),
            point,
            constraints={
                "op": "and",
                "args": [
                    {"op": "between", "args": [{"property": "view:incidence_angle"}, 15, 35]},
                    {"op": "=", "args": [{"property": "sar:observation_direction"}, "left"]},
                    {"op": "=", "args": [{"property": "sat:orbit_state"}, "ascending"]},
                ],
            },
            order_parameters={
                "priority": "BACKGROUND",
                "exclusivity": "PRIVATE",
                "sla": "SLA_2H",
                "eula": "MULTI",
                "product_types": ["GRD", "VID"],
            },
        ),
    ]


def test_tasking_mapping_golden() -> None:
    bodies = [task_body(r, "contract-uuid", f"ref-{i}") for i, r in enumerate(_golden_requests())]
    feasibility = {
        "data": [
            {
                "feasible": True,
                "opportunities": [
                    {
                        "start": "2026-03-01T18:00:00Z",
                        "end": "2026-03-01T18:01:00Z",
                        "incidenceAngle": 22.5,
                        "lookSide": "RIGHT",
                        "passDirection": "DESCENDING",
                    },
                    {"start": "not a time", "end": "2026-03-01T18:01:00Z"},
                    {"start": "2026-03-02T02:00:00Z", "end": "2026-03-02T02:01:00Z"},
                ],
            }
        ]
    }
    point = {"type": "Point", "coordinates": [24.9384, 60.1699]}
    actual = orjson.loads(
        orjson.dumps(
            {
                "task_bodies": bodies,
                "price_params": [list(price_params(b)) for b in bodies],
                "native_tasks": [dataclasses.asdict(native_task(t)) for t in NATIVE_TASKS],
                "opportunities": [
                    dataclasses.asdict(o) for o in mapped_opportunities(feasibility, point, 10)
                ],
                "statuses": {w: stapi_status(w) for w in (*STATUS_TABLE, "SOMETHING_NEW")},
            }
        )
    )
    if UPDATE:
        GOLDEN.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    assert actual == orjson.loads(GOLDEN.read_bytes())


def test_tasking_mapping_refusals() -> None:
    point = {"type": "Point", "coordinates": [1.0, 2.0]}
    with pytest.raises(BadRequest, match="product_id"):
        task_body(TaskingRequest("iceye-nope", T0, T0, point), "c", None)
    for constraints in (
        {"op": "or", "args": []},
        {"op": "like", "args": [{"property": "sat:orbit_state"}, "asc%"]},
        {"op": "=", "args": [{"property": "eo:cloud_cover"}, 5]},
        {"args": "nope"},
    ):
        with pytest.raises(BadRequest, match="filter"):
            task_body(TaskingRequest("iceye-scan", T0, T0, point, constraints), "c", None)
    with pytest.raises(KeyError):
        native_task({"id": "no-status"})
    with pytest.raises(TypeError):
        native_task({"id": 1, "status": "DONE"})
