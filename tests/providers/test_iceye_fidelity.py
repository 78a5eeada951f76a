"""The ICEYE adapter against what ICEYE documents (``bridge/simulators/iceye/SOURCES.md``):
stable asset keys over product-specific ones, SAR polarizations on the data asset."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from starlette.applications import Starlette

from bridge.auth.keys import KeyStore
from bridge.catalog import load_catalog
from bridge.core.contract import OrderOptions, Provider
from bridge.core.query import SearchQuery
from bridge.errors import NotFound, ProviderError
from bridge.settings import Settings
from bridge.simulators.common.faults import FaultSettings
from bridge.simulators.iceye.auth import DEMO_CONTRACT_ID
from tests.providers.test_iceye_orders import GRD, STEP, _pair
from tests.support import wiring
from tests.support.clock import ManualClock

ITEM_ASSETS = {
    cid: doc["item_assets"]
    for cid, doc in load_catalog(wiring.COLLECTIONS, ["iceye"]).by_provider["iceye"].items()
}


@pytest.fixture
async def v2() -> AsyncIterator[tuple[Provider, Starlette]]:
    provider, sim = await _pair("v2")
    yield provider, sim
    await provider.aclose()


async def _get(sim: Starlette, href: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim)) as c:
        return await c.get(href)


async def test_every_advertised_asset_is_on_every_item(v2: tuple[Provider, Starlette]) -> None:
    provider, _ = v2
    page = await provider.search(SearchQuery(), None, 100)
    assert len(page.items) == 100
    for item in page.items:
        advertised = ITEM_ASSETS[item["collection"]]
        assert set(item["assets"]) == set(advertised)
        for key, template in advertised.items():
            assert {k: item["assets"][key][k] for k in template} == template
        # SAR assets declare their polarization so odc-stac/stackstac can pick them.
        data = item["assets"]["data"]
        assert data["sar:polarizations"] == item["properties"]["sar:polarizations"]


async def test_advertised_data_and_metadata_resolve_to_the_product_files(
    v2: tuple[Provider, Starlette],
) -> None:
    """ICEYE delivers ``grd-tif``/``grd-xml`` (docs "task products"): the bridge's ``data``
    and ``metadata`` resolve to them."""
    provider, sim = v2
    order = await provider.place_order("iceye-grd", GRD, OrderOptions(), "bridge-order-f")
    sim.state.clock.now += STEP * 2
    assert (await provider.get_order(order.native_id)).state == "succeeded"
    data = await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
    assert "/products/" in data.href and "Signature=" in data.href
    tif = await _get(sim, data.href)
    assert tif.status_code == 200 and tif.content[:4] in (b"II*\x00", b"MM\x00*")
    meta = await provider.asset_location("iceye-grd", GRD, "metadata", order.native_id)
    xml = await _get(sim, meta.href)
    assert ElementTree.fromstring(xml.content).get("id") == GRD


async def test_no_pricing_plan_is_a_quote_without_price() -> None:
    """``/price`` is unavailable on contracts without a pricing plan (ICEYE docs "pricing
    model"): the quote says so instead of failing, and the purchase still works."""
    provider, _ = await _pair("v2", iceye_unpriced_contracts=[DEMO_CONTRACT_ID])
    quote = await provider.quote("iceye-grd", GRD, OrderOptions())
    assert quote.amount is None
    assert "no Pricing Plan" in quote.details["price_unavailable"]
    assert quote.options == OrderOptions(license="STANDARD") and quote.details["frame_id"]
    order = await provider.place_order("iceye-grd", GRD, OrderOptions(), "bridge-unpriced")
    assert order.state == "ordered"
    await provider.aclose()


async def test_iceye_problem_details_are_kept_in_the_bridge_error(
    v2: tuple[Provider, Starlette],
) -> None:
    provider, sim = v2
    with pytest.raises(NotFound) as missing:
        await provider.get_order("no-such-purchase")
    # The problem details format was asked for: ICEYE's title, code and details survive.
    assert "Not Found" in missing.value.description
    assert "NOT_FOUND" in missing.value.description
    assert "purchase not found" in missing.value.description
    sim.state.faults.set(FaultSettings(error_rate=1.0, error_status=503))
    with pytest.raises(ProviderError) as failed:
        await provider.search(SearchQuery(), None, 10)
    assert "503" in failed.value.description
    assert "Internal Server Error" in failed.value.description


async def test_a_quote_without_price_through_the_bridge(tmp_path: Path) -> None:
    config = wiring.simulator_config(extra={"iceye_unpriced_contracts": [DEMO_CONTRACT_ID]})
    app, _ = wiring.sandbox_app(config, Settings(data_dir=tmp_path))
    key = await KeyStore(app.state.db).add_key("acme")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        href = f"/collections/iceye-grd/items/{GRD}/quote"
        response = await c.get(href, headers={"Authorization": f"Bearer {key}"})
    await app.state.db.close()
    assert response.status_code == 200, response.text
    assert response.json()["price"] is None
    assert "no Pricing Plan" in response.json()["details"]["price_unavailable"]


async def test_the_bridge_never_advertises_an_asset_it_cannot_resolve(tmp_path: Path) -> None:
    """Through the bridge: every advertised asset of an ICEYE item resolves (thumbnails at
    once; data and metadata once the order succeeded), though ICEYE's public item links
    only its thumbnails and the products name their files grd-tif/grd-xml."""
    config = wiring.simulator_config(
        extra={"iceye_order_step_s": STEP}, clock=ManualClock(time.time())
    )
    app, sims = wiring.sandbox_app(config, Settings(data_dir=tmp_path))
    sim = sims["iceye"]
    key = await KeyStore(app.state.db).add_key("acme")
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        item = (await c.get(f"/collections/iceye-grd/items/{GRD}", headers=auth)).json()
        assert set(item["assets"]) == set(ITEM_ASSETS["iceye-grd"])
        before = await c.get(item["assets"]["data"]["href"], headers=auth)
        assert before.status_code == 403 and before.json()["code"] == "NotOrdered"
        placed = await c.post(f"/collections/iceye-grd/items/{GRD}/order", headers=auth)
        sim.state.clock.now += 2 * STEP
        order = (await c.get(f"/orders/{placed.json()['id']}", headers=auth)).json()
        assert order["status"] == "succeeded", order
        for key_, magic in (
            ("data", (b"II*\x00", b"MM\x00*")),
            ("metadata", (b"<?xml",)),
            ("thumbnail", (b"\xff\xd8\xff",)),
            ("thumbnail-png", (b"\x89PNG",)),
        ):
            redirect = await c.get(item["assets"][key_]["href"], headers=auth)
            assert redirect.status_code == 307, (key_, redirect.text)
            served = await _get(sim, redirect.headers["location"])
            assert served.status_code == 200 and served.content.startswith(magic), key_
    await app.state.db.close()
