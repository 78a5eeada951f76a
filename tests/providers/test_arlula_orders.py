"""The Arlula adapter's order side against its simulator (both API generations): quote,
place, follow to delivery, download the GeoTIFF, reconcile, errors; golden files for the
pure mapping (options → quote, native order → NativeOrder)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from starlette.applications import Starlette

from bridge.core.contract import Item, NativeOrder, OrderOptions
from bridge.core.query import build_query
from bridge.errors import BadRequest, Conflict, Gone, NotFound, PaymentRequired
from bridge.providers.arlula import ArlulaProvider
from bridge.providers.arlula.order_mapping import choose, order_from_2020, order_from_2023
from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET
from bridge.simulators.arlula.orders_api import file_stem
from tests.support.wiring import provider_for, simulator_config

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "arlula"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
VERSIONS = ("2023-01", "2020-12")
HELSINKI = [24.5, 60.0, 25.5, 60.4]
TWO_YEARS = "2022-01-01T00:00:00Z/2023-12-31T23:59:59Z"
FAST = {"arlula_order_step_s": 0.05}


def golden(name: str, actual: Any) -> Any:
    """Compare with golden file ``name`` (rewritten with UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return orjson.loads(path.read_bytes())


async def wired(version: str, **extra: Any) -> tuple[ArlulaProvider, Starlette]:
    provider, app = provider_for(
        "arlula", api_version=version, config=simulator_config(extra={**FAST, **extra})
    )
    assert isinstance(provider, ArlulaProvider)
    return provider, app


@pytest.fixture(params=VERSIONS)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ArlulaProvider, Starlette]]:
    provider, app = await wired(request.param)
    yield provider, app
    await provider.aclose()


async def paid_item(provider: ArlulaProvider, supplier: str = "maxar") -> Item:
    query = build_query(bbox=HELSINKI, datetime=TWO_YEARS)
    page = await provider.search(query, None, 200)
    return next(i for i in page.items if i["properties"]["arlula:supplier"] == supplier)


async def until_done(provider: ArlulaProvider, native_id: str) -> NativeOrder:
    for _ in range(200):
        order = await provider.get_order(native_id)
        if order.state in ("succeeded", "failed", "canceled"):
            return order
        await asyncio.sleep(0.02)
    raise AssertionError("the order never finished")


async def fetch(app: Starlette, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        return await client.get(url)


async def test_quote_order_deliver_download(pair: tuple[ArlulaProvider, Starlette]) -> None:
    provider, app = pair
    item = await paid_item(provider)
    cid = item["collection"]
    quote = await provider.quote(cid, item["id"], OrderOptions())
    assert quote.currency == "USD" and quote.amount > 0 and quote.amount % 100 == 0
    assert quote.options.license in quote.valid_options["license"]
    placed = await provider.place_order(cid, item["id"], OrderOptions(), reference="bridge-1")
    assert placed.state == "ordered" and placed.native_status == "pending"
    assert placed.amount == quote.amount and placed.reference is None
    with pytest.raises(Conflict):  # not delivered yet
        await provider.asset_location(cid, item["id"], "data", placed.native_id)
    done = await until_done(provider, placed.native_id)
    assert done.state == "succeeded" and done.expires_at is not None
    location = await provider.asset_location(cid, item["id"], "data", placed.native_id)
    assert location.media_type == "image/tiff; application=geotiff; profile=cloud-optimized"
    assert location.expires_at is not None and location.expires_at <= done.expires_at
    response = await fetch(app, location.href)
    assert response.status_code == 200
    with MemoryFile(response.content) as mem, mem.open() as ds:
        west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    bbox = item["bbox"]
    assert west <= bbox[0] and south <= bbox[1] and east >= bbox[2] and north >= bbox[3]
    assert (west, south, east, north) == pytest.approx(bbox, abs=0.03)
    found = await provider.find_orders(cid, item["id"], reference="bridge-1")
    assert [o.native_id for o in found] == [placed.native_id]
    other = await paid_item(provider, "siis")
    assert await provider.find_orders(other["collection"], other["id"], "bridge-2") == []
    with pytest.raises(Conflict):
        await provider.cancel_order(placed.native_id)
    with pytest.raises(NotFound):  # the order bought another scene
        await provider.asset_location(other["collection"], other["id"], "data", placed.native_id)


async def test_thumbnails_need_no_order(pair: tuple[ArlulaProvider, Starlette]) -> None:
    provider, app = pair
    item = await paid_item(provider)
    location = await provider.asset_location(item["collection"], item["id"], "thumbnail", None)
    assert location.media_type == "image/png"
    response = await fetch(app, location.href)
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    with pytest.raises(NotFound):
        await provider.asset_location(item["collection"], item["id"], "nope", None)
    with pytest.raises(Conflict):
        await provider.asset_location(item["collection"], item["id"], "data", None)


async def test_options_2023() -> None:
    provider, _ = await wired("2023-01")
    try:
        item = await paid_item(provider)
        cid, iid = item["collection"], item["id"]
        standard = await provider.quote(cid, iid, OrderOptions())
        assert standard.options.bundle == "visual" and standard.options.seats == 1
        assert standard.options.license is not None and standard.options.license.endswith(
            "/standard"
        )
        by_name = await provider.quote(
            cid, iid, OrderOptions(license="enterprise", bundle="multispectral")
        )
        assert by_name.amount > standard.amount
        seats = await provider.quote(cid, iid, OrderOptions(seats=4))
        assert seats.options.license is not None and seats.options.license.endswith("/standard-5")
        assert seats.amount == pytest.approx(standard.amount * 1.5, abs=100)
        with pytest.raises(BadRequest, match="valid: visual, multispectral, pansharpened"):
            await provider.quote(cid, iid, OrderOptions(bundle="nope"))
        with pytest.raises(BadRequest, match="Standard"):
            await provider.quote(cid, iid, OrderOptions(license="nope"))
        with pytest.raises(BadRequest, match="does not cover 4 seats"):
            await provider.quote(cid, iid, OrderOptions(license="Standard", seats=4))
        placed = await provider.place_order(cid, iid, OrderOptions(license="enterprise"), "r")
        assert (
            placed.amount
            == (await provider.quote(cid, iid, OrderOptions(license="enterprise"))).amount
        )
        with pytest.raises(NotFound):
            await provider.quote(cid, iid.replace("maxar_", "siis_"), OrderOptions())
    finally:
        await provider.aclose()


async def test_options_2020() -> None:
    provider, _ = await wired("2020-12")
    try:
        item = await paid_item(provider)
        cid, iid = item["collection"], item["id"]
        price = item["properties"]["arlula:price"]
        one = await provider.quote(cid, iid, OrderOptions())
        assert one.amount == price["base"] and one.options.bundle is None
        three = await provider.quote(cid, iid, OrderOptions(seats=3))
        assert three.amount == price["base"] + price["seats"][1]["additional"]
        with pytest.raises(BadRequest, match="valid: none"):
            await provider.quote(cid, iid, OrderOptions(bundle="visual"))
        with pytest.raises(BadRequest):
            await provider.quote(cid, iid, OrderOptions(license="https://example.com/eula"))
        placed = await provider.place_order(cid, iid, OrderOptions(seats=3), "r")
        assert placed.amount == three.amount
    finally:
        await provider.aclose()


@pytest.mark.parametrize("version", VERSIONS)
async def test_payment_required_and_gone(version: str) -> None:
    provider, _ = await wired(version, arlula_balance_cents=1, arlula_delivery_lifetime_s=0.3)
    try:
        item = await paid_item(provider)
        with pytest.raises(PaymentRequired, match=r"\(402\): insufficient funds"):
            await provider.place_order(item["collection"], item["id"], OrderOptions(), "r")
        free = await paid_item(provider, "esa")  # a public dataset: free, never expires
        placed = await provider.place_order(free["collection"], free["id"], OrderOptions(), "r")
        assert placed.amount == 0
        done = await until_done(provider, placed.native_id)
        assert done.expires_at is None
    finally:
        await provider.aclose()
    provider, _ = await wired(version, arlula_delivery_lifetime_s=0.3)
    try:
        item = await paid_item(provider)
        placed = await provider.place_order(item["collection"], item["id"], OrderOptions(), "r")
        await until_done(provider, placed.native_id)
        await asyncio.sleep(0.35)
        with pytest.raises(Gone):
            await provider.asset_location(item["collection"], item["id"], "data", placed.native_id)
    finally:
        await provider.aclose()


async def test_failed_and_pending_approval_states() -> None:
    provider, _ = await wired("2023-01", arlula_approval_above_cents=0, arlula_approval_s=0.05)
    try:
        item = await paid_item(provider)
        placed = await provider.place_order(item["collection"], item["id"], OrderOptions(), "r")
        assert placed.state == "pending" and placed.native_status == "pending-approval"
        assert (await until_done(provider, placed.native_id)).state == "succeeded"
    finally:
        await provider.aclose()
    probe, _ = await wired("2023-01")
    item = await paid_item(probe)
    await probe.aclose()
    failing = [item["properties"]["arlula:scene_id"]]
    provider, _ = await wired("2023-01", arlula_failing_scenes=failing)
    try:
        placed = await provider.place_order(item["collection"], item["id"], OrderOptions(), "r")
        done = await until_done(provider, placed.native_id)
        assert done.state == "failed" and done.details["refunded_cents"] == done.amount
    finally:
        await provider.aclose()


async def test_webhook_names_the_order() -> None:
    received: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(orjson.loads(request.content))
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as hooks:
        provider, _ = await wired("2023-01", arlula_webhook_client=hooks)
        try:
            item = await paid_item(provider)
            placed = await provider.place_order(
                item["collection"], item["id"], OrderOptions(), "r", webhook_url="https://b/h"
            )
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.02)
        finally:
            await provider.aclose()
    assert provider.order_id_from_webhook(received[0]) == placed.native_id
    assert provider.order_id_from_webhook({"event": "x"}) is None
    assert provider.order_id_from_webhook([1]) is None


def _plain(order: NativeOrder) -> dict[str, Any]:
    out = asdict(order)
    out["expires_at"] = order.expires_at.isoformat() if order.expires_at else None
    return out


async def _native_orders(version: str) -> dict[str, Any]:
    """Native order bodies recorded from the simulator (only when regenerating)."""
    provider, _ = await wired(version)
    try:
        item = await paid_item(provider)
        placed = await provider.place_order(item["collection"], item["id"], OrderOptions(), "r")
        await until_done(provider, placed.native_id)
        if version == "2023-01":
            body = (await provider._client.get(f"/api/order/{placed.native_id}")).json()
        else:
            body = (
                await provider._client.get("/api/order/get", params={"id": placed.native_id})
            ).json()
        return {"item_properties": item["properties"], "order": body}
    finally:
        await provider.aclose()


@pytest.mark.parametrize("version", VERSIONS)
async def test_order_mapping_golden(version: str) -> None:
    native = golden(
        f"order_native_{version}.json", await _native_orders(version) if UPDATE else None
    )
    read = order_from_2023 if version == "2023-01" else order_from_2020
    mapped = _plain(read(native["order"]))
    assert mapped == golden(f"order_mapped_{version}.json", mapped)
    quotes = {}
    for name, options in {
        "default": OrderOptions(),
        "seats_3": OrderOptions(seats=3),
        "license": OrderOptions(
            license="Enterprise"
            if version == "2023-01"
            else native["item_properties"]["arlula:eula"]
        ),
    }.items():
        quotes[name] = asdict(choose(native["item_properties"], version, options)[1])
    assert quotes == golden(f"quotes_{version}.json", quotes)


async def test_a_batch_order_serves_each_scene_its_own_data() -> None:
    # A batch order (placed natively, e.g. with the SDK) holds a dataset per scene; the
    # adapter adopts it by scene and must hand out that scene's GeoTIFF, not the first one.
    provider, app = await wired("2023-01")
    first, second = await paid_item(provider, "siis"), await paid_item(provider)
    orders = [
        {"id": i["properties"]["arlula:ordering_id"],
         "eula": i["properties"]["arlula:licenses"][0]["href"],
         "bundleKey": i["properties"]["arlula:bundles"][0]["key"]}
        for i in (first, second)
    ]  # fmt: skip
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://arlula.test",
        auth=(DEMO_KEY, DEMO_SECRET),
    ) as native:  # fmt: skip
        placed = await native.post("/api/archive/order/batch", json={"orders": orders})
    assert placed.status_code == 200, placed.text
    batch_id = placed.json()["id"]
    found = await provider.find_orders(second["collection"], second["id"], "bridge-1")
    assert [o.native_id for o in found] == [batch_id]
    await until_done(provider, batch_id)
    for item in (first, second):
        location = await provider.asset_location(item["collection"], item["id"], "data", batch_id)
        tif = (await fetch(app, location.href)).headers["content-disposition"]
        assert file_stem(item["properties"]["arlula:scene_id"]) in tif
    await provider.aclose()
