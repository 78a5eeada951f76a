"""The ICEYE simulator's Tasking API v2: validation, statuses over time, cancel rules,
prices, feasibility, task products found by the catalog and downloaded as COGs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bridge.simulators.iceye import create_app, sandbox_settings
from tests.support import wiring
from tests.support.clock import ManualClock

BASE = "http://iceye.simulator"
SETTINGS = sandbox_settings(BASE)
CONTRACT = SETTINGS["contract_id"]
TASKS = "/api/tasking/v2/tasks"
STEP = 10.0
HOUR = 3600.0


def _app(**extra: Any) -> Starlette:
    config = wiring.simulator_config(
        extra={"iceye_task_step_s": STEP, **extra}, clock=ManualClock(time.time())
    )
    return create_app(config)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def task_body(app: Starlette, **changes: Any) -> dict[str, Any]:
    now = app.state.clock()
    body: dict[str, Any] = {
        "contractID": CONTRACT,
        "pointOfInterest": {"lat": 60.1699, "lon": 24.9384},
        "acquisitionWindow": {"start": _iso(now + 2 * HOUR), "end": _iso(now + 50 * HOUR)},
        "imagingMode": "SPOTLIGHT",
        "reference": "bridge-order-1",
    }
    body.update(changes)
    return body


@pytest.fixture
def app() -> Starlette:
    return _app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    token = await c.post(
        SETTINGS["auth_url"],
        data={"grant_type": "client_credentials"},
        auth=(SETTINGS["client_id"], SETTINGS["client_secret"]),
    )
    c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    yield c
    await c.aclose()


async def _create(c: httpx.AsyncClient, app: Starlette, **changes: Any) -> dict[str, Any]:
    response = await c.post(TASKS, json=task_body(app, **changes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_answers_201_with_the_task_received(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    task = await _create(client, app)
    assert task["status"] == "RECEIVED"
    assert task["reference"] == "bridge-order-1"
    assert task["productTypes"] == ["GRD", "SLC"]
    assert task["eula"] == "STANDARD"
    assert task["contractID"] == CONTRACT
    listed = (await client.get(TASKS)).json()
    assert [t["id"] for t in listed["data"]] == [task["id"]]
    assert (await client.get(f"{TASKS}/{task['id']}")).json() == task


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"acquisitionWindow": None}, "acquisitionWindow"),
        ({"imagingMode": "SPOTLIGHT_HIGH"}, "imagingMode"),
        ({"pointOfInterest": {"lat": 95, "lon": 0}}, "pointOfInterest.lat"),
        ({"priority": "URGENT"}, "priority"),
        ({"productTypes": ["JPEG"]}, "productTypes"),
        ({"incidenceAngle": {"min": 40, "max": 20}}, "incidenceAngle.min"),
    ],
)
async def test_invalid_bodies_are_problem_details_naming_the_field(
    app: Starlette, client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    response = await client.post(
        TASKS,
        json=task_body(app, **change),
        headers={"Accept": "application/json, application/problem+json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "BAD_REQUEST"
    assert field in problem["details"]


async def test_window_rules_24h_wide_and_14_days_ahead(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    now = app.state.clock()
    narrow = {"start": _iso(now + HOUR), "end": _iso(now + 20 * HOUR)}
    far = {"start": _iso(now + HOUR), "end": _iso(now + 15 * 24 * HOUR)}
    past = {"start": _iso(now - HOUR), "end": _iso(now + 30 * HOUR)}
    for window, words in ((narrow, "24h"), (far, "14 days"), (past, "past")):
        response = await client.post(TASKS, json=task_body(app, acquisitionWindow=window))
        assert response.status_code == 400
        assert words in response.json()["message"]


async def test_a_contract_not_held_is_forbidden(app: Starlette, client: httpx.AsyncClient) -> None:
    response = await client.post(TASKS, json=task_body(app, contractID="someone-elses"))
    assert response.status_code == 403


async def test_statuses_move_over_time_and_products_join_the_catalog(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    task = await _create(client, app, productTypes=["GRD", "SLC", "SICD"])
    url = f"{TASKS}/{task['id']}"
    assert (await client.get(f"{url}/scene")).status_code == 404
    assert (await client.get(f"{url}/products")).status_code == 404
    seen = []
    for _ in range(4):
        seen.append((await client.get(url)).json()["status"])
        if seen[-1] == "ACTIVE":
            scene = (await client.get(f"{url}/scene")).json()
            assert scene["footprint"]["type"] == "Polygon"
            assert scene["lookSide"] in ("LEFT", "RIGHT") and scene["duration"] > 0
        if seen[-1] == "FULFILLED":
            ready = (await client.get(f"{url}/products")).json()["data"]
            assert sorted(p["properties"]["sar:product_type"] for p in ready) == ["GRD", "SLC"]
        app.state.clock.now += STEP
    assert seen == ["RECEIVED", "ACTIVE", "FULFILLED", "DONE"]
    products = (await client.get(f"{url}/products")).json()["data"]
    assert sorted(p["properties"]["sar:product_type"] for p in products) == ["GRD", "SICD", "SLC"]
    grd = (await client.get(f"{url}/products/GRD")).json()["data"]
    assert [p["properties"]["sar:product_type"] for p in grd] == ["GRD"]
    assert grd[0]["collection"] == "tasking"
    # The acquired products are found by the catalog search, in the public catalog too.
    ids = [p["id"] for p in products]
    found = await client.post(
        "/api/catalog/v2/search", json={"ids": ids, "collections": ["public"]}
    )
    assert sorted(i["id"] for i in found.json()["data"]) == sorted(ids)
    assert all(
        i["properties"]["iceye:acquisition_mode"] == "spotlight" for i in found.json()["data"]
    )
    href = grd[0]["assets"]["grd-tif"]["href"]
    data = await client.get(href.replace(BASE, ""), headers={"Authorization": ""})
    assert data.status_code == 200
    assert data.content[:4] in (b"II*\x00", b"MM\x00*")


async def test_without_extra_products_active_goes_straight_to_done(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    task = await _create(client, app)
    app.state.clock.now += 2 * STEP
    assert (await client.get(f"{TASKS}/{task['id']}")).json()["status"] == "DONE"


async def test_tasked_products_stay_private_to_their_owner(app: Starlette) -> None:
    app.state.auth.clients["other"] = "other-secret"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        mine = await c.post(
            SETTINGS["auth_url"],
            data={"grant_type": "client_credentials"},
            auth=(SETTINGS["client_id"], SETTINGS["client_secret"]),
        )
        c.headers["Authorization"] = f"Bearer {mine.json()['access_token']}"
        task = await _create(c, app)
        app.state.clock.now += 3 * STEP
        ids = [p["id"] for p in (await c.get(f"{TASKS}/{task['id']}/products")).json()["data"]]
        other = await c.post(
            SETTINGS["auth_url"],
            data={"grant_type": "client_credentials"},
            auth=("other", "other-secret"),
        )
        c.headers["Authorization"] = f"Bearer {other.json()['access_token']}"
        found = await c.post("/api/catalog/v2/search", json={"ids": ids})
        assert found.json()["data"] == []
        assert (await c.get(f"{TASKS}/{task['id']}")).status_code == 404


async def test_cancel_only_received_or_active(app: Starlette, client: httpx.AsyncClient) -> None:
    first = await _create(client, app)
    app.state.clock.now += STEP  # ACTIVE
    canceled = await client.patch(f"{TASKS}/{first['id']}", json={"status": "CANCELED"})
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "CANCELED"
    app.state.clock.now += 5 * STEP
    assert (await client.get(f"{TASKS}/{first['id']}")).json()["status"] == "CANCELED"
    assert (await client.get(f"{TASKS}/{first['id']}/scene")).status_code == 404
    assert (await client.get(f"{TASKS}/{first['id']}/products")).status_code == 404
    second = await _create(client, app)
    bad = await client.patch(f"{TASKS}/{second['id']}", json={"status": "DONE"})
    assert bad.status_code == 400
    app.state.clock.now += 2 * STEP  # DONE
    late = await client.patch(f"{TASKS}/{second['id']}", json={"status": "CANCELED"})
    assert late.status_code == 409
    assert "only RECEIVED or ACTIVE" in late.json()["message"]


async def test_rejection_and_failure_rates() -> None:
    for extra, outcome in (
        ({"iceye_task_reject_rate": 1.0}, ["RECEIVED", "REJECTED"]),
        ({"iceye_task_fail_rate": 1.0}, ["RECEIVED", "ACTIVE", "FAILED"]),
    ):
        app = _app(**extra)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
            token = await c.post(
                SETTINGS["auth_url"],
                data={"grant_type": "client_credentials"},
                auth=(SETTINGS["client_id"], SETTINGS["client_secret"]),
            )
            c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            task = await _create(c, app)
            seen = []
            for _ in range(len(outcome)):
                seen.append((await c.get(f"{TASKS}/{task['id']}")).json()["status"])
                app.state.clock.now += STEP
            assert seen == outcome


async def test_price_by_query_parameters(app: Starlette, client: httpx.AsyncClient) -> None:
    params = {
        "contractID": CONTRACT,
        "pointOfInterest[lat]": "60.1",
        "pointOfInterest[lon]": "24.9",
        "imagingMode": "SPOTLIGHT",
    }
    price = await client.get("/api/tasking/v2/price", params=params)
    assert price.json() == {"amount": 450_000, "currency": "EUR"}
    background = await client.get(
        "/api/tasking/v2/price", params={**params, "priority": "BACKGROUND"}
    )
    assert background.json()["amount"] < price.json()["amount"]
    missing = await client.get("/api/tasking/v2/price", params={"contractID": CONTRACT})
    assert missing.status_code == 400
    assert "pointOfInterest" in missing.json()["message"]


async def test_a_contract_without_pricing_plan_gets_no_price() -> None:
    app = _app(iceye_unpriced_contracts=[CONTRACT])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        token = await c.post(
            SETTINGS["auth_url"],
            data={"grant_type": "client_credentials"},
            auth=(SETTINGS["client_id"], SETTINGS["client_secret"]),
        )
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        params = {
            "contractID": CONTRACT,
            "pointOfInterest[lat]": "1",
            "pointOfInterest[lon]": "2",
            "imagingMode": "SCAN",
        }
        response = await c.get("/api/tasking/v2/price", params=params)
        assert response.status_code == 400
        assert response.json()["code"] == "OUT_OF_BOUND_CONTRACT"


async def test_feasibility_takes_an_array_and_honours_constraints(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    loose = task_body(app)
    strict = task_body(app, incidenceAngle={"min": 30, "max": 31}, lookSide="LEFT")
    response = await client.post("/api/tasking/v2/feasibility", json=[loose, strict])
    assert response.status_code == 200
    answers = response.json()["data"]
    assert len(answers) == 2
    assert answers[0]["feasible"] is True
    assert len(answers[1]["opportunities"]) <= len(answers[0]["opportunities"])
    for opportunity in answers[1]["opportunities"]:
        assert 30 <= opportunity["incidenceAngle"] <= 31
        assert opportunity["lookSide"] == "LEFT"
    bad = await client.post("/api/tasking/v2/feasibility", json=[{"contractID": CONTRACT}])
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("[0].pointOfInterest")
    assert (await client.post("/api/tasking/v2/feasibility", json={})).status_code == 400


async def test_unknown_settings_fail_loudly() -> None:
    with pytest.raises(ValueError, match="task_stepp_s"):
        _app(iceye_task_stepp_s=1)


async def test_a_task_over_budget_is_refused_with_402() -> None:
    app = _app(iceye_task_budgets={CONTRACT: 500_000})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        token = await c.post(
            SETTINGS["auth_url"],
            data={"grant_type": "client_credentials"},
            auth=(SETTINGS["client_id"], SETTINGS["client_secret"]),
        )
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        first = await _create(c, app)  # 450,000 of 500,000
        refused = await c.post(TASKS, json=task_body(app))
        assert refused.status_code == 402
        assert refused.json()["code"] == "BUDGET_EXCEEDED"
        assert "50000" in refused.json()["message"]
        await c.patch(f"{TASKS}/{first['id']}", json={"status": "CANCELED"})
        assert (await c.post(TASKS, json=task_body(app))).status_code == 201
