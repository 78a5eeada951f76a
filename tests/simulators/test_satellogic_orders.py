"""The Satellogic simulator's order side: Aleph V2 orders, their state machine, Telluric
downloads with tokenized URLs, archive quicklooks, per-item order stats."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from rasterio.io import MemoryFile
from starlette.applications import Starlette

from bridge.simulators.satellogic import create_app, sandbox_settings
from bridge.simulators.satellogic.archive import L1D, QUICKVIEW, Tile, build_archive
from bridge.simulators.satellogic.auth import QUICKVIEW_CONTRACT_ID
from tests.support import wiring
from tests.support.clock import ManualClock
from tests.support.wiring import TEST_SCENES, TEST_SEED

BASE = "http://satellogic.simulator"
SETTINGS = sandbox_settings(BASE)
STEP = 10.0
TTL = 3600.0
TOKEN_TTL = 600.0


@pytest.fixture
def app() -> Starlette:
    extra = {
        "satellogic_order_step_s": STEP,
        "satellogic_delivery_ttl_s": TTL,
        "satellogic_token_ttl_s": TOKEN_TTL,
    }
    return create_app(wiring.simulator_config(extra=extra, clock=ManualClock(time.time())))


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


async def _headers(client: httpx.AsyncClient, contract: str) -> dict[str, str]:
    body = {
        "client_id": SETTINGS["client_id"],
        "client_secret": SETTINGS["client_secret"],
        "audience": "https://api.satellogic.com/",
        "grant_type": "client_credentials",
    }
    token = (await client.post("/oauth/token", json=body)).json()["access_token"]
    return {"authorizationToken": f"Bearer {token}", "X-Satellogic-Contract-Id": contract}


@pytest.fixture
async def headers(client: httpx.AsyncClient) -> dict[str, str]:
    return await _headers(client, SETTINGS["contract_id"])


def _tile(collection: str = L1D, index: int = 0) -> Tile:
    tiles = [t for t in build_archive(TEST_SEED, TEST_SCENES).tiles if t.collection == collection]
    return tiles[index]


def _order_body(tile: Tile, sku: str = "ARCIMG-M.04.00", **props: Any) -> dict[str, Any]:
    outcome = tile.item["properties"]["satl:outcome_id"]
    return {
        "type": "Feature",
        "geometry": tile.item["geometry"],
        "properties": {"sku": sku, "parameters": {"outcome_id": outcome}, **props},
    }


def _advance(app: Starlette, seconds: float) -> None:
    clock: ManualClock = app.state.config.clock
    clock.now += seconds


async def _place(client: httpx.AsyncClient, headers: dict[str, str], tile: Tile, **kw: Any) -> Any:
    response = await client.post("/v2/orders/", json=_order_body(tile, **kw), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- orders and their state machine ------------------------------------------------------


async def test_order_is_a_feature_with_the_documented_fields(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tile = _tile()
    order = await _place(client, headers, tile, name="bridge-ref-1")
    props = order["properties"]
    assert order["type"] == "Feature" and order["geometry"] == tile.item["geometry"]
    assert props["order_id"] == "000001"  # zero-padded, as in the public examples
    assert props["contract_id"] == SETTINGS["contract_id"]
    assert props["sku"] == "ARCIMG-M.04.00" and props["product_name"] == "Archive Imagery"
    assert props["name"] == "bridge-ref-1" and props["status"] == "created"
    assert props["parameters"] == {"outcome_id": tile.item["properties"]["satl:outcome_id"]}
    # a whole 2 km tile (or the covered part of it) at 12 USD/km2
    assert 0 < props["quantity"]["value"] <= 4.01
    assert props["price"] == {
        "amount": f"{props['quantity']['value'] * 12:.2f}",
        "currency": "USD",
    }
    again = await _get(client, f"/v2/orders/{props['order_id']}", headers)
    assert again == order
    assert await _get(client, f"/v2/orders/{props['order_id']}/", headers) == order


async def test_order_deliverable_and_events_move_through_their_states(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tile = _tile()
    oid = (await _place(client, headers, tile))["properties"]["order_id"]

    async def states() -> tuple[str, str, str | None]:
        order = await _get(client, f"/v2/orders/{oid}", headers)
        deliverables = await _get(client, f"/v2/orders/{oid}/deliverables", headers)
        (one,) = deliverables["results"]
        return order["properties"]["status"], one["status"], one["sceneset_id"]

    assert await states() == ("created", "pending", None)
    _advance(app, STEP)
    assert await states() == ("processing", "processing", None)
    _advance(app, STEP)
    order_status, deliverable_status, sceneset = await states()
    assert (order_status, deliverable_status) == ("completed", "available") and sceneset
    events = await _get(client, f"/v2/orders/{oid}/events", headers)
    assert [e["event_type"] for e in events["results"]] == [
        "order.created",
        "capture.published",
        "deliverable.pending",
        "order.processing",
        "deliverable.processing",
        "deliverable.available",
        "order.completed",
    ]
    captures = await _get(client, f"/v2/orders/{oid}/captures", headers)
    assert captures["results"][0]["capture_id"] == tile.item["properties"]["satl:outcome_id"]
    assert captures["results"][0]["status"] == "published"
    _advance(app, TTL + 1)
    assert (await states())[:2] == ("completed", "expired")
    scenes = await _get(client, f"/telluric/scenes/?sceneset_id={sceneset}", headers)
    assert scenes["count"] == 0  # deleted from Telluric when the retention ended


async def test_processing_failures_are_explained_by_events(client: httpx.AsyncClient) -> None:
    extra = {"satellogic_order_step_s": 0.0, "satellogic_fail_rate": 1.0}
    app = create_app(wiring.simulator_config(extra=extra))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        headers = await _headers(c, SETTINGS["contract_id"])
        oid = (await _place(c, headers, _tile()))["properties"]["order_id"]
        assert (await _get(c, f"/v2/orders/{oid}", headers))["properties"]["status"] == "failed"
        deliverables = await _get(c, f"/v2/deliverables?order_id={oid}", headers)
        assert deliverables["results"][0]["status"] == "failed"
        events = (await _get(c, f"/v2/orders/{oid}/events", headers))["results"]
        failed = [e for e in events if e["event_type"] == "deliverable.failed"]
        assert failed and "failed" in failed[0]["detail"]


async def test_orders_list_pages_by_offset_and_is_per_contract(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for index in range(3):
        await _place(client, headers, _tile(index=index))
    first = await _get(client, "/v2/orders/?limit=2", headers)
    assert first["type"] == "FeatureCollection" and first["count"] == 3
    assert first["next"] == "/v2/orders?offset=2&limit=2" and first["previous"] is None
    second = await _get(client, first["next"], headers)
    assert second["next"] is None and second["previous"] == "/v2/orders?offset=0&limit=2"
    ids = [f["properties"]["order_id"] for f in first["features"] + second["features"]]
    assert ids == ["000003", "000002", "000001"]  # newest first
    other = await _headers(client, QUICKVIEW_CONTRACT_ID)
    assert (await _get(client, "/v2/orders/", other))["count"] == 0
    missing = await client.get("/v2/orders/000001", headers=other)
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    events = await _get(client, "/v2/orders/000001/events?limit=2", headers)
    assert events["count"] == 3  # created, capture published, deliverable pending
    assert events["next"] == "/v2/orders/000001/events?offset=2&limit=2"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sku": "ARCIMG-M.4.0"}, "sku"),
        ({"sku": "ARCIMG-M.01.00"}, "sku"),
        ({"sku": "TSKPOI-M"}, "sku"),
        ({"parameters": {}}, "parameters"),
        ({"parameters": {"outcome_id": "00000000-0000-4000-8000-000000000000"}}, "parameters"),
        ({"geometry": {"type": "Point", "coordinates": [0.0, 0.0]}}, "geometry"),
        ({"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
         "geometry"),
        ({"name": 12}, "name"),
    ],
)  # fmt: skip
async def test_invalid_orders_answer_400_by_field(
    client: httpx.AsyncClient, headers: dict[str, str], change: dict[str, Any], field: str
) -> None:
    body = _order_body(_tile())
    if "geometry" in change:
        body["geometry"] = change["geometry"]
    else:
        body["properties"].update(change)
    response = await client.post("/v2/orders/", json=body, headers=headers)
    assert response.status_code == 400 and field in response.json(), response.text
    assert (await _get(client, "/v2/orders/", headers))["count"] == 0


async def test_a_sku_outside_the_contract_is_forbidden(client: httpx.AsyncClient) -> None:
    headers = await _headers(client, QUICKVIEW_CONTRACT_ID)
    response = await client.post("/v2/orders/", json=_order_body(_tile()), headers=headers)
    assert response.status_code == 403 and "ARCIMG-M.04.00" in response.json()["detail"]
    products = await _get(client, "/v2/products/", headers)
    assert [p["sku"] for p in products["results"]] == ["ARCIMG-M.02.00"]
    assert (await client.post("/v2/orders/", json=_order_body(_tile()))).status_code == 401


async def test_stats_count_orders_per_tile_clipped(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tile = _tile(QUICKVIEW)
    await _place(client, headers, tile, sku="ARCIMG-M.02.00")
    await _place(client, headers, tile, sku="ARCIMG-M.02.00")
    assert app.state.stats.snapshot()["orders"] == {tile.id: 2}
    # a polygon over a whole capture clips to all of its tiles: one order per tile
    outcome = tile.item["properties"]["satl:outcome_id"]
    strip = [
        t
        for t in build_archive(TEST_SEED, TEST_SCENES).tiles
        if t.collection == QUICKVIEW and t.item["properties"]["satl:outcome_id"] == outcome
    ]
    w = min(t.item["bbox"][0] for t in strip) - 0.01
    s = min(t.item["bbox"][1] for t in strip) - 0.01
    e = max(t.item["bbox"][2] for t in strip) + 0.01
    n = max(t.item["bbox"][3] for t in strip) + 0.01
    body = _order_body(tile, sku="ARCIMG-M.02.00")
    body["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
    }
    response = await client.post("/v2/orders/", json=body, headers=headers)
    assert response.status_code == 201
    assert set(app.state.stats.snapshot()["orders"]) == {t.id for t in strip}


# --- downloads ------------------------------------------------------------------------


async def _delivered_scene(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str], tile: Tile
) -> dict[str, Any]:
    oid = (await _place(client, headers, tile))["properties"]["order_id"]
    _advance(app, 2 * STEP)
    deliverable = (await _get(client, f"/v2/orders/{oid}/deliverables", headers))["results"][0]
    scenes = await _get(
        client, f"/telluric/scenes/?sceneset_id={deliverable['sceneset_id']}", headers
    )
    assert scenes["count"] == 1 and scenes["next"] is None
    scene: dict[str, Any] = scenes["results"][0]
    return scene


async def test_telluric_scene_has_tokenized_rasters_and_attachments(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    scene = await _delivered_scene(app, client, headers, _tile())
    assert [r["bands"] for r in scene["rasters"]] == [
        ["blue", "green", "red", "nir"],
        ["red", "green", "blue"],
    ]
    for raster in scene["rasters"]:
        path = urlsplit(raster["url"]).path
        assert path.startswith(f"/v2/scenes/{scene['scene_id']}/token/")
        assert path.endswith(f"/raster/{raster['file_name']}")
    names = [a["name"] for a in scene["attachments"]]
    assert names == ["delivery_zip", "footprint", "thumbnail", "preview"]
    assert all("/download/?token=" in a["url"] for a in scene["attachments"])
    # every listing mints new tokens
    again = await _get(client, f"/telluric/scenes/?sceneset_id={scene['sceneset_id']}", headers)
    assert again["results"][0]["rasters"][0]["url"] != scene["rasters"][0]["url"]


async def test_delivered_cog_is_georeferenced_to_the_tile_like_its_archive_asset(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tile = _tile()
    item = await _get(client, f"/archive/stac/collections/{L1D}/items/{tile.id}", headers)
    analytic = item["assets"]["analytic"]
    scene = await _delivered_scene(app, client, headers, tile)
    response = await client.get(scene["rasters"][0]["url"])  # no auth headers
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/tiff")
    with MemoryFile(response.content) as memfile, memfile.open() as ds:
        assert ds.crs.to_epsg() == analytic["proj:epsg"] == item["properties"]["proj:epsg"]
        assert [ds.height, ds.width] == analytic["proj:shape"]
        assert list(ds.transform)[:6] == pytest.approx(analytic["proj:transform"])
        assert ds.count == 4 and ds.dtypes[0] == "uint16"
    ranged = await client.get(scene["rasters"][0]["url"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
    past = await client.get(scene["rasters"][0]["url"], headers={"Range": "bytes=999999999-"})
    assert past.status_code == 416


async def test_tampered_and_expired_tokens_are_refused(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    scene = await _delivered_scene(app, client, headers, _tile())
    url = scene["rasters"][0]["url"]
    token = urlsplit(url).path.split("/token/")[1].split("/")[0]
    tampered = url.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    denied = await client.get(tampered)
    assert denied.status_code == 403 and b"AccessDenied" in denied.content
    other_file = url.replace("_MS.tif", "_VIS.tif")  # a token is bound to its file
    assert (await client.get(other_file)).status_code == 403
    thumb = scene["attachments"][2]["url"]
    _advance(app, TOKEN_TTL + 1)
    expired = await client.get(url)
    assert expired.status_code == 403 and b"Request has expired" in expired.content
    assert (await client.get(thumb)).status_code == 403


async def test_attachments_download(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    scene = await _delivered_scene(app, client, headers, _tile())
    by_name = {a["name"]: a for a in scene["attachments"]}
    thumb = await client.get(by_name["thumbnail"]["url"])
    assert thumb.status_code == 200 and thumb.content.startswith(b"\x89PNG")
    kml = await client.get(by_name["footprint"]["url"])
    assert kml.status_code == 200 and b"<Polygon>" in kml.content
    bundle = await client.get(by_name["delivery_zip"]["url"])
    assert bundle.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert sorted(names) == sorted(
        [r["file_name"] for r in scene["rasters"]] + [by_name["footprint"]["file_name"]]
    )


async def test_archive_quicklooks_need_no_order_but_data_does(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tile = _tile()
    item = await _get(client, f"/archive/stac/collections/{L1D}/items/{tile.id}", headers)
    for key, side in (("thumbnail", 256), ("preview", 512)):
        href = item["assets"][key]["href"]
        assert "?" not in href
        # docs archive-service "search by outcome id": fetched with the API headers
        assert (await client.get(href)).status_code == 401
        response = await client.get(href, headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        assert (
            max(int.from_bytes(response.content[16:20]), int.from_bytes(response.content[20:24]))
            == side
        )
    assert "token" not in item["assets"]["analytic"]["href"]
    assert (await client.get(item["assets"]["analytic"]["href"])).status_code == 401
    data = await client.get(item["assets"]["analytic"]["href"], headers=headers)
    assert data.status_code == 404  # archive data comes through an order
    assert item["assets"]["visual"]["proj:shape"] == item["assets"]["analytic"]["proj:shape"]


async def test_orders_are_created_under_v2_only(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    # docs api-v2 python examples: ORDERS_URI = "/v2/orders/"; seed 000's "POST /orders"
    # abbreviates the V2 paths, there is no such route on the API.
    body = _order_body(_tile())
    assert (await client.post("/orders", json=body, headers=headers)).status_code == 404
    assert (await client.post("/v2/orders/", json=body, headers=headers)).status_code == 201
