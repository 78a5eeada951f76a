"""The ICEYE adapter against what ICEYE documents (``bridge/simulators/iceye/SOURCES.md``):
stable asset keys over product-specific ones, SAR polarizations on the data asset."""

from __future__ import annotations

from collections.abc import AsyncIterator
from xml.etree import ElementTree

import httpx
import pytest
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.query import SearchQuery
from bridge.providers.base import OrderOptions, Provider
from tests.providers.test_iceye_orders import GRD, STEP, _pair
from tests.support import wiring

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
    sim.state.clock.advance(STEP * 2)
    assert (await provider.get_order(order.native_id)).state == "succeeded"
    data = await provider.asset_location("iceye-grd", GRD, "data", order.native_id)
    assert "/products/" in data.href and "Signature=" in data.href
    tif = await _get(sim, data.href)
    assert tif.status_code == 200 and tif.content[:4] in (b"II*\x00", b"MM\x00*")
    meta = await provider.asset_location("iceye-grd", GRD, "metadata", order.native_id)
    xml = await _get(sim, meta.href)
    assert ElementTree.fromstring(xml.content).get("id") == GRD
