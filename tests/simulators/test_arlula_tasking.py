"""The Arlula simulator's tasking side: search (results, per-supplier errors, validation),
ordering (prices, refusals), campaigns over time (statuses, rejection and failure rates)
and the capture joining the archive, downloadable as archive datasets are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app
from bridge.simulators.arlula.tasking import CLOUD_LEVELS, PRIORITIES
from tests.support.clock import ManualClock
from tests.support.wiring import simulator_config

AUTH = (DEMO_KEY, DEMO_SECRET)
START = 1_780_000_000.0
STEP = 10.0
HELSINKI = {"north": 60.22, "south": 60.12, "east": 25.05, "west": 24.85}


def make_app(clock: ManualClock, **extra: Any) -> Starlette:
    settings = {"arlula_tasking_step_s": STEP, **extra}
    return create_app(simulator_config(extra=settings, clock=clock))


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def search_body(**extra: Any) -> dict[str, Any]:
    return {
        "start": iso(START + 86400),
        "end": iso(START + 8 * 86400),
        "gsd": 1.0,
        "offNadir": 30,
        "boundingBox": HELSINKI,
        **extra,
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def client(clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://arlula.test", auth=AUTH
    ) as c:
        yield c


async def search(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/tasking/search", json=search_body(**extra))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def order_body(result: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": result["orderingID"],
        "eula": result["licenses"][0]["href"],
        "bundleKey": result["bundles"][0]["key"],
        "cloud": result["cloud"][0]["max"],
        "priorityKey": result["priorities"][0]["key"],
        "webhooks": [],
        "emails": [],
        **extra,
    }


async def test_search_answers_one_result_per_supplier_at_the_gsd(client: httpx.AsyncClient) -> None:
    body = await search(client)
    suppliers = {r["supplier"] for r in body["results"]}
    assert suppliers == {"maxar", "siis", "21at", "satellogic"}  # airbus is 1.5 m
    result = next(r for r in body["results"] if r["supplier"] == "maxar")
    assert result["gsd"] <= 1.0
    assert set(result["metrics"]) == {"windowsAvailable", "windowsRequired", "orderArea", "moq"}
    assert result["metrics"]["orderArea"] >= result["metrics"]["moq"]
    assert [p["key"] for p in result["priorities"]] == [p[0] for p in PRIORITIES]
    assert [c["max"] for c in result["cloud"]] == [c[1] for c in CLOUD_LEVELS]
    assert result["startDate"].startswith(iso(START + 86400)[:19])
    assert all(b["price"] > 0 and b["price"] % 100 == 0 for b in result["bundles"])
    assert body["errors"] == []


async def test_a_point_search_is_inflated_to_the_moq(client: httpx.AsyncClient) -> None:
    body = {**search_body(), "latLong": {"latitude": 60.17, "longitude": 24.94}}
    del body["boundingBox"]
    result = (await client.post("/api/tasking/search", json=body)).json()["results"][0]
    assert result["metrics"]["orderArea"] == pytest.approx(result["metrics"]["moq"], rel=0.05)
    assert result["annotations"] and result["annotations"][0].startswith("PONT")


async def test_suppliers_that_cannot_serve_leave_errors(clock: ManualClock) -> None:
    app = make_app(clock, arlula_failing_suppliers=["siis"], arlula_tasking_max_area_km2=200)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test", auth=AUTH) as c:
        body = await search(c)
        errors = {e["supplier"]: e["type"] for e in body["errors"]}
        assert errors["siis"] == "supplier-error"
        assert {"maxar", "satellogic"} <= {r["supplier"] for r in body["results"]}
        big = {"north": 61.0, "south": 60.0, "east": 26.0, "west": 24.0}
        wide = await search(c, boundingBox=big)
        assert wide["results"] == []
        assert {e["type"] for e in wide["errors"]} == {"too-large", "supplier-error"}
        short = await search(c, end=iso(START + 86400 + 3600))
        assert {e["type"] for e in short["errors"]} >= {"too-short"}
        few = await search(c, offNadir=1, end=iso(START + 2 * 86400))
        assert "insufficient-los" in {e["type"] for e in few["errors"]}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"start": iso(START - 60)}, "Start date must be in the future"),
        ({"end": iso(START + 3600)}, "End date must be after start date"),
        ({"gsd": None}, "gsd is required"),
        ({"boundingBox": None}, "one of polygon, boundingBox or latLong is required"),
        ({"offNadir": 80}, "offNadir"),
        ({"start": "tomorrow"}, "Invalid start"),
    ],
)
async def test_invalid_searches_are_400_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], needle: str
) -> None:
    body = {k: v for k, v in {**search_body(), **change}.items() if v is not None}
    if "start" in change and change["start"] == iso(START - 60):
        body["end"] = iso(START + 86400)
    response = await client.post("/api/tasking/search", json=body)
    assert response.status_code == 400
    assert any(needle in e for e in response.json()["errors"]), response.text


async def test_order_price_adds_license_priority_and_cloud_loadings(
    client: httpx.AsyncClient,
) -> None:
    result = (await search(client))["results"][0]
    bundle, license = result["bundles"][1], result["licenses"][2]
    priority, cloud = result["priorities"][2], result["cloud"][1]
    percent = 1 + (license["loadingPercent"] + priority["loadingPercent"]
                   + cloud["loadingPercent"]) / 100  # fmt: skip
    fixed = license["loadingAmount"] + priority["loadingAmount"] + cloud["loadingAmount"]
    expected = -(-(bundle["price"] * percent + fixed) // 100) * 100
    body = order_body(result, bundleKey=bundle["key"], eula=license["href"],
                      priorityKey=priority["key"], cloud=cloud["max"])  # fmt: skip
    placed = await client.post("/api/tasking/order", json=body)
    assert placed.status_code == 200, placed.text
    order = placed.json()
    campaign = order["campaigns"][0]
    assert order["total"] == campaign["total"] == int(expected)
    assert campaign["priority"] == "urgent" and campaign["cloud"] == cloud["max"]
    assert campaign["orderingID"] == result["orderingID"] and order["datasets"] == []


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"id": "not-an-id"}, 422, "`id`"),
        ({"eula": "https://example.com/eula"}, 412, "`eula`"),
        ({"bundleKey": "nope"}, 422, "`bundleKey`"),
        ({"priorityKey": "nope"}, 422, "`priorityKey`"),
        ({"cloud": 55}, 422, "`cloud`"),
        ({"cloud": None}, 400, "cloud is required"),
        ({"team": "other"}, 403, "team"),
    ],
)
async def test_order_refusals(
    client: httpx.AsyncClient, change: dict[str, Any], status: int, needle: str
) -> None:
    result = (await search(client))["results"][0]
    body = {k: v for k, v in order_body(result, **change).items() if v is not None}
    response = await client.post("/api/tasking/order", json=body)
    assert response.status_code == status and needle in response.text


async def test_an_order_after_the_window_started_is_refused(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    result = (await search(client))["results"][0]
    clock.now += 2 * 86400
    response = await client.post("/api/tasking/order", json=order_body(result))
    assert response.status_code == 422 and "search again" in response.text


async def test_not_enough_credit_is_402(clock: ManualClock) -> None:
    app = make_app(clock, arlula_balance_cents=100)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test", auth=AUTH) as c:
        result = (await search(c))["results"][0]
        assert (await c.post("/api/tasking/order", json=order_body(result))).status_code == 402


async def test_campaign_moves_through_statuses_and_its_capture_joins_the_archive(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    result = next(r for r in (await search(client))["results"] if r["supplier"] == "maxar")
    order = (await client.post("/api/tasking/order", json=order_body(result))).json()
    campaign_id = order["campaigns"][0]["id"]
    seen = []
    for _ in range(4):
        campaign = (await client.get(f"/api/campaign/{campaign_id}")).json()
        seen.append(campaign["status"])
        clock.now += STEP
    assert seen == ["pending", "processing", "post-processing", "complete"]
    listed = (await client.get("/api/campaigns")).json()
    assert [c["id"] for c in listed["content"]] == [campaign_id] and listed["count"] == 1
    by_order = (await client.get(f"/api/order/{order['id']}/campaigns")).json()
    assert by_order["content"][0]["id"] == campaign_id
    datasets = (await client.get(f"/api/campaign/{campaign_id}/datasets")).json()["content"]
    assert len(datasets) == 1 and datasets[0]["campaign"] == campaign_id
    assert datasets[0]["type"] == "tasking" and datasets[0]["supplier"] == "maxar"
    done = (await client.get(f"/api/order/{order['id']}")).json()
    assert done["status"] == "complete"
    tif = next(r for r in done["datasets"][0]["resources"] if r["type"] == "img_tiff")
    redirect = await client.get(f"/api/resource/{tif['id']}/data")
    assert redirect.status_code == 302
    data = await client.get(redirect.headers["location"], auth=None)
    assert data.status_code == 200 and data.content[:4] in (b"II*\x00", b"MM\x00*")
    today = datetime.fromtimestamp(clock.now, UTC).date()
    archive = {
        "start": (today - timedelta(days=1)).isoformat(),
        "end": today.isoformat(),
        "gsd": 1.0,
        "supplier": "maxar",
        "boundingBox": HELSINKI,
    }
    found = (await client.post("/api/archive/search", json=archive)).json()["results"]
    assert datasets[0]["sceneID"] in {r["sceneID"] for r in found}


@pytest.mark.parametrize(
    ("rates", "final"),
    [
        ({"arlula_tasking_reject_rate": 1.0}, "rejected"),
        ({"arlula_tasking_fail_rate": 1.0}, "failed"),
    ],
)
async def test_rejection_and_failure_rates_refund_the_campaign(
    clock: ManualClock, rates: dict[str, float], final: str
) -> None:
    app = make_app(clock, **rates)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test", auth=AUTH) as c:
        result = (await search(c))["results"][0]
        order = (await c.post("/api/tasking/order", json=order_body(result))).json()
        clock.now += 5 * STEP
        campaign = (await c.get(f"/api/campaign/{order['campaigns'][0]['id']}")).json()
        assert campaign["status"] == final
        assert campaign["refunded"] == campaign["total"]
        assert (await c.get(f"/api/campaign/{campaign['id']}/datasets")).json()["count"] == 0


async def test_unknown_campaign_and_bad_credentials(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/campaign/nope")).status_code == 404
    refused = await client.post("/api/tasking/search", json=search_body(), auth=("x", "y"))
    assert refused.status_code == 401


def test_unknown_arlula_settings_fail_loudly(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="tasking_stepp_s"):
        make_app(clock, arlula_tasking_stepp_s=1)


async def test_orders_awaiting_approval_can_be_cancelled_only_then(clock: ManualClock) -> None:
    app = make_app(clock, arlula_approval_above_cents=0, arlula_approval_s=30)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test", auth=AUTH) as c:
        results = (await search(c))["results"]
        first = await c.post("/api/tasking/order", json=order_body(results[0]))
        assert first.status_code == 202
        assert first.json()["campaigns"][0]["status"] == "pending-approval"
        cancelled = await c.delete("/api/tasking/cancel", params={"id": first.json()["id"]})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["refunded"] == cancelled.json()["total"]
        second = (await c.post("/api/tasking/order", json=order_body(results[1]))).json()
        clock.now += 30
        late = await c.delete("/api/tasking/cancel", params={"id": second["id"]})
        assert late.status_code == 405 and "Cannot cancel" in late.text
        campaign = (await c.get(f"/api/campaign/{second['campaigns'][0]['id']}")).json()
        assert campaign["status"] == "pending"
        assert (await c.delete("/api/tasking/cancel", params={"id": "nope"})).status_code == 400


async def test_tasking_get_returns_the_result_an_ordering_id_names(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    result = (await search(client))["results"][0]
    again = await client.post("/api/tasking/get", json={"id": result["orderingID"]})
    assert again.status_code == 200 and again.json() == result
    assert (await client.post("/api/tasking/get", json={"id": "x"})).status_code == 400
    clock.now += 2 * 86400
    assert (
        await client.post("/api/tasking/get", json={"id": result["orderingID"]})
    ).status_code == 400


async def test_a_batch_is_one_order_with_a_campaign_per_result(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    results = (await search(client))["results"]
    body = {
        "orders": [order_body(r) for r in results[:2]],
        "webhooks": [],
        "emails": ["ops@example.com"],
    }
    placed = await client.post("/api/tasking/order/batch", json=body)
    assert placed.status_code == 200, placed.text
    order = placed.json()
    assert len(order["campaigns"]) == 2
    assert order["total"] == sum(c["total"] for c in order["campaigns"])
    clock.now += 3 * STEP
    done = (await client.get(f"/api/order/{order['id']}")).json()
    assert done["status"] == "complete" and len(done["datasets"]) == 2
    for campaign in order["campaigns"]:
        rows = (await client.get(f"/api/campaign/{campaign['id']}/datasets")).json()["content"]
        assert [d["campaign"] for d in rows] == [campaign["id"]]
    bad = {"orders": [order_body(results[0]), order_body(results[1], bundleKey="nope")]}
    refused = await client.post("/api/tasking/order/batch", json=bad)
    assert refused.status_code == 422 and refused.text.startswith("orders[1]: ")
    assert (await client.get("/api/campaigns")).json()["count"] == 2


async def test_sandbox_defaults_complete_a_campaign_within_seconds(clock: ManualClock) -> None:
    app = create_app(simulator_config(clock=clock))  # no tasking knobs: the sandbox's
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test", auth=AUTH) as c:
        result = (await search(c))["results"][0]
        order = (await c.post("/api/tasking/order", json=order_body(result))).json()
        clock.now = START + 11.9
        assert (await c.get(f"/api/order/{order['id']}")).json()["status"] != "complete"
        clock.now = START + 12
        assert (await c.get(f"/api/order/{order['id']}")).json()["status"] == "complete"
