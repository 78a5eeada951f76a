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
    app.state.clock.now += STEP * 2
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


PROBLEM = {"Accept": "application/json, application/problem+json"}


async def test_errors_are_problem_details_when_the_client_asks(
    client: httpx.AsyncClient,
) -> None:
    # ICEYE docs "error handling": Accept application/problem+json → {title, code,
    # details, reference}.
    params = {"frameID": "nope", "contractID": CONTRACT, "eula": "STANDARD"}
    problem = await client.get(f"{V2}/price", params=params, headers=PROBLEM)
    assert problem.status_code == 404
    assert problem.headers["content-type"].startswith("application/problem+json")
    body = problem.json()
    assert set(body) == {"title", "code", "details", "reference"}
    assert body["title"] == "Not Found" and "nope" in body["details"]
    default = await client.get(f"{V2}/price", params=params)
    assert set(default.json()) == {"code", "message"}
    anonymous = await client.post(
        f"{V2}/search", json={}, headers={**PROBLEM, "Authorization": "Bearer wrong"}
    )
    assert anonymous.status_code == 401 and anonymous.json()["title"] == "Unauthorized"


async def test_price_is_unavailable_on_a_contract_without_pricing_plan() -> None:
    c = await native_client(_app(iceye_unpriced_contracts=[CONTRACT]))
    params = {"frameID": FRAME, "contractID": CONTRACT, "eula": "STANDARD"}
    response = await c.get(f"{V2}/price", params=params, headers=PROBLEM)
    await c.aclose()
    assert response.status_code == 400
    assert response.json()["code"] == "OUT_OF_BOUND_CONTRACT"
    assert "no Pricing Plan" in response.json()["details"]


async def test_eula_is_optional_on_a_v2_purchase(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{V2}/purchases", json={"frameID": FRAME, "contractID": CONTRACT})
    assert response.status_code == 200, response.text
    assert response.json()["eula"] == "STANDARD"


V1 = "/api/catalog/v1"


async def test_v1_search_is_paged_through_get_items_with_its_cursor(
    client: httpx.AsyncClient,
) -> None:
    # ICEYE docs "search catalog items": POST /catalog/v1/search answers a cursor when
    # more results exist; GET /catalog/v1/items?cursor=...&limit=... continues it.
    body = {"query": {"product_type": {"eq": "SICD"}}, "bbox": [-180, -90, 180, 90]}
    whole = (await client.post(f"{V1}/search", json={**body, "limit": 10_000})).json()
    assert "cursor" not in whole and len(whole["data"]) > 25
    first = (await client.post(f"{V1}/search", json={**body, "limit": 10})).json()
    ids, cursor = [i["id"] for i in first["data"]], first.get("cursor")
    while cursor:
        page = await client.get(f"{V1}/items", params={"cursor": cursor, "limit": 7})
        assert page.status_code == 200, page.text
        ids += [i["id"] for i in page.json()["data"]]
        cursor = page.json().get("cursor")
    assert ids == [i["id"] for i in whole["data"]]  # the query held on every page


@pytest.mark.parametrize(("limit", "status", "count"), [(None, 200, 10), (0, 200, 0),
                         (10_000, 200, 6000), (10_001, 400, 0), (-1, 400, 0)])  # fmt: skip
async def test_v1_limit_is_0_to_10000_default_10(
    client: httpx.AsyncClient, limit: int | None, status: int, count: int
) -> None:
    # ICEYE docs changelog: the v1 limit lies within 0..10000, else 400; default 10.
    params = {} if limit is None else {"limit": limit}
    response = await client.get(f"{V1}/items", params=params)
    assert response.status_code == status
    if status == 200:
        assert len(response.json()["data"]) == count
        assert ("cursor" in response.json()) == (0 < count < 6000)
