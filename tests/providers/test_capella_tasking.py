"""Capella's tasking adapter against the in-process simulator (production wiring)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider, TaskingRequest
from bridge.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderTimeout,
)
from bridge.providers.base import ProviderContext
from bridge.providers.capella.tasking_mapping import stapi_status, task_body, task_from_native
from bridge.registry import tasking_factory
from bridge.sandbox import build_providers, in_process_sandbox
from bridge.settings import Settings
from bridge.simulators.common.faults import FaultSettings
from tests.support.clock import ManualClock
from tests.support.wiring import COLLECTIONS, simulator_config

STEP = 5.0
T0 = 1_800_000_000.0
TIFF = (b"II*\x00", b"MM\x00*")


@dataclass
class Wired:
    tasking: TaskingProvider
    archive: Provider
    sim: Starlette
    clock: ManualClock

    def native_tasks(self) -> int:
        return len(self.sim.state.tasks.tasks)

    async def fetch(self, href: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.sim)) as client:
            return await client.get(href)


def wire(timeout_s: float = 10.0, api_key: str | None = None, **extra: Any) -> Wired:
    clock = ManualClock(T0)
    config = simulator_config(extra={"capella_task_step_s": STEP, **extra}, clock=clock)
    sandbox = in_process_sandbox(config, names=["capella"])
    catalog = load_catalog(COLLECTIONS, providers=["capella"])
    update: dict[str, Any] = {"timeout_s": timeout_s}
    if api_key is not None:
        update["api_key"] = SecretStr(api_key)
    settings = sandbox.provider_settings["capella"].model_copy(update=update)
    archive = build_providers(Settings(), catalog, {"capella": settings}, sandbox.transports)
    factory = tasking_factory("capella")
    assert factory is not None
    context = ProviderContext(
        name="capella",
        settings=settings,
        collections=catalog.by_provider["capella"],
        transport=sandbox.transports["capella"],
    )
    return Wired(factory(context), archive["capella"], sandbox.simulators["capella"], clock)


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    w = wire()
    yield w
    await w.tasking.aclose()
    await w.archive.aclose()


def request(**params: Any) -> TaskingRequest:
    start = datetime.fromtimestamp(T0, UTC)
    return TaskingRequest(
        product_id="capella-spotlight",
        start=start,
        end=start + timedelta(days=7),
        geometry={"type": "Point", "coordinates": [24.94, 60.17]},
        constraints={
            "op": "and",
            "args": [
                {"op": "between", "args": [{"property": "view:off_nadir"}, 10, 30]},
                {"op": "=", "args": [{"property": "sar:observation_direction"}, "right"]},
            ],
        },
        order_parameters={
            "collection_tier": "standard",
            "archive_holdback": "none",
            "pre_approval": True,
            **params,
        },
    )


def test_products_are_collection_types_with_defaults(wired: Wired) -> None:
    products = wired.tasking.products()
    ids = [p.id for p in products]
    assert "capella-spotlight" in ids and "capella-stripmap-20" in ids
    for product in products:
        assert product.id.startswith("capella-") and not product.opportunities
        assert product.cancellable and product.approval
        props = product.order_parameters["properties"]
        assert all("default" in schema for schema in props.values())
        assert props["collection_tier"]["default"] == "standard"
        assert "view:off_nadir" in product.queryables["properties"]


async def test_no_opportunities_and_no_price_before_creation(wired: Wired) -> None:
    with pytest.raises(Conflict):
        await wired.tasking.opportunities(request(), limit=10)
    quote = await wired.tasking.quote(request(pre_approval=False))
    assert quote.amount is None and quote.details == {"approval_required": True}
    with pytest.raises(NotFound):
        await wired.tasking.quote(TaskingRequest(**{**request().__dict__, "product_id": "x"}))


async def test_create_get_history_and_delivery_to_geotiff(wired: Wired) -> None:
    task = await wired.tasking.create_task(request(), reference="ord-1")
    assert task.status == "received" and task.reference == "ord-1"
    assert await wired.tasking.deliveries(task.native_id) == []
    wired.clock.now += 3 * STEP
    done = await wired.tasking.get_task(task.native_id)
    assert done.status == "completed" and done.amount == 200_000 and done.currency == "USD"
    assert [e.native_status for e in done.history] == [
        "received",
        "review",
        "submitted",
        "accepted",
        "completed",
    ]
    assert [e.status for e in done.history] == [
        "received",
        "held",
        "accepted",
        "scheduled",
        "completed",
    ]
    assert all(e.reason for e in done.history)
    assert done.history[-1].time == datetime.fromtimestamp(T0 + 3 * STEP, UTC)
    deliveries = await wired.tasking.deliveries(task.native_id)
    assert {d.collection_id for d in deliveries} == {
        "capella-slc",
        "capella-geo",
        "capella-gec",
        "capella-sicd",
    }
    assert len({d.native_order_id for d in deliveries}) == 1
    again = await wired.tasking.deliveries(task.native_id)
    assert {d.native_order_id for d in again} == {deliveries[0].native_order_id}, "no 2nd order"
    geo = next(d for d in deliveries if d.collection_id == "capella-geo")
    item = await wired.archive.get_item("capella-geo", geo.item_id)
    assert item is not None
    assert item["properties"]["sar:observation_direction"] == "right"
    data_key = item["properties"]["sar:polarizations"][0]
    location = await wired.archive.asset_location(
        "capella-geo", geo.item_id, data_key, geo.native_order_id
    )
    response = await wired.fetch(location.href)
    assert response.status_code == 200 and response.content[:4] in TIFF


async def test_approval_is_visible_and_approvable(wired: Wired) -> None:
    task = await wired.tasking.create_task(request(pre_approval=False), reference="ord-2")
    with pytest.raises(Conflict):
        await wired.tasking.approve_task(task.native_id)  # not reviewed yet
    wired.clock.now += STEP
    waiting = await wired.tasking.get_task(task.native_id)
    assert waiting.awaiting_approval and waiting.status == "held"
    assert waiting.amount == 200_000
    approved = await wired.tasking.approve_task(task.native_id)
    assert approved.native_status == "submitted" and not approved.awaiting_approval
    with pytest.raises(Conflict):
        await wired.tasking.approve_task(task.native_id)


async def test_cancel_where_allowed_conflict_elsewhere(wired: Wired) -> None:
    task = await wired.tasking.create_task(request(), reference="ord-3")
    canceled = await wired.tasking.cancel_task(task.native_id)
    assert canceled.status == "user_cancelled" and canceled.native_status == "canceled"
    done = await wired.tasking.create_task(request(), reference="ord-4")
    wired.clock.now += 3 * STEP
    with pytest.raises(Conflict, match="cannot be canceled"):
        await wired.tasking.cancel_task(done.native_id)
    with pytest.raises(NotFound):
        await wired.tasking.get_task("00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize(
    ("req", "field"),
    [
        (request(collection_tier="asap"), "order_parameters.collection_tier"),
        (
            TaskingRequest(**{**request().__dict__, "end": datetime.fromtimestamp(T0 - 60, UTC)}),
            "datetime",
        ),
        (
            TaskingRequest(
                **{**request().__dict__, "geometry": {"type": "LineString", "coordinates": []}}
            ),
            "geometry",
        ),
    ],
)
async def test_native_refusals_name_the_field(
    wired: Wired, req: TaskingRequest, field: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await wired.tasking.create_task(req, reference="ord-bad")
    assert caught.value.detail.get("field") == field
    assert wired.native_tasks() == 0


async def test_filters_outside_capella_constraints_are_refused(wired: Wired) -> None:
    cloudy = {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 10]}
    with pytest.raises(BadRequest) as caught:
        await wired.tasking.create_task(
            TaskingRequest(**{**request().__dict__, "constraints": cloudy}), reference="r"
        )
    assert caught.value.detail == {"field": "filter"}


async def test_a_lost_creation_is_found_by_reference_without_a_second_task() -> None:
    w = wire(timeout_s=0.2)
    lost = FaultSettings(late_rate=1.0, late_s=2.0, paths=["/task"], methods=["POST"])
    w.sim.state.faults.set(lost)
    try:
        with pytest.raises(ProviderTimeout):
            await w.tasking.create_task(request(), reference="ord-lost")
        assert w.native_tasks() == 1, "the request was carried out"
        w.sim.state.faults.clear()  # the answer was lost; the next calls get through
        found = await w.tasking.find_tasks(request(), reference="ord-lost")
        assert [t.reference for t in found] == ["ord-lost"]
        assert await w.tasking.find_tasks(request(), reference="ord-other") == []
        assert w.native_tasks() == 1
    finally:
        await w.tasking.aclose()
        await w.archive.aclose()


def test_webhook_payloads_name_the_task(wired: Wired) -> None:
    payload = {"properties": {"taskingrequestId": "abc"}}
    assert wired.tasking.task_id_from_webhook(payload) == "abc"
    assert wired.tasking.task_id_from_webhook({"nothing": 1}) is None


# --- golden: pure mappings -------------------------------------------------------------------

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "capella"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def golden(name: str, actual: Any) -> None:
    """Compare ``actual`` with ``tests/golden/capella/<name>`` (UPDATE_GOLDEN=1 rewrites)."""
    path = GOLDEN / name
    normal = json.loads(json.dumps(actual, default=str))
    if UPDATE:
        path.write_text(json.dumps(normal, indent=2, sort_keys=True) + "\n")
    assert normal == json.loads(path.read_text()), f"{path} differs"


def _request_case(name: str, req: TaskingRequest, reference: str) -> dict[str, Any]:
    return {"name": name, "body": task_body(req, reference, contract_id=None)}


def test_task_body_golden() -> None:
    area = {
        "type": "Polygon",
        "coordinates": [[[24.9, 60.1], [25.1, 60.1], [25.1, 60.3], [24.9, 60.3], [24.9, 60.1]]],
    }
    plain = TaskingRequest(**{**request().__dict__, "constraints": None, "order_parameters": {}})
    cases = [
        _request_case("point with constraints, preapproved", request(), "ord-1"),
        _request_case("defaults only", plain, "ord-2"),
        _request_case(
            "area, urgent stripmap, named, planes and pass",
            TaskingRequest(
                product_id="capella-stripmap-50",
                start=datetime(2026, 12, 24, 6, 30, tzinfo=UTC),
                end=datetime(2026, 12, 31, 6, 30, tzinfo=UTC),
                geometry=area,
                constraints={
                    "op": "and",
                    "args": [
                        {"op": ">=", "args": [{"property": "view:off_nadir"}, 20]},
                        {"op": "=", "args": [{"property": "sat:orbit_state"}, "ascending"]},
                        {"op": "in", "args": [{"property": "capella:orbital_plane"}, [53, 97]]},
                        {"op": "=", "args": [{"property": "sar:polarizations"}, "VV"]},
                    ],
                },
                order_parameters={
                    "collection_tier": "urgent",
                    "archive_holdback": "30_day",
                    "pre_approval": False,
                    "name": "Harbour watch",
                    "description": "weekly",
                },
            ),
            "ord-3",
        ),
    ]
    golden("tasking_bodies.json", cases)


def _native(code_history: list[tuple[str, str]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-100.0, 40.0]},
        "properties": {
            "taskingrequestId": "3f6c1a52-9b7e-4d21-8f0a-6c5d4e3b2a10",
            "taskingrequestName": "ord-9",
            "customAttribute1": "ord-9",
            "collectionType": "spotlight",
            "collectionTier": "standard",
            "windowOpen": "2026-04-21T22:18:57.936Z",
            "windowClose": "2026-04-28T22:18:57.936Z",
            "statusHistory": [
                {"time": t, "code": c, "message": f"{c} message"} for t, c in code_history
            ],
            **props,
        },
    }


def test_task_from_native_golden() -> None:
    review = [("2026-04-21T23:21:24.491Z", "review"), ("2026-04-21T23:20:54.385Z", "received")]
    cases = {
        "awaiting approval": _native(
            review,
            transactionStatus="pending-customer-approval",
            preApproval=False,
            order={"summary": {"total": "$1,000.00", "subtotal": "$1,000.00"}},
        ),
        "completed, newest first on the wire": _native(
            [
                ("2026-04-23T13:03:21.532Z", "completed"),
                ("2026-04-22T15:30:08.756Z", "accepted"),
                ("2026-04-21T23:21:24.491Z", "submitted"),
                *review,
            ],
            transactionStatus="in-progress",
            order={"summary": {"total": "$20.00"}},
        ),
        "unknown word and unreadable cost": _native(
            [("2026-04-22T01:00:00.000Z", "retrying-later"), review[1]],
            order={"summary": {"total": "call us"}},
        ),
    }
    golden("tasking_tasks.json", {k: asdict(task_from_native(v)) for k, v in cases.items()})


def test_status_table_golden() -> None:
    words = [
        "received", "review", "submitted", "active", "accepted", "rejected", "expired",
        "completed", "anomaly", "canceled", "error", "failed", "retrying", "brand-new",
    ]  # fmt: skip
    golden("tasking_statuses.json", {w: stapi_status(w) for w in words})


@pytest.mark.parametrize(
    "feature",
    [None, {"properties": {}}, _native([]), _native([("not a time", "received")])],
)
def test_unexpected_native_shapes_are_provider_errors(feature: Any) -> None:
    with pytest.raises(ProviderBadResponse):
        task_from_native(feature)


async def test_broken_answers_are_provider_errors(wired: Wired) -> None:
    wired.sim.state.faults.set(FaultSettings(malformed_rate=1.0, paths=["/task/"]))
    with pytest.raises(ProviderBadResponse):
        await wired.tasking.get_task("00000000-0000-4000-8000-000000000000")


async def test_a_refused_key_is_an_auth_error_that_keeps_the_key_secret() -> None:
    w = wire(api_key="not-a-capella-key")
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await w.tasking.create_task(request(), reference="ord-x")
        assert "not-a-capella-key" not in str(caught.value)
        assert w.native_tasks() == 0
    finally:
        await w.tasking.aclose()
        await w.archive.aclose()
