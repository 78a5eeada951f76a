"""The Arlula simulator's order side: placing orders (both generations), the status
timeline, errors, balance, approval, downloads through signed storage URLs, expiry,
webhooks and per-item order stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import orjson
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from starlette.applications import Starlette

from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app
from bridge.simulators.arlula.orders import MONTH_S
from bridge.simulators.arlula.orders_api import stats_key
from tests.support.clock import ManualClock
from tests.support.wiring import simulator_config

AUTH = (DEMO_KEY, DEMO_SECRET)
HELSINKI = {"north": 60.4, "south": 60.0, "east": 25.5, "west": 24.5}
STEP = 10.0  # seconds per status step on the fake clock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_780_000_000.0)


def make_app(clock: ManualClock | None = None, **extra: Any) -> Starlette:
    settings: dict[str, Any] = {"arlula_order_step_s": STEP, **extra}
    if clock is None:
        return create_app(simulator_config(extra=settings))
    return create_app(simulator_config(extra=settings, clock=clock))


@pytest.fixture
async def app(clock: ManualClock) -> AsyncIterator[Starlette]:
    application = make_app(clock)
    yield application
    for task in list(application.state.webhook_tasks):
        task.cancel()


async def open_client(app: Starlette, version: str = "2023-01") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://arlula.test",
        auth=AUTH,
        headers={"X-API-Version": version},
    )


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with await open_client(app) as c:
        yield c


async def results(client: httpx.AsyncClient, supplier: str = "maxar") -> list[dict[str, Any]]:
    body = {"start": "2019-01-01", "end": "2026-12-31", "gsd": 100, "boundingBox": HELSINKI}
    body["supplier"] = supplier
    response = await client.post("/api/archive/search", content=orjson.dumps(body))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["results"]
    assert found
    return found


def whole_scene(results: list[dict[str, Any]]) -> dict[str, Any]:
    """A result priced for its whole scene (as the adapter's margin searches get them)."""
    return next(r for r in results if any(a.startswith(("COVR", "NAOI")) for a in r["annotations"]))


async def order(client: httpx.AsyncClient, result: dict[str, Any], **extra: Any) -> httpx.Response:
    body = {
        "id": result["orderingID"],
        "eula": result["licenses"][0]["href"],
        "bundleKey": result["bundles"][0]["key"],
        "webhooks": [],
        "emails": [],
        **extra,
    }
    # Like the SDK: JSON without a Content-Type header.
    return await client.post("/api/archive/order", content=orjson.dumps(body))


async def test_order_moves_through_the_documented_statuses(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    result = whole_scene(await results(client))
    placed = await order(client, result)
    assert placed.status_code == 200, placed.text
    body = placed.json()
    assert {"id", "createdAt", "updatedAt", "status", "total", "discount", "tax",
            "paymentMethod", "datasets"} <= body.keys()  # fmt: skip
    assert body["status"] == "pending" and body["total"] == result["bundles"][0]["price"]
    dataset = body["datasets"][0]
    assert dataset["sceneID"] == result["sceneID"] and dataset["orderingID"] == result["orderingID"]
    assert dataset["expiration"] is None and dataset["resources"] == []
    seen = []
    for _ in range(4):
        got = (await client.get(f"/api/order/{body['id']}")).json()
        seen.append(got["status"])
        clock.now += STEP
    assert seen == ["pending", "processing", "post-processing", "complete"]
    done = (await client.get(f"/api/order/{body['id']}")).json()
    resources = done["datasets"][0]["resources"]
    assert [r["type"] for r in resources] == ["img_tiff", "thumb", "meta_json"]
    assert all(r["size"] > 0 and r["checksum"].startswith("md5:") for r in resources)
    expiration = done["datasets"][0]["expiration"]
    assert expiration is not None
    listed = (await client.get("/api/orders", params={"page": 0, "size": 5})).json()
    assert listed["count"] == 1 and listed["page"] == 0 and listed["length"] == 5
    assert listed["content"][0]["id"] == body["id"] and "datasets" not in listed["content"][0]
    datasets = (await client.get("/api/datasets")).json()["content"]
    assert datasets[0]["sceneID"] == result["sceneID"] and "resources" not in datasets[0]
    one = (await client.get(f"/api/dataset/{dataset['id']}")).json()
    assert len(one["resources"]) == 3
    res = (await client.get(f"/api/resource/{resources[0]['id']}")).json()
    assert res["dataset"] == dataset["id"] and res["roles"] == ["data"]


async def test_download_redirects_to_a_signed_cog_of_the_footprint(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    result = whole_scene(await results(client))
    placed = (await order(client, result)).json()
    clock.now += 3 * STEP
    done = (await client.get(f"/api/order/{placed['id']}")).json()
    tif = done["datasets"][0]["resources"][0]
    redirect = await client.get(f"/api/resource/{tif['id']}/data")
    assert redirect.status_code == 302
    assert redirect.headers["content-disposition"] == f'attachment; filename="{tif["name"]}"'
    url = redirect.headers["location"]
    data = await client.get(url, auth=None)
    assert data.status_code == 200
    assert data.headers["content-type"].startswith("image/tiff; application=geotiff")
    assert len(data.content) == tif["size"]
    with MemoryFile(data.content) as mem, mem.open() as ds:
        bounds = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    xs = [p[0] for p in result["bounding"][0]]
    ys = [p[1] for p in result["bounding"][0]]
    # The UTM grid covers the footprint's box; back in lon/lat its envelope is a bit larger.
    west, south, east, north = min(xs), min(ys), max(xs), max(ys)
    assert bounds[0] <= west and bounds[1] <= south and bounds[2] >= east and bounds[3] >= north
    assert bounds == pytest.approx((west, south, east, north), abs=0.03)
    part = await client.get(url, auth=None, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["Signature"] = "AAAA" + query["Signature"][4:]
    tampered = await client.get(f"{parts.path}?{urlencode(query)}", auth=None)
    assert tampered.status_code == 403
    clock.now += 3601  # past the URL's hour, well within the delivery's month
    assert (await client.get(url, auth=None)).status_code == 403
    fresh = await client.get(f"/api/resource/{tif['id']}/data")
    assert (await client.get(fresh.headers["location"], auth=None)).status_code == 200
    clock.now += MONTH_S
    assert (await client.get(f"/api/resource/{tif['id']}/data")).status_code == 410


async def test_signed_urls_never_outlive_the_delivery(clock: ManualClock) -> None:
    app = make_app(clock, arlula_delivery_lifetime_s=60)
    async with await open_client(app) as client:
        placed = (await order(client, whole_scene(await results(client)))).json()
        clock.now += 3 * STEP
        done = (await client.get(f"/api/order/{placed['id']}")).json()
        rid = done["datasets"][0]["resources"][0]["id"]
        location = (await client.get(f"/api/resource/{rid}/data")).headers["location"]
        expires = int(parse_qs(urlsplit(location).query)["Expires"][0])
        assert expires <= clock.now + 60
        clock.now += 61
        assert (await client.get(location, auth=None)).status_code == 403
        assert (await client.get(f"/api/resource/{rid}/data")).status_code == 410


async def test_order_errors(client: httpx.AsyncClient) -> None:
    result = whole_scene(await results(client))
    assert (await client.post("/api/archive/order", content=b"[]")).status_code == 400
    assert (await client.post("/api/archive/order", content=b"{nope")).status_code == 400
    missing = await client.post("/api/archive/order", content=orjson.dumps({"id": "x"}))
    assert missing.status_code == 400 and "eula is required" in missing.text
    assert (await order(client, result, id="not-an-ordering-id")).status_code == 422
    assert (await order(client, result, bundleKey="nope")).status_code == 422
    assert (await order(client, result, eula="https://example.com/eula")).status_code == 412
    assert (await order(client, result, team="someone-elses")).status_code == 403
    assert (await order(client, result, payment="stolen-card")).status_code == 422
    assert (await order(client, result, webhooks=["ftp://x"])).status_code == 400
    unauthorized = await client.post("/api/archive/order", content=b"{}", auth=("a", "b"))
    assert unauthorized.status_code == 401
    assert (await client.get("/api/order/unknown")).status_code == 404
    assert (await client.get("/api/resource/unknown/data")).status_code == 404
    assert (await client.get("/api/orders", params={"size": 0})).status_code == 400


async def test_the_balance_is_finite_and_refunds_failed_orders(clock: ManualClock) -> None:
    async with await open_client(make_app(clock)) as probe:
        result = whole_scene(await results(probe))
    price = result["bundles"][0]["price"]
    app = make_app(clock, arlula_balance_cents=price, arlula_failing_scenes=[result["sceneID"]])
    async with await open_client(app) as client:
        first = await order(client, result)
        assert first.status_code == 200
        refused = await order(client, result)
        assert refused.status_code == 402 and "insufficient funds" in refused.text
        clock.now += 2 * STEP  # the scene fails at the supplier: refunded
        failed = (await client.get(f"/api/order/{first.json()['id']}")).json()
        assert failed["status"] == "failed" and failed["refunded"] == price
        assert (await order(client, result)).status_code == 200


async def test_orders_above_the_limit_await_approval(clock: ManualClock) -> None:
    app = make_app(clock, arlula_approval_above_cents=0, arlula_approval_s=30)
    async with await open_client(app) as client:
        placed = await order(client, whole_scene(await results(client)))
        assert placed.status_code == 202 and placed.json()["status"] == "pending-approval"
        clock.now += 30
        got = (await client.get(f"/api/order/{placed.json()['id']}")).json()
        assert got["status"] == "pending"
    rejecting = make_app(
        clock, arlula_approval_above_cents=0, arlula_approval_s=30, arlula_reject_approvals=True
    )
    async with await open_client(rejecting) as client:
        placed = await order(client, whole_scene(await results(client)))
        clock.now += 30
        got = (await client.get(f"/api/order/{placed.json()['id']}")).json()
        assert got["status"] == "rejected" and got["refunded"] == got["total"]


async def test_stats_count_orders_per_item(client: httpx.AsyncClient) -> None:
    result = whole_scene(await results(client))
    await order(client, result)
    await order(client, result)
    await order(client, result, bundleKey="nope")  # refused: not an order
    stats = (await client.get("/_simulator/stats")).json()
    assert stats["orders"] == {stats_key(result["supplier"], result["sceneID"]): 2}


async def test_2020_12_order_priced_by_seats(clock: ManualClock) -> None:
    app = make_app(clock)
    async with await open_client(app, "2020-12") as client:
        params: dict[str, str | float] = {"start": "2019-01-01", "end": "2026-12-31", "res": "vlow"}
        params |= HELSINKI
        found = (await client.get("/api/search", params=params)).json()
        result = next(r for r in found if r["price"]["seats"])
        body = {
            "id": result["id"],
            "eula": result["eula"],
            "seats": 3,
            "webhooks": [],
            "emails": [],
        }
        placed = await client.post("/api/order/new", content=orjson.dumps(body))
        assert placed.status_code == 200, placed.text
        detail = placed.json()
        tier = next(t for t in result["price"]["seats"] if t["min"] <= 3 <= (t["max"] or 99))
        assert detail["total"] == result["price"]["base"] + tier["additional"]
        assert {"id", "createdAt", "updatedAt", "supplier", "imageryID", "sceneID", "status",
                "total", "type", "expiration", "resources"} == detail.keys()  # fmt: skip
        no_seats = orjson.dumps({**body, "seats": 0})
        assert (await client.post("/api/order/new", content=no_seats)).status_code == 400
        clock.now += 3 * STEP
        got = (await client.get("/api/order/get", params={"id": detail["id"]})).json()
        assert got["status"] == "complete" and got["expiration"] is not None
        listed = (await client.get("/api/order/list")).json()
        assert listed[0]["id"] == detail["id"] and "resources" not in listed[0]
        rid = next(r["id"] for r in got["resources"] if r["type"] == "img_tiff")
        redirect = await client.get("/api/order/resource/get", params={"id": rid})
        assert (
            redirect.status_code == 302 and 'filename="' in redirect.headers["content-disposition"]
        )
        with rasterio.MemoryFile((await client.get(redirect.headers["location"])).content) as mem:
            assert mem.open().count == 3  # the default (visual) bundle
        clock.now += MONTH_S
        gone = await client.get("/api/order/resource/get", params={"id": rid})
        assert gone.status_code == 410


async def test_thumbnails_are_public_pngs(client: httpx.AsyncClient) -> None:
    result = (await results(client))[0]
    thumb = await client.get(result["thumbnail"], auth=None)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    assert thumb.content.startswith(b"\x89PNG")
    assert (await client.get("/thumbnails/maxar/NOPE.png")).status_code == 404


async def test_webhook_sent_once_when_the_order_completes() -> None:
    received: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(orjson.loads(request.content))
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as hooks:
        app = make_app(None, arlula_order_step_s=0.05, arlula_webhook_client=hooks)
        async with await open_client(app) as client:
            result = whole_scene(await results(client))
            placed = await order(client, result, webhooks=["https://hooks.example/arlula"])
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.02)
            await client.get(f"/api/order/{placed.json()['id']}")  # observing: no resend
            await asyncio.sleep(0.05)
    assert len(received) == 1
    event = received[0]
    assert event["event"] == "archive.order.complete" and event["timestamp"].endswith("Z")
    assert event["payload"]["id"] == placed.json()["id"]
    assert event["payload"]["status"] == "complete"
    assert len(event["payload"]["datasets"][0]["resources"]) == 3
    assert app.state.webhook_log == [
        {"url": "https://hooks.example/arlula", "order": placed.json()["id"],
         "event": "archive.order.complete", "attempts": 1, "status": 204}
    ]  # fmt: skip


async def test_webhook_sent_when_a_request_observes_completion(clock: ManualClock) -> None:
    received: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(str(request.url))
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as hooks:
        app = make_app(clock, arlula_webhook_client=hooks)
        async with await open_client(app) as client:
            result = whole_scene(await results(client))
            await order(client, result, webhooks=["https://a.example/h", "https://b.example/h"])
            clock.now += 3 * STEP  # the sleeping task still waits 30 real seconds
            await client.get("/api/orders")
            for _ in range(50):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.02)
        for task in list(app.state.webhook_tasks):
            task.cancel()
    assert received == ["https://a.example/h", "https://b.example/h"]


# --- batch orders and coupons (arlulacore tests/test_archive.py; node SDK batch-order.ts) --


def batch_body(found: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    orders = [
        {"id": r["orderingID"], "eula": r["licenses"][0]["href"],
         "bundleKey": r["bundles"][0]["key"], "webhooks": [], "emails": []}
        for r in found
    ]  # fmt: skip
    return {"orders": orders, "webhooks": [], "emails": [], **extra}


async def test_batch_order_is_one_order_with_a_dataset_per_scene(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    found = (await results(client))[:2] + (await results(client, "siis"))[:1]
    placed = await client.post(
        "/api/archive/order/batch", content=orjson.dumps(batch_body(found, coupon="WELCOME10"))
    )
    assert placed.status_code == 200, placed.text
    body = placed.json()
    assert [d["sceneID"] for d in body["datasets"]] == [r["sceneID"] for r in found]
    assert {d["order"] for d in body["datasets"]} == {body["id"]}
    assert body["total"] == sum(d["total"] for d in body["datasets"])
    listed = (await client.get(f"/api/order/{body['id']}/datasets")).json()
    assert listed["count"] == 3 and len(listed["content"]) == 3
    assert (await client.get("/api/datasets")).json()["count"] == 3
    assert (await client.get("/api/orders")).json()["count"] == 1
    clock.now += 4 * STEP
    done = (await client.get(f"/api/order/{body['id']}")).json()
    assert done["status"] == "complete"
    for dataset in done["datasets"]:
        assert dataset["status"] == "complete" and len(dataset["resources"]) == 3
        tif = next(r for r in dataset["resources"] if r["type"] == "img_tiff")
        assert tif["dataset"] == dataset["id"]
        assert (await client.get(f"/api/resource/{tif['id']}/data")).status_code == 302
        got = (await client.get(f"/api/dataset/{dataset['id']}")).json()
        assert got["sceneID"] == dataset["sceneID"]
    stats = (await client.get("/_simulator/stats")).json()
    assert sum(stats["orders"].values()) == 3


async def test_a_batch_is_refused_whole_when_one_order_is_invalid(
    client: httpx.AsyncClient,
) -> None:
    found = (await results(client))[:2]
    body = batch_body(found)
    body["orders"][1]["bundleKey"] = "nope"
    refused = await client.post("/api/archive/order/batch", content=orjson.dumps(body))
    assert refused.status_code == 422 and refused.text.startswith("orders[1]: Invalid `bundleKey`")
    empty = await client.post("/api/archive/order/batch", content=orjson.dumps({"orders": []}))
    assert empty.status_code == 400 and empty.text.startswith("Invalid `orders`")
    assert (await client.get("/api/orders")).json()["count"] == 0


async def test_an_order_may_carry_a_coupon(client: httpx.AsyncClient) -> None:
    result = whole_scene(await results(client))
    assert (await order(client, result, coupon="WELCOME10")).status_code == 200
    bad = await order(client, result, coupon=10)
    assert bad.status_code == 400 and "Invalid `coupon`" in bad.text


async def test_order_errors_name_the_field_as_arlula_does(client: httpx.AsyncClient) -> None:
    # node SDK e2e/archive/order-test.ts: each refusal starts "Invalid `<field>`".
    result = whole_scene(await results(client))
    for field, value in (("id", "<invalid>"), ("eula", "<invalid>"), ("bundleKey", "<invalid>")):
        refused = await order(client, result, **{field: value})
        assert refused.text.startswith(f"Invalid `{field}`"), refused.text


async def test_instant_fulfilment_answers_a_complete_order(client: httpx.AsyncClient) -> None:
    # "fulfillmentTime ... 0 is instant" (seed 002; arlulacore SearchResult); the node SDK's
    # e2e order-test.ts expects such (Landsat) orders complete, with resources, at once.
    result = next(r for r in await results(client, "esa") if r["fulfillmentTime"] == 0)
    placed = await order(client, result)
    assert placed.status_code == 200, placed.text
    body = placed.json()
    assert body["status"] == "complete" and body["total"] == 0
    resources = body["datasets"][0]["resources"]
    assert len(resources) == 3 and all(r["size"] and r["checksum"] for r in resources)
    assert body["datasets"][0]["expiration"] is None  # a public dataset never expires
    slow = next(r for r in await results(client, "maxar") if r["fulfillmentTime"] > 0)
    assert (await order(client, slow)).json()["status"] == "pending"
