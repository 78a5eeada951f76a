"""The ICEYE simulator against ICEYE's public documentation (see ``SOURCES.md`` beside it):
the ``public``/``private`` collections and the product files' asset keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from xml.etree import ElementTree

import httpx
import pytest
from starlette.applications import Starlette

from tests.simulators.test_iceye_orders import CONTRACT, FRAME, FRAME_ITEMS, STEP, V2, _app
from tests.simulators.test_iceye_orders import _buy as buy
from tests.simulators.test_iceye_orders import _client as native_client


@pytest.fixture
def app() -> Starlette:
    return _app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    c = await native_client(app)
    yield c
    await c.aclose()


async def _search(c: httpx.AsyncClient, **body: object) -> list[dict[str, object]]:
    response = await c.post(f"{V2}/search", json={"limit": 100, **body})
    assert response.status_code == 200, response.text
    data: list[dict[str, object]] = response.json()["data"]
    return data


async def test_public_catalog_items_link_only_thumbnails(client: httpx.AsyncClient) -> None:
    # ICEYE docs "build a catalog application": collections public and private; public
    # items include only low-resolution assets (thumbnails).
    for body in ({}, {"collections": ["public"]}):
        items = await _search(client, **body)
        assert len(items) == 100
        for item in items:
            assert item["collection"] == "public"
            assert set(item["assets"]) == {"thumbnail", "thumbnail-png"}  # type: ignore[arg-type]


async def test_private_catalog_holds_the_owned_frames_with_their_product_files(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    private = {"collections": ["private"], "contractID": CONTRACT}
    assert await _search(client, **private) == []
    await buy(client)
    assert await _search(client, **private) == []  # not owned until the purchase closes
    app.state.clock.advance(STEP * 2)
    owned = await _search(client, **private)
    assert sorted(str(i["id"]) for i in owned) == sorted(FRAME_ITEMS)
    for item in owned:
        assert item["collection"] == "private"
        code = str(item["properties"]["sar:product_type"]).lower()  # type: ignore[index]
        assets = item["assets"]
        assert isinstance(assets, dict)
        assert {f"{code}-tif", f"{code}-xml", "thumbnail", "thumbnail-png"} == set(assets)
        assert assets[f"{code}-tif"]["type"] == "image/tiff; application=geotiff"
        meta = await client.get(assets[f"{code}-xml"]["href"])
        assert ElementTree.fromstring(meta.content).findtext("frame_id") == FRAME
        tif = await client.get(assets[f"{code}-tif"]["href"], headers={"Range": "bytes=0-3"})
        assert tif.status_code == 206 and tif.content in (b"II*\x00", b"MM\x00*")
    # The same frames stay in the public catalog, linking only their thumbnails.
    public = await _search(client, ids=FRAME_ITEMS, collections=["public"])
    assert {i["collection"] for i in public} == {"public"}
