"""The ICEYE adapter's ordering side against the simulator: quote, purchase, delivery.

Set ``UPDATE_GOLDEN=1`` to rewrite ``tests/golden/iceye/orders.json``.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from starlette.applications import Starlette

from bridge.core.contract import OrderOptions, Provider
from bridge.errors import BadRequest, Conflict, Forbidden, NotFound
from bridge.providers.iceye.order_mapping import (
    order_from_purchase,
    pick_product,
    webhook_purchase_id,
)
from bridge.simulators.iceye.archive import build_archive
from tests.support import wiring
from tests.support.clock import ManualClock

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "iceye"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
STEP = 10.0
COLLECTION_OF = {"GRD": "iceye-grd", "SLC": "iceye-slc"}


def _frame_items() -> dict[str, str]:
    """Product type → item id of one frame with a GRD and an SLC."""
    archive = build_archive(wiring.TEST_SEED, wiring.TEST_SCENES)
    for scenes in archive.by_frame.values():
        types = {s.product_type: s.id for s in scenes}
        if len(scenes) >= 3:
            return types
    raise AssertionError("no such frame")


ITEMS = _frame_items()
GRD, SLC = ITEMS["GRD"], ITEMS["SLC"]


async def _pair(version: str, **extra: Any) -> tuple[Provider, Starlette]:
    config = wiring.simulator_config(
        extra={"iceye_order_step_s": STEP, **extra}, clock=ManualClock(time.time())
    )
    return wiring.provider_for("iceye", api_version=version, config=config)


@pytest.fixture
async def v2() -> AsyncIterator[tuple[Provider, Starlette]]:
    provider, sim = await _pair("v2")
    yield provider, sim
    await provider.aclose()


@pytest.fixture
async def v1() -> AsyncIterator[tuple[Provider, Starlette]]:
    provider, sim = await _pair("v1")
    yield provider, sim
    await provider.aclose()


async def _download(sim: Starlette, href: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim)) as c:
        return await c.get(href)


# --- quotes -----------------------------------------------------------------------------------


async def test_quote_defaults_to_standard_and_lists_the_eulas(
    v2: tuple[Provider, Starlette],
) -> None:
    provider, _ = v2
    quote = await provider.quote("iceye-grd", GRD, OrderOptions())
    assert quote.options == OrderOptions(license="STANDARD")
    assert quote.currency == "EUR" and quote.amount > 0
    assert quote.valid_options == {"license": ["STANDARD", "GOVERNMENT", "MULTI"]}
    assert "frame" in quote.covers and quote.details["frame_id"]
    multi = await provider.quote("iceye-grd", GRD, OrderOptions(license="MULTI"))
    assert multi.amount > quote.amount
    # Both products of the frame cost the frame's price.
    assert (await provider.quote("iceye-slc", SLC, OrderOptions())).amount == quote.amount


async def test_quote_refuses_what_iceye_does_not_sell(v2: tuple[Provider, Starlette]) -> None:
    provider, _ = v2
    with pytest.raises(BadRequest, match="STANDARD, GOVERNMENT, MULTI"):
        await provider.quote("iceye-grd", GRD, OrderOptions(license="GOLD"))
    with pytest.raises(BadRequest, match="bundle"):
        await provider.quote("iceye-grd", GRD, OrderOptions(bundle="x"))
    with pytest.raises(BadRequest, match="seats"):
        await provider.quote("iceye-grd", GRD, OrderOptions(seats=3))
    with pytest.raises(NotFound):
        await provider.quote("iceye-grd", "no-such-item", OrderOptions())


# --- the whole flow ---------------------------------------------------------------------------


async def test_order_until_succeeded_then_download_a_georeferenced_cog(
    v2: tuple[Provider, Starlette],
) -> None:
    provider, sim = v2
    order = await provider.place_order("iceye-grd", GRD, OrderOptions(), "bridge-order-1")
    assert (order.state, order.native_status, order.reference) == (
        "ordered",
        "received",
        "bridge-order-1",
    )
    with pytest.raises(Conflict, match="not delivered yet"):
        await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
    states = []
    for _ in range(3):
        states.append((await provider.get_order(order.native_id)).state)
        sim.state.clock.now += STEP
    assert states == ["ordered", "shipping", "succeeded"]

    item = await provider.get_item("iceye-grd", GRD)
    assert item is not None
    location = await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
    assert location.media_type == "image/tiff; application=geotiff"  # as ICEYE types grd-tif
    assert location.expires_at is not None
    response = await _download(sim, location.href)
    assert response.status_code == 200
    west, south, east, north = item["bbox"]
    with MemoryFile(response.content) as memfile, memfile.open() as ds:
        assert ds.crs.to_epsg() is not None and ds.overviews(1)
        lon0, lat0, lon1, lat1 = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
        pad = 0.01
        assert lon0 - pad <= west and east <= lon1 + pad
        assert lat0 - pad <= south and north <= lat1 + pad
        assert abs(lon0 - west) < 0.05 and abs(lat1 - north) < 0.05

    # The frame purchase delivers the SLC too: ordering it reuses the purchase.
    again = await provider.place_order("iceye-slc", SLC, OrderOptions(), "bridge-order-2")
    assert again.native_id == order.native_id and again.details["reused"] is True
    slc = await provider.asset_location("iceye-slc", SLC, "data", order.native_id)
    assert (await _download(sim, slc.href)).status_code == 200
    orders = (await _download(sim, "http://iceye.simulator/_simulator/stats")).json()["orders"]
    assert orders[GRD] == 1 and orders[SLC] == 1

    # Another EULA is another purchase.
    multi = await provider.place_order("iceye-grd", GRD, OrderOptions(license="MULTI"), "b-3")
    assert multi.native_id != order.native_id and multi.details["eula"] == "MULTI"


async def test_urls_are_fresh_after_the_old_one_expired(v2: tuple[Provider, Starlette]) -> None:
    provider, sim = v2
    order = await provider.place_order("iceye-grd", GRD, OrderOptions(), "bridge-order-9")
    sim.state.clock.now += STEP * 2
    first = await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
    sim.state.clock.now += 3601
    assert (await _download(sim, first.href)).status_code == 403
    second = await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
    assert second.href != first.href
    assert (await _download(sim, second.href)).status_code == 200


async def test_find_orders_matches_the_reference(v2: tuple[Provider, Starlette]) -> None:
    provider, _ = v2
    placed = await provider.place_order("iceye-grd", GRD, OrderOptions(), "ref-find-me")
    found = await provider.find_orders("iceye-grd", GRD, "ref-find-me")
    assert [o.native_id for o in found] == [placed.native_id]
    assert await provider.find_orders("iceye-grd", GRD, "ref-unknown") == []


async def test_cancel_is_refused(v2: tuple[Provider, Starlette]) -> None:
    provider, _ = v2
    order = await provider.place_order("iceye-grd", GRD, OrderOptions(), "ref-cancel")
    with pytest.raises(Conflict, match="cannot be canceled"):
        await provider.cancel_order(order.native_id)
    with pytest.raises(NotFound):
        await provider.get_order("no-such-purchase")


@pytest.mark.parametrize("outcome", ["failed", "canceled"])
async def test_failed_and_canceled_purchases(outcome: str) -> None:
    frame = build_archive(wiring.TEST_SEED, wiring.TEST_SCENES).by_id[GRD].properties["frame_id"]
    provider, sim = await _pair("v2", iceye_purchase_outcomes={frame: outcome})
    try:
        order = await provider.place_order("iceye-grd", GRD, OrderOptions(), "ref-x")
        sim.state.clock.now += STEP * 3
        now = await provider.get_order(order.native_id)
        assert now.state == outcome
        with pytest.raises(Conflict, match=outcome):
            await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
        # A dead purchase is not reused.
        fresh = await provider.place_order("iceye-grd", GRD, OrderOptions(), "ref-y")
        assert fresh.native_id != order.native_id
        if outcome == "canceled":
            assert (await provider.cancel_order(order.native_id)).state == "canceled"
    finally:
        await provider.aclose()


async def test_quicklooks_need_no_order(v2: tuple[Provider, Starlette]) -> None:
    provider, sim = v2
    for key, magic in (("thumbnail-png", b"\x89PNG"), ("thumbnail", b"\xff\xd8")):
        location = await provider.asset_location("iceye-grd", GRD, key, None)
        response = await _download(sim, location.href)
        assert response.status_code == 200 and response.content.startswith(magic)
        assert location.expires_at is not None
    with pytest.raises(Conflict, match="needs an ICEYE purchase"):
        await provider.asset_location("iceye-grd", GRD, "data", None)
    with pytest.raises(NotFound):
        await provider.asset_location("iceye-grd", GRD, "no-such-asset", None)
    with pytest.raises(NotFound):
        await provider.asset_location("iceye-grd", "no-such-item", "thumbnail", None)


async def test_no_contract_is_forbidden_and_leaks_nothing() -> None:
    provider, _ = await _pair("v2")
    try:
        provider._purchases._contract_id = None  # type: ignore[attr-defined]
        with pytest.raises(Forbidden) as caught:
            await provider.place_order("iceye-grd", GRD, OrderOptions(), "r")
        assert "secret" not in str(caught.value)
        assert "secret" not in repr(provider)
    finally:
        await provider.aclose()


# --- v1 ---------------------------------------------------------------------------------------


async def test_v1_orders_by_item_but_prices_and_delivers_nothing(
    v1: tuple[Provider, Starlette],
) -> None:
    provider, sim = v1
    with pytest.raises(Conflict, match="price"):
        await provider.quote("iceye-grd", GRD, OrderOptions())
    with pytest.raises(BadRequest, match="EULA"):
        await provider.place_order("iceye-grd", GRD, OrderOptions(license="STANDARD"), "r")
    order = await provider.place_order("iceye-grd", GRD, OrderOptions(), "v1-ref")
    assert order.state == "ordered" and order.reference == "v1-ref"
    sim.state.clock.now += STEP * 2
    assert (await provider.get_order(order.native_id)).state == "succeeded"
    found = await provider.find_orders("iceye-grd", GRD, "v1-ref")
    assert [o.native_id for o in found] == [order.native_id]
    with pytest.raises(Conflict, match="pre-configured bucket"):
        await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
    thumb = await provider.asset_location("iceye-grd", GRD, "thumbnail-png", None)
    assert (await _download(sim, thumb.href)).status_code == 200
    with pytest.raises(Conflict):
        await provider.cancel_order(order.native_id)


# --- pure mapping -----------------------------------------------------------------------------

PURCHASES_V2 = [
    {
        "id": f"p-{status}",
        "frameID": "frame_123456",
        "contractID": "contract-uuid",
        "createdAt": "2025-01-15T12:00:00Z",
        "status": status,
        "reference": "Project Alpha",
        "eula": "STANDARD",
    }
    for status in ("received", "active", "closed", "failed", "canceled", "onHold")
]
PURCHASES_V1 = [
    {
        "id": "purchase-uuid",
        "customerName": "ACME Corp",
        "contractName": "Contract",
        "createdAt": "2025-01-15T12:00:00Z",
        "status": "closed",
        "reference": None,
    }
]


def test_order_mapping_golden() -> None:
    actual = {
        "v2": [order_from_purchase(p, "v2").__dict__ for p in PURCHASES_V2],
        "v1": [order_from_purchase(p, "v1").__dict__ for p in PURCHASES_V1],
    }
    actual = orjson.loads(orjson.dumps(actual))
    path = GOLDEN / "orders.json"
    if UPDATE:
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    assert actual == orjson.loads(path.read_bytes())
    with pytest.raises(KeyError):
        order_from_purchase({"id": "x"}, "v2")


def test_webhook_ids_and_product_picking() -> None:
    assert webhook_purchase_id({"purchaseID": "p1"}) == "p1"
    assert webhook_purchase_id({"data": {"purchaseId": "p2"}}) == "p2"
    assert webhook_purchase_id({"taskID": "t"}) is None
    assert webhook_purchase_id(["p"]) is None
    products = [
        {"id": "A", "properties": {"sar:product_type": "GRD"}},
        {"id": "B", "properties": {"sar:product_type": "SLC"}},
    ]
    assert pick_product(products, "B", ("GRD",)) == products[1]
    # A reprocessed item (new id) is found by its product type within the frame.
    assert pick_product(products, "A-reprocessed", ("GRD", "GRD-COG")) == products[0]
    assert pick_product(products, "C", ("SICD",)) is None
