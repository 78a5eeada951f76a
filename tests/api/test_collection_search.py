"""Collection search over the real collection documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.wiring import sandbox_app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app, _ = sandbox_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b.test"
    ) as c:
        yield c


async def ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    resp = await client.get("/collections", params=params)
    assert resp.status_code == 200, resp.text
    return [c["id"] for c in resp.json()["collections"]]


async def test_all_collections_by_default(client: httpx.AsyncClient) -> None:
    everything = await ids(client)
    assert len(everything) >= 4
    assert {c.split("-")[0] for c in everything} == {"arlula", "capella", "iceye", "satellogic"}


async def test_free_text(client: httpx.AsyncClient) -> None:
    sar = await ids(client, q="SAR")
    assert sar and all(c.split("-")[0] in ("capella", "iceye") for c in sar)
    either = await ids(client, q="capella,iceye")
    assert {c.split("-")[0] for c in either} == {"capella", "iceye"}
    assert await ids(client, q="no-such-thing-anywhere") == []


async def test_bbox_datetime_and_sort(client: httpx.AsyncClient) -> None:
    everything = await ids(client)
    assert await ids(client, bbox="24,60,25,61") == everything  # global extents
    assert await ids(client, datetime="2010-01-01T00:00:00Z/2012-01-01T00:00:00Z") == []
    assert await ids(client, sortby="-id") == sorted(everything, reverse=True)


async def test_paging(client: httpx.AsyncClient) -> None:
    everything = await ids(client)
    seen: list[str] = []
    resp = await client.get("/collections", params={"limit": 4})
    while True:
        body = resp.json()
        assert body["numberMatched"] == len(everything)
        seen += [c["id"] for c in body["collections"]]
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            break
        resp = await client.get(nxt[0]["href"])
    assert seen == everything


@pytest.mark.parametrize(
    "params", [{"bbox": "1,2,3"}, {"sortby": "license"}, {"datetime": "x"}, {"token": "-3"}]
)
async def test_bad_input(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    assert (await client.get("/collections", params=params)).status_code == 400
