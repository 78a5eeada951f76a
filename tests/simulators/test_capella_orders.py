"""The Capella simulator's order side: review, orders over time, downloads from storage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from starlette.applications import Starlette

from bridge.core.timeutil import parse_instant
from bridge.simulators.capella import DEMO_API_KEY, create_app
from bridge.simulators.capella.archive import build_archive
from bridge.simulators.capella.orders import OrderBook
from tests.support.clock import ManualClock
from tests.support.wiring import TEST_SCENES, TEST_SEED
from tests.support.wiring import simulator_config as sim_config

BASE = "http://capella.simulator"
AUTH = {"Authorization": f"ApiKey {DEMO_API_KEY}"}
OTHER_KEY = "capella-other-tenant-key"
OTHER = {"Authorization": f"ApiKey {OTHER_KEY}"}
STEP = 10.0
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Sim:
    app: Starlette
    client: httpx.AsyncClient
    clock: ManualClock

    @property
    def book(self) -> OrderBook:
        book: OrderBook = self.app.state.orders
        return book


def make_app(**extra: Any) -> tuple[Starlette, ManualClock]:
    clock = ManualClock(1_800_000_000.0)
    config = sim_config(
        extra={"capella_order_step_s": STEP, "capella_api_keys": [OTHER_KEY], **extra},
        clock=clock,
    )
    app = create_app(config)
    return app, clock


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    app, clock = make_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield Sim(app, client, clock)


def first(product: str) -> dict[str, Any]:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    return next(i for i in archive.items if i["properties"]["sar:product_type"] == product)


def body_for(*items: dict[str, Any]) -> dict[str, Any]:
    return {"items": [{"collectionId": i["collection"], "granuleId": i["id"]} for i in items]}


async def record(sim: Sim, item: dict[str, Any]) -> dict[str, Any]:
    response = await sim.client.post(
        "/catalog/search", json={"ids": [item["id"]], "limit": 1}, headers=AUTH
    )
    assert response.status_code == 200
    feature: dict[str, Any] = response.json()["features"][0]
    return feature


async def completed_order(sim: Sim, *items: dict[str, Any]) -> dict[str, Any]:
    response = await sim.client.post("/orders", json=body_for(*items), headers=AUTH)
    assert response.status_code == 201, response.text
    sim.clock.now += 2 * STEP
    order: dict[str, Any] = response.json()
    return order


async def delivery(sim: Sim, order_id: str) -> list[dict[str, Any]]:
    response = await sim.client.get(f"/orders/{order_id}/download", headers=AUTH)
    assert response.status_code == 200, response.text
    features: list[dict[str, Any]] = response.json()
    return features


# --- review -----------------------------------------------------------------------------


async def test_review_authorizes_and_prices_each_product(sim: Sim) -> None:
    geo, cphd = first("GEO"), first("CPHD")
    response = await sim.client.post("/orders/review", json=body_for(geo, cphd), headers=AUTH)
    assert response.status_code == 200
    review = response.json()
    assert review["authorized"] is True
    lines = review["orderDetails"]["lineItems"]
    assert [line["granuleId"] for line in lines] == [geo["id"], cphd["id"]]
    assert all(line["previouslyOrdered"] is False for line in lines)
    # CPHD costs twice the list price of the collect's type.
    assert (
        lines[1]["price"]
        == 2
        * {
            "spotlight": 1500.0,
            "spotlight_ultra": 2500.0,
            "sliding_spotlight": 1250.0,
            "stripmap_20": 1000.0,
        }[cphd["properties"]["capella:collection_type"]]
    )
    summary = review["orderDetails"]["summary"]
    assert summary["total"] == lines[0]["price"] + lines[1]["price"]
    assert summary["currency"] == "USD"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"items": []}, 400, "ORDER_VALIDATION_ERROR"),
        ({"items": [{"granuleId": "x"}]}, 400, "ORDER_VALIDATION_ERROR"),
        ({"items": [{"collectionId": "capella-geo", "granuleId": "nope"}]}, 400, None),
        ({"items": [{"productType": "VS", "collectIds": ["a"]}]}, 400, None),
        ({"contractId": "not-ours", "items": []}, 404, "CONTRACT_NOT_FOUND"),
    ],
)
async def test_invalid_order_bodies(
    sim: Sim, body: dict[str, Any], status: int, code: str | None
) -> None:
    for path in ("/orders/review", "/orders"):
        response = await sim.client.post(path, json=body, headers=AUTH)
        assert response.status_code == status
        assert response.json()["error"]["code"] == (code or "ORDER_VALIDATION_ERROR")
    assert sim.book.orders == {}


async def test_wrong_collection_is_a_validation_error(sim: Sim) -> None:
    geo = first("GEO")
    body = {"items": [{"collectionId": "capella-slc", "granuleId": geo["id"]}]}
    response = await sim.client.post("/orders", json=body, headers=AUTH)
    assert response.status_code == 400
    assert geo["id"] in response.json()["error"]["message"]


async def test_order_routes_need_an_api_key(sim: Sim) -> None:
    for method, path in [
        ("POST", "/orders/review"),
        ("POST", "/orders"),
        ("GET", "/orders?customerId=x"),
        ("GET", "/orders/x"),
        ("GET", "/orders/x/download"),
    ]:
        response = await sim.client.request(method, path, json=body_for(first("GEO")))
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}


# --- orders over time -------------------------------------------------------------------


async def test_order_moves_submitted_pending_completed(sim: Sim) -> None:
    geo = first("GEO")
    response = await sim.client.post("/orders", json=body_for(geo), headers=AUTH)
    assert response.status_code == 201
    order = response.json()
    assert order["orderStatus"] == "submitted"
    assert {"userId", "organizationId", "orderDate", "expirationDate", "orderId"} <= set(order)
    (line,) = order["items"]
    assert line["previouslyOrdered"] is False
    assert line["type"] == geo["properties"]["sar:instrument_mode"]
    assert line["size"] > 10_000 and line["collectionDate"].endswith("Z")
    order_id = order["orderId"]
    seen = []
    for _ in range(3):
        got = await sim.client.get(f"/orders/{order_id}", headers=AUTH)
        seen.append(got.json()["orderStatus"])
        download = await sim.client.get(f"/orders/{order_id}/download", headers=AUTH)
        assert download.status_code == (200 if seen[-1] == "completed" else 409)
        sim.clock.now += STEP
    assert seen == ["submitted", "pending", "completed"]


async def test_expiration_is_one_hour_and_download_then_410(sim: Sim) -> None:
    order = await completed_order(sim, first("GEO"))
    assert order["orderDate"].endswith("Z") and len(order["orderDate"]) == 24
    window = parse_instant(order["expirationDate"]) - parse_instant(order["orderDate"])
    assert window == timedelta(hours=1)
    sim.clock.now += 3600
    response = await sim.client.get(f"/orders/{order['orderId']}/download", headers=AUTH)
    assert response.status_code == 410
    # The string form of the SDK's tests (test_exception_handling.py).
    assert response.json() == {"error": "Order expired"}


async def test_previously_ordered_is_free_and_completed_at_once(sim: Sim) -> None:
    geo = first("GEO")
    await completed_order(sim, geo)
    review = (await sim.client.post("/orders/review", json=body_for(geo), headers=AUTH)).json()
    assert review["orderDetails"]["lineItems"][0]["previouslyOrdered"] is True
    assert review["orderDetails"]["summary"]["total"] == 0
    again = (await sim.client.post("/orders", json=body_for(geo), headers=AUTH)).json()
    assert again["orderStatus"] == "completed"
    assert again["items"][0]["previouslyOrdered"] is True
    stats = (await sim.client.get("/_simulator/stats")).json()
    assert stats["orders"] == {geo["id"]: 2}


async def test_listing_and_ownership_search(sim: Sim) -> None:
    geo, slc = first("GEO"), first("SLC")
    one = await completed_order(sim, geo)
    two = await completed_order(sim, slc)
    user = (await sim.client.get("/user", headers=AUTH)).json()
    listed = await sim.client.get("/orders", params={"customerId": user["id"]}, headers=AUTH)
    assert [o["orderId"] for o in listed.json()] == [one["orderId"], two["orderId"]]
    by_org = await sim.client.get(
        "/orders", params={"organizationId": user["organizationId"]}, headers=AUTH
    )
    assert len(by_org.json()) == 2
    assert (await sim.client.get("/orders", headers=AUTH)).status_code == 400
    owned = await sim.client.post(
        "/catalog/search", json={"ownership": "ownedByOrganization", "limit": 10}, headers=AUTH
    )
    assert {f["id"] for f in owned.json()["features"]} == {geo["id"], slc["id"]}


async def test_accounts_do_not_see_each_other(sim: Sim) -> None:
    order = await completed_order(sim, first("GEO"))
    other_user = (await sim.client.get("/user", headers=OTHER)).json()
    assert other_user["organizationId"] != order["organizationId"]
    assert (await sim.client.get(f"/orders/{order['orderId']}", headers=OTHER)).status_code == 404
    download = await sim.client.get(f"/orders/{order['orderId']}/download", headers=OTHER)
    assert download.status_code == 404
    foreign = await sim.client.get("/orders", params={"customerId": order["userId"]}, headers=OTHER)
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "NOT_AUTHORIZED"
    review = await sim.client.post("/orders/review", json=body_for(first("GEO")), headers=OTHER)
    assert review.json()["orderDetails"]["lineItems"][0]["previouslyOrdered"] is False


async def test_insufficient_funds() -> None:
    app, _ = make_app(capella_budget_usd=2000)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        geo, cphd = first("GEO"), first("CPHD")
        review = (await client.post("/orders/review", json=body_for(cphd), headers=AUTH)).json()
        assert review["authorized"] is False
        reason = review["authorizationDenialReason"]
        assert reason["code"] == "AUTHORIZATION_INSUFFICIENT_FUNDS"
        assert "Available Commitment: $2,000.00" in reason["message"]
        rejected = (await client.post("/orders", json=body_for(cphd), headers=AUTH)).json()
        assert rejected["orderStatus"] == "rejected" and "items" not in rejected
        download = await client.get(f"/orders/{rejected['orderId']}/download", headers=AUTH)
        assert download.status_code == 409
        # A cheaper product still fits the budget.
        cheap = await client.post("/orders/review", json=body_for(geo), headers=AUTH)
        price = cheap.json()["orderDetails"]["summary"]["total"]
        assert cheap.json()["authorized"] is (price <= 2000)


# --- downloads --------------------------------------------------------------------------


async def test_delivery_presigns_every_asset(sim: Sim) -> None:
    geo = first("GEO")
    order = await completed_order(sim, geo)
    (feature,) = await delivery(sim, order["orderId"])
    assert feature["id"] == geo["id"] and feature["properties"]["sar:product_type"] == "GEO"
    assert set(feature["assets"]) == {geo["properties"]["sar:polarizations"][0], *_AUX}
    for asset in feature["assets"].values():
        query = parse_qs(urlparse(asset["href"]).query)
        assert set(query) == {"AWSAccessKeyId", "Expires", "Signature"}
        assert int(query["Expires"][0]) == int(sim.clock.now + 3600)
        # The SDK fetches hrefs with no auth header at all.
        response = await sim.client.get(asset["href"])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(asset["type"].split(";")[0])


_AUX = {"metadata", "thumbnail", "preview"}


async def test_geo_cog_is_georeferenced_to_the_footprint(sim: Sim) -> None:
    geo = first("GEO")
    native = await record(sim, geo)
    order = await completed_order(sim, geo)
    (feature,) = await delivery(sim, order["orderId"])
    href = feature["assets"][geo["properties"]["sar:polarizations"][0]]["href"]
    data = (await sim.client.get(href)).content
    with MemoryFile(data) as memfile, memfile.open() as dataset:
        assert dataset.driver == "GTiff" and dataset.overviews(1)
        assert dataset.crs.to_epsg() == geo["properties"]["proj:epsg"]
        assert list(dataset.shape) == native["properties"]["proj:shape"]
        assert list(dataset.transform)[:6] == pytest.approx(native["properties"]["proj:transform"])
        west, south, east, north = transform_bounds("EPSG:4326", dataset.crs, *geo["bbox"])
        left, bottom, right, top = dataset.bounds
        pixel = dataset.transform.a
        assert left <= west + pixel and right >= east - pixel
        assert bottom <= south + pixel and top >= north - pixel


@pytest.mark.parametrize(
    ("product", "driver", "epsg"), [("SLC", "GTiff", 4326), ("SICD", "NITF", 4326)]
)
async def test_slant_range_products_are_readable(
    sim: Sim, product: str, driver: str, epsg: int
) -> None:
    item = first(product)
    order = await completed_order(sim, item)
    (feature,) = await delivery(sim, order["orderId"])
    data = (
        await sim.client.get(feature["assets"][item["properties"]["sar:polarizations"][0]]["href"])
    ).content
    with MemoryFile(data) as memfile, memfile.open() as dataset:
        assert dataset.driver == driver and dataset.crs.to_epsg() == epsg
        left, bottom, right, top = dataset.bounds
        # The grid starts at the footprint's north-west corner and covers all of it;
        # NITF stores geographic corners to the arcsecond.
        tol = 1e-9 if driver == "GTiff" else 1 / 3600
        assert left == pytest.approx(item["bbox"][0], abs=tol)
        assert top == pytest.approx(item["bbox"][3], abs=tol)
        assert right >= item["bbox"][2] - tol and bottom <= item["bbox"][1] + tol


async def test_sidd_nitf_cphd_and_metadata(sim: Sim) -> None:
    sidd, cphd = first("SIDD"), first("CPHD")
    order = await completed_order(sim, sidd, cphd)
    features = {f["id"]: f for f in await delivery(sim, order["orderId"])}
    pol = sidd["properties"]["sar:polarizations"][0]
    data = (await sim.client.get(features[sidd["id"]]["assets"][pol]["href"])).content
    with MemoryFile(data) as memfile, memfile.open() as dataset:
        assert dataset.driver == "NITF"
        assert dataset.crs.to_epsg() == sidd["properties"]["proj:epsg"]
    cphd_assets = features[cphd["id"]]["assets"]
    raw = await sim.client.get(cphd_assets[cphd["properties"]["sar:polarizations"][0]]["href"])
    assert raw.content.startswith(b"CPHD/1.0.1\n")
    assert "preview" not in cphd_assets
    meta = json.loads((await sim.client.get(cphd_assets["metadata"]["href"])).content)
    assert meta["collect"]["granule_id"] == cphd["id"]


async def test_thumbnails_need_no_order(sim: Sim) -> None:
    native = await record(sim, first("SLC"))
    thumb = await sim.client.get(native["assets"]["thumbnail"]["href"])
    assert thumb.status_code == 200 and thumb.content.startswith(PNG)
    # Data in a search record is named, not readable: S3 refuses the unsigned href.
    pol = native["properties"]["sar:polarizations"][0]
    denied = await sim.client.get(native["assets"][pol]["href"])
    assert denied.status_code == 403 and b"<Code>AccessDenied</Code>" in denied.content


async def test_range_resume_expiry_and_tampering(sim: Sim) -> None:
    geo = first("GEO")
    order = await completed_order(sim, geo)
    (feature,) = await delivery(sim, order["orderId"])
    href = feature["assets"][geo["properties"]["sar:polarizations"][0]]["href"]
    whole = (await sim.client.get(href)).content
    size = len(whole)
    tail = await sim.client.get(href, headers={"Range": f"bytes={size // 2}-"})
    assert tail.status_code == 206
    assert tail.headers["content-range"] == f"bytes {size // 2}-{size - 1}/{size}"
    assert whole[: size // 2] + tail.content == whole
    beyond = await sim.client.get(href, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    tampered = href.replace("Signature=", "Signature=A")
    assert (await sim.client.get(tampered)).status_code == 403
    other_file = href.replace(".tif?", "_extended.json?")
    assert (await sim.client.get(other_file)).status_code == 403
    sim.clock.now += 3601
    expired = await sim.client.get(href)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


async def test_url_lifetime_is_configurable() -> None:
    app, clock = make_app(capella_url_ttl_s=60)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        sim = Sim(app, client, clock)
        native = await record(sim, first("GEO"))
        expires = parse_qs(urlparse(native["assets"]["thumbnail"]["href"]).query)["Expires"]
        assert int(expires[0]) == int(clock.now + 60)
