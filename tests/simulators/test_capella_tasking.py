"""The Capella simulator's tasking side: native paths, validation, statuses over time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bridge.simulators.capella import DEMO_API_KEY, create_app
from bridge.simulators.capella.orders import iso_ms
from bridge.simulators.capella.tasking import TaskBook
from tests.support.clock import ManualClock
from tests.support.wiring import simulator_config

BASE = "http://capella.simulator"
AUTH = {"Authorization": f"ApiKey {DEMO_API_KEY}"}
OTHER_KEY = "capella-other-tasking-key"
OTHER = {"Authorization": f"ApiKey {OTHER_KEY}"}
STEP = 5.0
T0 = 1_800_000_000.0
TIFF = (b"II*\x00", b"MM\x00*")


@dataclass
class Sim:
    app: Starlette
    client: httpx.AsyncClient
    clock: ManualClock

    @property
    def book(self) -> TaskBook:
        book: TaskBook = self.app.state.tasks
        return book

    async def task(self, task_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/task/{task_id}", headers=AUTH)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def make_sim(**extra: Any) -> tuple[Starlette, ManualClock]:
    clock = ManualClock(T0)
    settings = {"capella_task_step_s": STEP, "capella_api_keys": [OTHER_KEY], **extra}
    return create_app(simulator_config(extra=settings, clock=clock)), clock


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    app, clock = await make_sim()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield Sim(app, c, clock)


def body(**props: Any) -> dict[str, Any]:
    """A tasking request as the SDK's ``create_tasking_request`` builds it."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
        "properties": {
            "taskingrequestName": "helsinki",
            "taskingrequestDescription": "",
            "windowOpen": iso_ms(T0),
            "windowClose": iso_ms(T0 + 7 * 86400),
            "collectionTier": "standard",
            "collectionType": "spotlight",
            "archiveHoldback": "none",
            "customAttribute1": "bridge-ref-1",
            "customAttribute2": None,
            "pre_approval": True,
            "collectConstraints": {"lookDirection": "either", "ascDsc": "either"},
            **props,
        },
    }


async def create(sim: Sim, **props: Any) -> dict[str, Any]:
    response = await sim.client.post("/task", json=body(**props), headers=AUTH)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def codes(task: dict[str, Any]) -> list[str]:
    """Status codes oldest first (the API lists them newest first)."""
    return [s["code"] for s in reversed(task["properties"]["statusHistory"])]


async def test_a_preapproved_request_moves_to_completed_over_time(sim: Sim) -> None:
    created = await create(sim)
    props = created["properties"]
    assert codes(created) == ["received"]
    assert props["transactionStatus"] == ""
    assert props["preApproval"] is True and "order" not in props
    task_id = props["taskingrequestId"]
    sim.clock.now += STEP
    assert codes(await sim.task(task_id)) == ["received", "review", "submitted"]
    sim.clock.now += STEP
    assert codes(await sim.task(task_id))[-1] == "accepted"
    sim.clock.now += STEP
    done = await sim.task(task_id)
    assert codes(done) == ["received", "review", "submitted", "accepted", "completed"]
    history = done["properties"]["statusHistory"]
    assert history[0]["code"] == "completed" and history[0]["message"]
    assert history[0]["time"] == iso_ms(T0 + 3 * STEP)
    assert done["properties"]["order"]["summary"]["total"] == "$2,000.00"


async def test_without_preapproval_the_cost_waits_for_approval(sim: Sim) -> None:
    task_id = (await create(sim, pre_approval=False))["properties"]["taskingrequestId"]
    early = await sim.client.patch(
        f"/task/{task_id}/status", json={"status": "approved"}, headers=AUTH
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "CONFLICT"
    sim.clock.now += 10 * STEP
    waiting = await sim.task(task_id)
    assert codes(waiting) == ["received", "review"]
    assert waiting["properties"]["transactionStatus"] == "pending-customer-approval"
    assert waiting["properties"]["order"]["summary"]["total"] == "$2,000.00"
    approved = await sim.client.patch(
        f"/task/{task_id}/status", json={"status": "approved"}, headers=AUTH
    )
    assert approved.status_code == 200, approved.text
    assert codes(approved.json())[-1] == "submitted"
    assert approved.json()["properties"]["transactionStatus"] == "in-progress"
    again = await sim.client.patch(
        f"/task/{task_id}/status", json={"status": "approved"}, headers=AUTH
    )
    assert again.status_code == 409


async def test_cancel_is_allowed_until_completion_only(sim: Sim) -> None:
    task_id = (await create(sim))["properties"]["taskingrequestId"]
    sim.clock.now += STEP
    canceled = await sim.client.patch(
        f"/task/{task_id}/status", json={"status": "canceled"}, headers=AUTH
    )
    assert canceled.status_code == 200
    assert codes(canceled.json())[-1] == "canceled"
    sim.clock.now += 10 * STEP
    assert codes(await sim.task(task_id))[-1] == "canceled", "a canceled request stays so"
    done_id = (await create(sim))["properties"]["taskingrequestId"]
    sim.clock.now += 4 * STEP
    late = await sim.client.patch(
        f"/task/{done_id}/status", json={"status": "canceled"}, headers=AUTH
    )
    assert late.status_code == 409 and "completed" in late.json()["error"]["message"]
    bad = await sim.client.patch(f"/task/{done_id}/status", json={"status": "paused"}, headers=AUTH)
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"collectionTier": "asap"}, "collectionTier"),
        ({"collectionType": "panorama"}, "collectionType"),
        ({"archiveHoldback": "2_year"}, "archiveHoldback"),
        ({"windowClose": iso_ms(T0 - 60)}, "windowClose"),
        ({"windowOpen": "yesterday"}, "windowOpen"),
        ({"collectConstraints": {"lookDirection": "up"}}, "lookDirection"),
        ({"collectConstraints": {"offNadirMin": 40, "offNadirMax": 20}}, "offNadirMax"),
        ({"collectConstraints": {"offNadirMax": 75}}, "offNadirMax"),
        ({"collectConstraints": {"orbitalPlanes": [12]}}, "orbitalPlanes"),
        ({"pre_approval": "yes"}, "pre_approval"),
    ],
)
async def test_native_validation_names_the_field(
    sim: Sim, props: dict[str, Any], field: str
) -> None:
    response = await sim.client.post("/task", json=body(**props), headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and field in error["message"]
    assert not sim.book.tasks


async def test_bad_geometry_contract_and_key_are_refused(sim: Sim) -> None:
    line = {**body(), "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
    assert (await sim.client.post("/task", json=line, headers=AUTH)).status_code == 400
    foreign = {**body(), "contractId": "not-mine"}
    response = await sim.client.post("/task", json=foreign, headers=AUTH)
    assert response.status_code == 404 and response.json()["error"]["code"] == "CONTRACT_NOT_FOUND"
    assert (await sim.client.post("/task", json=body())).status_code == 401
    assert (await sim.client.post("/task", content=b"{", headers=AUTH)).status_code == 400


async def test_tiers_and_types_price_differently(sim: Sim) -> None:
    urgent = await create(sim, collectionTier="urgent", collectionType="stripmap_20")
    flexible = await create(sim, collectionTier="flexible", collectionType="spotlight_ultra")
    sim.clock.now += STEP
    totals = [
        (await sim.task(t["properties"]["taskingrequestId"]))["properties"]["order"]["summary"]
        for t in (urgent, flexible)
    ]
    assert [t["total"] for t in totals] == ["$4,500.00", "$2,250.00"]


async def test_rejections_failures_and_funds() -> None:
    for extra, final in (
        ({"capella_task_reject_rate": 1.0}, "rejected"),
        ({"capella_task_fail_rate": 1.0}, "failed"),
        ({"capella_budget_usd": 100}, "rejected"),
    ):
        app, clock = await make_sim(**extra)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            sim = Sim(app, c, clock)
            task_id = (await create(sim))["properties"]["taskingrequestId"]
            clock.now += 10 * STEP
            task = await sim.task(task_id)
            assert codes(task)[-1] == final, extra
            assert not task_id_items(sim, task_id)


def task_id_items(sim: Sim, task_id: str) -> list[str]:
    return sim.book.tasks[task_id].item_ids


async def test_an_unapproved_request_expires_with_its_window(sim: Sim) -> None:
    close = iso_ms(T0 + 3600)
    task_id = (await create(sim, pre_approval=False, windowClose=close))["properties"][
        "taskingrequestId"
    ]
    sim.clock.now += 3601
    assert codes(await sim.task(task_id))[-1] == "expired"


async def test_a_future_window_waits_for_its_opening(sim: Sim) -> None:
    opens = T0 + 86400
    created = await create(sim, windowOpen=iso_ms(opens), windowClose=iso_ms(opens + 86400))
    task_id = created["properties"]["taskingrequestId"]
    sim.clock.now += 10 * STEP
    assert codes(await sim.task(task_id))[-1] == "accepted"
    sim.clock.now = opens + STEP
    assert codes(await sim.task(task_id))[-1] == "completed"


async def test_delivered_collects_are_in_the_archive_and_can_be_ordered(sim: Sim) -> None:
    created = await create(
        sim,
        collectConstraints={"lookDirection": "left", "ascDsc": "descending", "polarization": "VV"},
    )
    task_id = created["properties"]["taskingrequestId"]
    early = await sim.client.get(f"/collects/list/{task_id}", headers=AUTH)
    assert early.status_code == 200 and early.json() == []
    not_yet = await sim.client.post(f"/orders/task/{task_id}", headers=AUTH)
    assert not_yet.status_code == 409
    sim.clock.now += 3 * STEP
    collects = (await sim.client.get(f"/collects/list/{task_id}", headers=AUTH)).json()
    assert len(collects) == 1 and collects[0]["taskingrequestId"] == task_id
    collect_id = collects[0]["collectId"]
    found = await sim.client.post(
        "/catalog/search",
        json={"query": {"capella:collect_id": {"eq": collect_id}}, "limit": 10},
        headers=AUTH,
    )
    features = found.json()["features"]
    assert {f["collection"] for f in features} == {
        "capella-slc",
        "capella-geo",
        "capella-gec",
        "capella-sicd",
    }
    geo = next(f for f in features if f["collection"] == "capella-geo")
    props = geo["properties"]
    assert props["capella:collection_type"] == "spotlight"
    assert props["sar:observation_direction"] == "left"
    assert props["sat:orbit_state"] == "descending" and props["sar:polarizations"] == ["VV"]
    assert props["created"] == iso_ms(T0 + 3 * STEP), "catalogued when delivered"
    assert iso_ms(T0 + 2 * STEP) <= props["start_datetime"][:23] + "Z" <= iso_ms(T0 + 3 * STEP)
    owned = await sim.client.post(
        "/catalog/search",
        json={"ownership": "ownedByOrganization", "ids": [geo["id"]]},
        headers=AUTH,
    )
    assert [f["id"] for f in owned.json()["features"]] == [geo["id"]]
    order = await sim.client.post(f"/orders/task/{task_id}", headers=AUTH)
    assert order.status_code == 201, order.text
    assert order.json()["orderStatus"] == "completed", "the task paid for its products"
    assert all(i["previouslyOrdered"] for i in order.json()["items"])
    order_id = order.json()["orderId"]
    download = await sim.client.get(f"/orders/{order_id}/download", headers=AUTH)
    assert download.status_code == 200
    product = next(p for p in download.json() if p["id"] == geo["id"])
    tif = await sim.client.get(product["assets"]["VV"]["href"])
    assert tif.status_code == 200 and tif.content[:4] in TIFF


async def test_another_organization_sees_nothing(sim: Sim) -> None:
    task_id = (await create(sim))["properties"]["taskingrequestId"]
    assert (await sim.client.get(f"/task/{task_id}", headers=OTHER)).status_code == 404
    patch = await sim.client.patch(
        f"/task/{task_id}/status", json={"status": "canceled"}, headers=OTHER
    )
    assert patch.status_code == 404
    mine = await sim.client.post("/tasks/search", json={}, headers=OTHER)
    assert mine.json()["results"] == []


async def test_search_and_paged_listing(sim: Sim) -> None:
    ids = [(await create(sim))["properties"]["taskingrequestId"] for _ in range(3)]
    sim.clock.now += 1
    user = (await sim.client.get("/user", headers=AUTH)).json()
    page = await sim.client.post(
        "/tasks/search?page=1&limit=2",
        json={"query": {"userId": user["id"], "lastStatusCode": {"eq": "received"}}},
        headers=AUTH,
    )
    assert page.status_code == 200
    assert page.json()["totalPages"] == 2 and len(page.json()["results"]) == 2
    by_id = await sim.client.post(
        "/tasks/search", json={"query": {"taskingrequestIds": [ids[1]]}}, headers=AUTH
    )
    assert [r["properties"]["taskingrequestId"] for r in by_id.json()["results"]] == [ids[1]]
    unknown = await sim.client.post("/tasks/search", json={"query": {"color": "red"}}, headers=AUTH)
    assert unknown.status_code == 400
    paged = await sim.client.post(
        f"/tasks/paged?page=1&limit=100&organizationId={user['organizationId']}", headers=AUTH
    )
    assert [r["properties"]["taskingrequestId"] for r in paged.json()["results"]] == ids[::-1]
    foreign = await sim.client.post("/tasks/paged?organizationId=someone-else", headers=AUTH)
    assert foreign.status_code == 403


async def test_name_description_and_attributes_can_be_updated(sim: Sim) -> None:
    task_id = (await create(sim))["properties"]["taskingrequestId"]
    changes = {"taskingrequestName": "renamed", "customAttribute2": "team-b"}
    updated = await sim.client.patch(f"/task/{task_id}", json={"properties": changes}, headers=AUTH)
    assert updated.status_code == 200
    props = (await sim.task(task_id))["properties"]
    assert props["taskingrequestName"] == "renamed" and props["customAttribute2"] == "team-b"
    window = {"properties": {"windowClose": iso_ms(T0 + 60)}}
    refused = await sim.client.patch(f"/task/{task_id}", json=window, headers=AUTH)
    assert refused.status_code == 400 and "windowClose" in refused.json()["error"]["message"]
