"""The Satellogic adapter's order side against its in-process simulator: quote, order,
state, reconciliation, downloads (Telluric rasters, archive quicklooks), errors; goldens
for the pure mapping of Aleph V2 orders.

``UPDATE_GOLDEN=1`` rewrites the files under ``tests/golden/satellogic/``.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from shapely.geometry import shape
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.contract import NativeOrder, OrderOptions, Provider
from bridge.errors import BadRequest, BridgeError, Conflict, Gone, NotFound
from bridge.providers.satellogic import order_client
from bridge.providers.satellogic import order_mapping as satl_orders
from bridge.providers.satellogic.mapping import item_from_native
from bridge.providers.satellogic.order_client import order_id_from_webhook
from bridge.sandbox import build_providers, in_process_sandbox
from bridge.settings import Settings
from bridge.simulators.common.app import SimulatorConfig
from bridge.simulators.satellogic import products
from bridge.simulators.satellogic.archive import L1D, QUICKVIEW, Tile, build_archive
from bridge.simulators.satellogic.auth import QUICKVIEW_CONTRACT_ID
from bridge.simulators.satellogic.downloads import Downloads
from bridge.simulators.satellogic.orders import OrderBook
from bridge.simulators.satellogic.settings import SatellogicSettings
from tests.support import wiring
from tests.support.clock import ManualClock
from tests.support.stac_schemas import assert_valid
from tests.support.wiring import TEST_SCENES, TEST_SEED, provider_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "satellogic"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
BASE = "http://satellogic.simulator"
STEP = 0.05


def _golden(name: str, actual: Any) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(
            orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
    assert orjson.loads(path.read_bytes()) == orjson.loads(orjson.dumps(actual))


def _config(**extra: Any) -> SimulatorConfig:
    return wiring.simulator_config(extra={"satellogic_order_step_s": STEP, **extra})


@pytest.fixture
async def wired() -> AsyncIterator[tuple[Provider, Starlette]]:
    provider, app = provider_for("satellogic", config=_config())
    yield provider, app
    await provider.aclose()


def _tile(collection: str = L1D, index: int = 0) -> Tile:
    tiles = [t for t in build_archive(TEST_SEED, TEST_SCENES).tiles if t.collection == collection]
    return tiles[index]


async def _download(app: Starlette, href: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        return await client.get(href, headers=headers)


async def _until_succeeded(provider: Provider, native_id: str) -> NativeOrder:
    for _ in range(200):
        order = await provider.get_order(native_id)
        if order.state == "succeeded":
            return order
        assert order.state in ("ordered", "shipping"), order
        await asyncio.sleep(STEP / 4)
    raise AssertionError("the order never succeeded")


# --- end to end -----------------------------------------------------------------------


async def test_quote_order_deliver_and_download_a_georeferenced_cog(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, app = wired
    tile = _tile()
    item = await provider.get_item("satellogic-l1d", tile.id)
    assert item is not None
    assert_valid({**item, "links": [{"rel": "collection", "href": "http://b/c"}]})
    analytic = item["assets"]["analytic"]
    assert analytic["roles"] == ["data"] and "token" not in analytic["href"]
    assert analytic["proj:code"] == f"EPSG:{analytic['proj:epsg']}"

    quote = await provider.quote("satellogic-l1d", tile.id, OrderOptions())
    assert quote.currency == "USD" and quote.amount > 0
    assert quote.options == OrderOptions(bundle="ARCIMG-M.04.00")
    assert quote.valid_options == {"bundle": ["ARCIMG-M.04.00"]}

    placed = await provider.place_order("satellogic-l1d", tile.id, OrderOptions(), "ref-e2e")
    assert placed.state == "ordered" and placed.native_status == "created"
    assert placed.reference == "ref-e2e"
    assert (placed.amount, placed.currency) == (quote.amount, quote.currency)
    assert app.state.stats.snapshot()["orders"] == {tile.id: 1}

    with pytest.raises(Conflict, match="not delivered yet"):
        await provider.asset_location("satellogic-l1d", tile.id, "analytic", placed.native_id)
    done = await _until_succeeded(provider, placed.native_id)
    assert done.expires_at is not None and done.amount == quote.amount

    location = await provider.asset_location(
        "satellogic-l1d", tile.id, "analytic", placed.native_id
    )
    assert location.media_type == analytic["type"] and location.expires_at is not None
    response = await _download(app, location.href)  # tokenized: no auth headers
    assert response.status_code == 200
    with MemoryFile(response.content) as memfile, memfile.open() as ds:
        assert ds.crs.to_epsg() == analytic["proj:epsg"]
        assert [ds.height, ds.width] == analytic["proj:shape"]
        assert list(ds.transform)[:6] == pytest.approx(analytic["proj:transform"])
        footprint = transform_bounds("EPSG:4326", ds.crs, *item["bbox"], densify_pts=21)
        pixel = ds.transform.a
        # the grid is the footprint's extent in the tile's UTM zone, to within a pixel
        assert list(ds.bounds) == pytest.approx(list(footprint), abs=pixel)

    again = await provider.asset_location("satellogic-l1d", tile.id, "analytic", placed.native_id)
    assert again.href != location.href  # a fresh token on every call
    visual = await provider.asset_location("satellogic-l1d", tile.id, "visual", placed.native_id)
    with MemoryFile((await _download(app, visual.href)).content) as memfile, memfile.open() as ds:
        assert ds.count == 3 and [ds.height, ds.width] == item["assets"]["visual"]["proj:shape"]


async def test_quickview_order_delivers_its_rgb_analytic(wired: tuple[Provider, Starlette]) -> None:
    provider, app = wired
    tile = _tile(QUICKVIEW, 3)
    placed = await provider.place_order("satellogic-quickview", tile.id, OrderOptions(), "r-q")
    await _until_succeeded(provider, placed.native_id)
    location = await provider.asset_location(
        "satellogic-quickview", tile.id, "analytic", placed.native_id
    )
    with MemoryFile((await _download(app, location.href)).content) as memfile, memfile.open() as ds:
        assert ds.count == 3 and ds.dtypes[0] == "uint8"


async def test_thumbnails_and_previews_need_no_order(wired: tuple[Provider, Starlette]) -> None:
    provider, app = wired
    tile = _tile()
    for key in ("thumbnail", "preview"):
        location = await provider.asset_location("satellogic-l1d", tile.id, key, None)
        assert location.media_type == "image/png" and "token=" not in location.href
        # the archive answers only with the API headers, which the location carries
        assert set(location.headers) == {"authorizationToken", "X-Satellogic-Contract-Id"}
        assert location.client is not None
        assert (await _download(app, location.href)).status_code == 401
        response = await _download(app, location.href, **location.headers)
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
        assert "Bearer" not in repr(location)
    with pytest.raises(Conflict, match="order"):
        await provider.asset_location("satellogic-l1d", tile.id, "analytic", None)
    with pytest.raises(NotFound):
        await provider.asset_location("satellogic-l1d", tile.id, "no-such-asset", None)
    with pytest.raises(NotFound):
        await provider.asset_location("satellogic-l1d", "no-such-item", "thumbnail", None)
    assert app.state.stats.snapshot()["orders"] == {}


async def test_find_orders_by_reference_and_by_item(wired: tuple[Provider, Starlette]) -> None:
    provider, _ = wired
    tile, other = _tile(index=0), _tile(index=1)
    mine = await provider.place_order("satellogic-l1d", tile.id, OrderOptions(), "ref-A")
    await provider.place_order("satellogic-l1d", other.id, OrderOptions(), "ref-B")
    found = await provider.find_orders("satellogic-l1d", tile.id, "ref-A")
    assert [o.native_id for o in found] == [mine.native_id]
    assert found[0].reference == "ref-A"
    # a lost call with another reference: the tile's order is still found by item
    by_item = await provider.find_orders("satellogic-l1d", tile.id, "ref-lost")
    assert [o.native_id for o in by_item] == [mine.native_id]
    assert await provider.find_orders("satellogic-l1d", _tile(index=2).id, "ref-none") == []


async def test_find_orders_follows_offset_pages(
    wired: tuple[Provider, Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, app = wired
    tile = _tile(QUICKVIEW, 5)
    for n in range(3):
        await provider.place_order("satellogic-quickview", tile.id, OrderOptions(), f"p-{n}")
    monkeypatch.setattr(order_client, "LIST_LIMIT", 1)
    app.state.stats.reset()
    found = await provider.find_orders("satellogic-quickview", tile.id, "p-0")
    listed = app.state.stats.snapshot()["requests"]
    assert sum(n for route, n in listed.items() if route.startswith("GET /v2/orders")) >= 3
    assert sorted(o.reference or "" for o in found) == ["p-0", "p-1", "p-2"]


async def test_cancel_is_a_conflict_and_unknown_orders_are_not_found(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, _ = wired
    placed = await provider.place_order("satellogic-l1d", _tile().id, OrderOptions(), "ref-c")
    with pytest.raises(Conflict, match="no cancellation"):
        await provider.cancel_order(placed.native_id)
    with pytest.raises(NotFound):
        await provider.get_order("999999")
    with pytest.raises(NotFound):
        await provider.cancel_order("999999")


@pytest.mark.parametrize(
    ("options", "valid"),
    [
        (OrderOptions(license="STANDARD"), "valid licenses: none"),
        (OrderOptions(seats=2), "valid seats: none"),
        (OrderOptions(bundle="L1B"), "valid bundles: ARCIMG-M.04.00"),
    ],
)
async def test_invalid_options_list_the_valid_ones(
    wired: tuple[Provider, Starlette], options: OrderOptions, valid: str
) -> None:
    provider, app = wired
    with pytest.raises(BadRequest, match=valid):
        await provider.quote("satellogic-l1d", _tile().id, options)
    with pytest.raises(BadRequest, match=valid):
        await provider.place_order("satellogic-l1d", _tile().id, options, "ref-x")
    assert app.state.stats.snapshot()["orders"] == {}
    ok = await provider.quote("satellogic-l1d", _tile().id, OrderOptions(bundle="ARCIMG-M.04.00"))
    assert ok.amount > 0


async def test_unknown_items_are_not_found(wired: tuple[Provider, Starlette]) -> None:
    provider, _ = wired
    with pytest.raises(NotFound):
        await provider.quote("satellogic-l1d", "nope", OrderOptions())
    with pytest.raises(NotFound):
        await provider.place_order("satellogic-l1d", "nope", OrderOptions(), "r")


async def test_expired_delivery_is_gone() -> None:
    clock = ManualClock(time.time())
    config = _config(satellogic_delivery_ttl_s=3600)
    config.clock = clock
    provider, _ = provider_for("satellogic", config=config)
    try:
        tile = _tile()
        placed = await provider.place_order("satellogic-l1d", tile.id, OrderOptions(), "r-exp")
        clock.now += 2 * STEP
        await _until_succeeded(provider, placed.native_id)
        clock.now += 3601
        with pytest.raises(Gone):
            await provider.asset_location("satellogic-l1d", tile.id, "analytic", placed.native_id)
        assert (await provider.get_order(placed.native_id)).state == "succeeded"
    finally:
        await provider.aclose()


async def test_failed_order_maps_to_failed() -> None:
    provider, _ = provider_for("satellogic", config=_config(satellogic_fail_rate=1.0))
    try:
        tile = _tile()
        placed = await provider.place_order("satellogic-l1d", tile.id, OrderOptions(), "r-f")
        for _ in range(200):
            order = await provider.get_order(placed.native_id)
            if order.state == "failed":
                break
            await asyncio.sleep(STEP / 4)
        assert order.state == "failed" and order.native_status == "failed"
        with pytest.raises(Conflict, match="failed"):
            await provider.asset_location("satellogic-l1d", tile.id, "analytic", placed.native_id)
    finally:
        await provider.aclose()


async def test_an_order_for_another_item_delivers_nothing_here(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, _ = wired
    a, b = _tile(index=0), _tile(index=40)
    assert a.item["properties"]["satl:outcome_id"] != b.item["properties"]["satl:outcome_id"]
    placed = await provider.place_order("satellogic-l1d", a.id, OrderOptions(), "r-a")
    await _until_succeeded(provider, placed.native_id)
    with pytest.raises(Conflict, match="does not deliver"):
        await provider.asset_location("satellogic-l1d", b.id, "analytic", placed.native_id)


async def test_contract_without_the_product_cannot_order_it() -> None:
    sandbox = in_process_sandbox(_config(), names=["satellogic"])
    settings = sandbox.provider_settings["satellogic"].model_copy(
        update={"contract_id": QUICKVIEW_CONTRACT_ID}
    )
    catalog = load_catalog(wiring.COLLECTIONS, providers=["satellogic"])
    provider = build_providers(Settings(), catalog, {"satellogic": settings}, sandbox.transports)[
        "satellogic"
    ]
    try:
        # the contract's archive does not even show L1D tiles
        with pytest.raises(NotFound):
            await provider.quote("satellogic-l1d", _tile().id, OrderOptions())
        quote = await provider.quote("satellogic-quickview", _tile(QUICKVIEW).id, OrderOptions())
        assert quote.options.bundle == "ARCIMG-M.02.00"
    finally:
        await provider.aclose()


async def test_credentials_stay_out_of_errors_and_reprs(wired: tuple[Provider, Starlette]) -> None:
    provider, _ = wired
    secret = (
        in_process_sandbox(_config(), names=["satellogic"])
        .provider_settings["satellogic"]
        .client_secret
    )
    assert isinstance(secret, SecretStr)
    errors: list[BridgeError] = []
    for call in (
        provider.get_order("999999"),
        provider.cancel_order("999999"),
        provider.quote("satellogic-l1d", _tile().id, OrderOptions(license="X")),
    ):
        try:
            await call
        except BridgeError as exc:
            errors.append(exc)
    assert len(errors) == 3
    for text in [repr(provider), *(str(e) for e in errors), *(repr(e.detail) for e in errors)]:
        assert secret.get_secret_value() not in text
        assert "Bearer" not in text


def test_order_id_from_webhook() -> None:
    assert (
        order_id_from_webhook({"type": "Feature", "properties": {"order_id": "000042"}}) == "000042"
    )
    assert order_id_from_webhook({"order_id": "000007"}) == "000007"
    assert order_id_from_webhook({"hello": 1}) is None
    assert order_id_from_webhook(["000001"]) is None


# --- goldens: pure mapping ------------------------------------------------------------


def _fixed_tokens(value: Any) -> Any:
    text = orjson.dumps(value).decode()
    text = re.sub(r"token=[A-Za-z0-9_-]+", "token=TOKEN", text)
    return orjson.loads(re.sub(r"/token/[A-Za-z0-9_-]+/", "/token/TOKEN/", text))


def test_served_tile_maps_to_an_item_with_proj_on_its_rasters() -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    book = OrderBook(1.0, 1.0, 0.0, TEST_SEED, clock=ManualClock(1_767_225_600.0))
    downloads = Downloads(archive, book, SatellogicSettings())
    tile = _tile()
    native = _fixed_tokens({**tile.item, "assets": downloads.archive_assets(tile, BASE)})
    _golden("native_served_l1d.json", native)
    item = item_from_native(native)
    _golden("item_served_l1d.json", item)
    grid = downloads.tile_raster(tile)[0]
    for key in ("analytic", "visual"):
        asset = item["assets"][key]
        assert asset["proj:shape"] == [grid.rows, grid.cols]
        assert asset["proj:transform"] == list(grid.transform)
        assert asset["proj:epsg"] == grid.epsg
    assert "?" not in item["assets"]["thumbnail"]["href"]
    assert_valid({**item, "links": [{"rel": "collection", "href": "http://b/c"}]})


NATIVE_ORDER = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[4.6, 52.0], [4.62, 52.0], [4.62, 52.02], [4.6, 52.02], [4.6, 52.0]]],
    },
    "properties": {
        "order_id": "000383",
        "contract_id": "cont.12345678-6863-4375-a89e-c832b32a5350",
        "contract_name": "my_contract",
        "project_id": None,
        "project_name": None,
        "name": "bridge-order-7",
        "sku": "ARCIMG-M.04.00",
        "product_name": "Archive Imagery",
        "processing_level": "L1D",
        "parameters": {"outcome_id": "7850c8db-8d69-48b3-91c2-28420b546c73"},
        "status": "completed",
        "quantity": {"value": 3.0958, "unit": "km2"},
        "price": {"amount": "37.15", "currency": "USD"},
        "created_at": "2026-03-01T10:00:00.000000Z",
        "updated_at": "2026-03-01T10:00:04.000000Z",
    },
}
DELIVERABLE = {
    "deliverable_id": "2b1c7d52-3f7e-4c55-9a0e-5a4f0b1d2e3c",
    "order_id": "000383",
    "capture_id": "7850c8db-8d69-48b3-91c2-28420b546c73",
    "sku": "ARCIMG-M.04.00",
    "processing_level": "L1D",
    "status": "available",
    "quantity": {"value": 3.0958, "unit": "km2"},
    "delivery_type": "telluric",
    "sceneset_id": "9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a",
    "created_at": "2026-03-01T10:00:00.000000Z",
    "updated_at": "2026-03-01T10:00:04.000000Z",
    "available_at": "2026-03-01T10:00:04.000000Z",
    "expires_at": "2026-03-31T10:00:04.000000Z",
}


def test_native_order_mapping_golden() -> None:
    cases = {}
    for status in ("created", "processing", "completed", "failed", "canceled", "unheard-of"):
        feature = orjson.loads(orjson.dumps(NATIVE_ORDER))
        feature["properties"]["status"] = status
        deliverables = [DELIVERABLE] if status == "completed" else []
        cases[status] = satl_orders.native_order(feature, deliverables).__dict__
    _golden("native_order_mapped.json", cases)
    assert cases["completed"]["amount"] == 3715 and cases["unheard-of"]["state"] == "pending"


def test_order_body_golden() -> None:
    item = item_from_native({**_tile().item, "assets": {}})
    _golden("order_body_l1d.json", satl_orders.order_body(item, "ARCIMG-M.04.00", "ref-1"))


def test_prices_and_areas_agree_with_the_simulator() -> None:
    for tile in build_archive(TEST_SEED, TEST_SCENES).tiles[:300]:
        ours = satl_orders.area_km2(tile.item["geometry"])
        assert ours == pytest.approx(products.area_km2(shape(tile.item["geometry"])), rel=1e-12)
        assert 0 < ours <= 4.1  # the archive's 2 km grid is approximate
    assert satl_orders.price_cents(2.99456, Decimal("12.00")) == (Decimal("2.9946"), 3594)
    assert satl_orders.decimal_cents("37.15") == 3715 and satl_orders.decimal_cents("x") is None


def test_pick_raster() -> None:
    ms = {"url": "ms", "bands": ["blue", "green", "red", "nir"]}
    rgb = {"url": "rgb", "bands": ["red", "green", "blue"]}
    assert satl_orders.pick_raster([ms, rgb], "analytic") == ms
    assert satl_orders.pick_raster([ms, rgb], "visual") == rgb
    assert satl_orders.pick_raster([rgb], "analytic") == rgb
    assert satl_orders.pick_raster([rgb], "visual") is None
    assert satl_orders.pick_raster([], "analytic") is None


async def test_orders_are_placed_under_v2_orders(wired: tuple[Provider, Starlette]) -> None:
    provider, app = wired
    app.state.stats.reset()
    tile = _tile(QUICKVIEW, 3)
    order = await provider.place_order("satellogic-quickview", tile.id, OrderOptions(), "v2")
    requests = app.state.stats.snapshot()["requests"]
    assert requests.get("POST /v2/orders/") == 1, requests
    assert (await provider.get_order(order.native_id)).reference == "v2"


def test_declared_bands_are_those_of_the_delivered_rasters() -> None:
    from bridge.providers.satellogic.names import asset_bands

    for product in products.PRODUCTS.values():
        rasters = [{"bands": list(r.bands), "dtype": r.spec.dtype} for r in product.rasters]
        for key in ("analytic", "visual"):
            declared = asset_bands(product.level, key)
            raster = satl_orders.pick_raster(rasters, key)
            if raster is None:
                assert declared is None, (product.level, key)
                continue
            assert declared is not None, (product.level, key)
            assert [b.get("eo:common_name") or str(b["name"]).removeprefix("visual_")
                    for b in declared] == raster["bands"]  # fmt: skip
            assert {b["data_type"] for b in declared} == {raster["dtype"]}


def test_unknown_order_and_deliverable_values_are_tolerated() -> None:
    feature = orjson.loads(orjson.dumps(NATIVE_ORDER))
    feature["properties"]["status"] = "awaiting_review"  # a status no source lists
    feature["properties"]["new_field"] = {"x": 1}
    deliverable = {**DELIVERABLE, "status": "quarantined", "extra": True}
    order = satl_orders.native_order(feature, [deliverable])
    assert order.state == "pending" and order.native_status == "awaiting_review"
    assert order.details["deliverables"][0]["status"] == "quarantined"
