"""The ICEYE simulator's purchase side: prices, purchases over time, presigned downloads."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
import pytest
from rasterio.io import MemoryFile
from starlette.applications import Starlette

from bridge.simulators.iceye import create_app, sandbox_settings
from bridge.simulators.iceye.archive import build_archive
from tests.support import wiring
from tests.support.clock import ManualClock

BASE = "http://iceye.simulator"
SETTINGS = sandbox_settings(BASE)
CONTRACT = SETTINGS["contract_id"]
V2 = "/api/catalog/v2"
V1 = "/api/catalog/v1"
STEP = 10.0


def _app(**extra: Any) -> Starlette:
    return create_app(
        wiring.simulator_config(
            extra={"iceye_order_step_s": STEP, **extra}, clock=ManualClock(time.time())
        )
    )


def _frame_with(n_products: int) -> tuple[str, list[str]]:
    """A frame of the test archive with at least ``n_products`` products."""
    archive = build_archive(wiring.TEST_SEED, wiring.TEST_SCENES)
    for frame_id, scenes in archive.by_frame.items():
        if len(scenes) >= n_products:
            return frame_id, [s.id for s in scenes]
    raise AssertionError("no such frame")


FRAME, FRAME_ITEMS = _frame_with(3)


async def _client(app: Starlette, client_id: str | None = None) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    cid = client_id or SETTINGS["client_id"]
    secret = app.state.auth.clients[cid]
    token = await c.post(
        SETTINGS["auth_url"], data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return c


@pytest.fixture
def app() -> Starlette:
    return _app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    c = await _client(app)
    yield c
    await c.aclose()


async def _buy(c: httpx.AsyncClient, frame: str = FRAME, **extra: Any) -> dict[str, Any]:
    body = {"frameID": frame, "contractID": CONTRACT, "eula": "STANDARD", **extra}
    response = await c.post(f"{V2}/purchases", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- prices -----------------------------------------------------------------------------------


async def test_price_is_in_minor_units_per_eula(client: httpx.AsyncClient) -> None:
    prices = {}
    for eula in ("STANDARD", "GOVERNMENT", "MULTI"):
        params = {"frameID": FRAME, "contractID": CONTRACT, "eula": eula}
        response = await client.get(f"{V2}/price", params=params)
        assert response.status_code == 200
        assert response.json()["currency"] == "EUR"
        prices[eula] = response.json()["amount"]
    assert all(isinstance(v, int) and v > 0 for v in prices.values())
    assert prices["MULTI"] > prices["STANDARD"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"frameID": FRAME, "contractID": CONTRACT, "eula": "GOLD"}, 400),
        ({"contractID": CONTRACT, "eula": "STANDARD"}, 400),
        ({"frameID": "no-such-frame", "contractID": CONTRACT, "eula": "STANDARD"}, 404),
        ({"frameID": FRAME, "contractID": "someone-elses", "eula": "STANDARD"}, 403),
    ],
)
async def test_price_errors(client: httpx.AsyncClient, params: dict[str, str], status: int) -> None:
    response = await client.get(f"{V2}/price", params=params)
    assert response.status_code == status
    assert set(response.json()) == {"code", "message"}


async def test_purchase_api_needs_a_token(app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        assert (await c.get(f"{V2}/purchases")).status_code == 401
        assert (await c.post(f"{V2}/purchases", json={})).status_code == 401


# --- v2 purchases -----------------------------------------------------------------------------


async def test_purchase_moves_received_active_closed(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    made = await _buy(client, reference="bridge-order-1")
    assert set(made) == {"id", "frameID", "contractID", "createdAt", "status", "reference", "eula"}
    assert made["status"] == "received" and made["reference"] == "bridge-order-1"
    assert made["createdAt"].endswith("Z")
    seen = []
    for _ in range(3):
        got = await client.get(f"{V2}/purchases/{made['id']}")
        seen.append(got.json()["status"])
        app.state.clock.now += STEP
    assert seen == ["received", "active", "closed"]


@pytest.mark.parametrize("outcome", ["failed", "canceled"])
async def test_configured_outcomes(outcome: str) -> None:
    app = _app(iceye_purchase_outcomes={FRAME: outcome})
    c = await _client(app)
    made = await _buy(c)
    app.state.clock.now += STEP * 3
    assert (await c.get(f"{V2}/purchases/{made['id']}")).json()["status"] == outcome
    assert (await c.get(f"{V2}/purchases/{made['id']}/products")).json() == {"data": []}
    await c.aclose()


async def test_purchase_validation(client: httpx.AsyncClient) -> None:
    bad = [
        ({"contractID": CONTRACT, "eula": "STANDARD"}, 400),
        ({"frameID": FRAME, "contractID": CONTRACT, "eula": "NONE"}, 400),
        ({"frameID": "nope", "contractID": CONTRACT, "eula": "STANDARD"}, 404),
        ({"frameID": FRAME, "contractID": "other", "eula": "STANDARD"}, 403),
    ]
    for body, status in bad:
        assert (await client.post(f"{V2}/purchases", json=body)).status_code == status, body
    assert (await client.post(f"{V2}/purchases", content=b"[1]")).status_code == 400
    assert (await client.get(f"{V2}/purchases/nope")).status_code == 404


async def test_a_frame_purchase_counts_one_order_per_product(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await _buy(client)
    stats = (await client.get("/_simulator/stats")).json()
    assert stats["orders"] == dict.fromkeys(FRAME_ITEMS, 1)


async def test_listing_pages_newest_first_and_per_account(app: Starlette) -> None:
    app.state.auth.clients["other-client"] = "other-secret"
    app.state.auth.contracts["other-client"] = frozenset({"other-contract"})
    mine, theirs = await _client(app), await _client(app, "other-client")
    ids = []
    for n in range(5):
        ids.append((await _buy(mine, reference=f"r{n}"))["id"])
        app.state.clock.now += 1
    listed: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await mine.get(f"{V2}/purchases", params=params)).json()
        listed += [p["id"] for p in page["data"]]
        cursor = page.get("cursor")
        if cursor is None:
            break
    assert listed == ids[::-1]
    assert (await theirs.get(f"{V2}/purchases")).json() == {"data": []}
    assert (await theirs.get(f"{V2}/purchases/{ids[0]}")).status_code == 404
    by_contract = await mine.get(f"{V2}/purchases", params={"contractID": "x", "limit": "100"})
    assert by_contract.json() == {"data": []}
    assert (await mine.get(f"{V2}/purchases", params={"limit": "0"})).status_code == 400
    await mine.aclose()
    await theirs.aclose()


# --- deliveries -------------------------------------------------------------------------------


async def _delivered(app: Starlette, c: httpx.AsyncClient) -> list[dict[str, Any]]:
    made = await _buy(c)
    assert (await c.get(f"{V2}/purchases/{made['id']}/products")).json() == {"data": []}
    app.state.clock.now += STEP * 2
    products: list[dict[str, Any]] = (await c.get(f"{V2}/purchases/{made['id']}/products")).json()[
        "data"
    ]
    return products


async def test_products_are_presigned_cogs_on_the_footprint(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    products = await _delivered(app, client)
    assert sorted(p["id"] for p in products) == sorted(FRAME_ITEMS)
    for product in products:
        # Product files carry product-specific keys (ICEYE docs "task products").
        code = product["properties"]["sar:product_type"].lower()
        assert product["collection"] == "private"
        data = product["assets"][f"{code}-tif"]
        assert data["type"] == "image/tiff; application=geotiff"
        query = parse_qs(urlsplit(data["href"]).query)
        assert set(query) == {"AWSAccessKeyId", "Expires", "Signature"}
        response = await client.get(data["href"])
        assert response.status_code == 200
        with MemoryFile(response.content) as memfile, memfile.open() as ds:
            assert ds.crs.to_epsg() == data["proj:epsg"]
            assert [ds.height, ds.width] == data["proj:shape"]
            assert list(ds.transform)[:6] == pytest.approx(data["proj:transform"])
            assert ds.overviews(1), "a COG has internal overviews"
        meta = await client.get(product["assets"][f"{code}-xml"]["href"])
        assert meta.status_code == 200
        assert ElementTree.fromstring(meta.content).get("id") == product["id"]


async def test_range_expiry_and_tampering(app: Starlette, client: httpx.AsyncClient) -> None:
    href = (await _delivered(app, client))[0]["assets"]["grd-tif"]["href"]
    part = await client.get(href, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert (await client.get(href, headers={"Range": "bytes=99999999-"})).status_code == 416
    tampered = href.replace("Signature=", "Signature=A")
    assert (await client.get(tampered)).status_code == 403
    app.state.clock.now += 3601
    expired = await client.get(href)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


async def test_catalog_quicklooks_need_no_purchase_but_data_does(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    body = {"ids": [FRAME_ITEMS[0]]}
    item = (await client.post(f"{V2}/search", json=body)).json()["data"][0]
    png = await client.get(item["assets"]["thumbnail-png"]["href"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    jpg = await client.get(item["assets"]["thumbnail"]["href"])
    assert jpg.status_code == 200 and jpg.headers["content-type"] == "image/jpeg"
    assert jpg.content.startswith(b"\xff\xd8")
    # Public items link no product file; its object URL unsigned is S3's 403.
    assert set(item["assets"]) == {"thumbnail", "thumbnail-png"}
    bare = item["assets"]["thumbnail"]["href"].split("?")[0].replace("catalog/", "products/")
    assert (await client.get(bare.replace("_thumb.jpg", ".tif"))).status_code == 403
    # The same search answers the same item (quicklook expiries are day-aligned), valid
    # at least a day, and they do expire.
    again = (await client.post(f"{V2}/search", json=body)).json()["data"][0]
    assert again == item
    app.state.clock.now += 86_400
    assert (await client.get(item["assets"]["thumbnail-png"]["href"])).status_code == 200
    app.state.clock.now += 86_400
    assert (await client.get(item["assets"]["thumbnail-png"]["href"])).status_code == 403


# --- v1 ---------------------------------------------------------------------------------------


async def test_v1_purchase_by_item_ids(app: Starlette, client: httpx.AsyncClient) -> None:
    body = {
        "itemIds": FRAME_ITEMS[:1],
        "contractId": CONTRACT,
        "companyName": "ACME Corp",
        "contactPerson": "John Doe",
        "reference": "Project Alpha",
    }
    made = await client.post(f"{V1}/purchases", json=body)
    assert made.status_code == 202 and set(made.json()) == {"purchaseId"}
    pid = made.json()["purchaseId"]
    got = (await client.get(f"{V1}/purchases/{pid}")).json()
    assert set(got) == {"id", "customerName", "contractName", "createdAt", "status", "reference"}
    assert got["customerName"] == "ACME Corp" and got["status"] == "received"
    app.state.clock.now += STEP * 2
    listed = (await client.get(f"{V1}/purchases")).json()["data"]
    assert [(p["id"], p["status"]) for p in listed] == [(pid, "closed")]
    assert (await client.get(f"{V2}/purchases/{pid}")).status_code == 404
    assert (await client.get("/_simulator/stats")).json()["orders"] == {FRAME_ITEMS[0]: 1}
    missing = {**body, "itemIds": ["nope"]}
    assert (await client.post(f"{V1}/purchases", json=missing)).status_code == 404
    assert (await client.post(f"{V1}/purchases", json={"contractId": CONTRACT})).status_code == 400
