"""Paging through the Satellogic archive by following its ``next`` link exactly as given
(method, href, body, merge), whatever the link carries (the simulator's three shapes)."""

from __future__ import annotations

import httpx
import pytest

from bridge.core.contract import Provider
from bridge.core.query import SearchQuery, SortField, build_query
from bridge.errors import BadRequest, ProviderBadResponse
from bridge.providers.cursor import decode_cursor, encode_cursor
from bridge.providers.satellogic import paging
from bridge.providers.satellogic.adapter import CURSOR_SCHEMAS
from tests.support import wiring
from tests.support.wiring import provider_for

HELSINKI = [24.0, 59.8, 26.0, 60.6]
QUERIES = {
    "native sort": build_query(bbox=HELSINKI),
    "local sort": build_query(bbox=HELSINKI, sortby=[SortField("view:sun_elevation", False)]),
}


async def _ids(provider: Provider, query: SearchQuery, size: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await provider.search(query, cursor, size)
        ids.extend(i["id"] for i in page.items)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.mark.parametrize("mode", ["pgstac", "full-body", "get"])
@pytest.mark.parametrize("case", list(QUERIES))
async def test_every_next_link_shape_pages_through_the_same_tiles(mode: str, case: str) -> None:
    expected_provider, _ = provider_for("satellogic")
    config = wiring.simulator_config(extra={"satellogic_next_link": mode})
    provider, app = provider_for("satellogic", config=config)
    try:
        query = QUERIES[case]
        expected = await _ids(expected_provider, query, 1000)
        app.state.stats.reset()
        got = await _ids(provider, query, 9)
        assert len(expected) > 20 and got == expected
        requests = app.state.stats.snapshot()["requests"]
        if mode == "get" and case == "native sort":
            assert any(r.startswith("GET /archive/stac/search") for r in requests), requests
    finally:
        await provider.aclose()
        await expected_provider.aclose()


async def test_a_cursor_never_sends_credentials_off_the_archive() -> None:
    provider, app = provider_for("satellogic")
    try:
        query = QUERIES["native sort"]
        first = await provider.search(query, None, 5)
        assert first.next_cursor is not None
        kind, forged = decode_cursor("satellogic", first.next_cursor, CURSOR_SCHEMAS)
        forged["next"]["href"] = "https://attacker.example/collect"
        app.state.stats.reset()
        with pytest.raises(BadRequest, match="origin"):
            await provider.search(query, encode_cursor("satellogic", kind, forged), 5)
        assert app.state.stats.snapshot()["requests"] == {}
    finally:
        await provider.aclose()


def test_next_links_that_cannot_be_followed_are_bad_responses() -> None:
    base = httpx.URL("https://api.satellogic.com")
    ok = {"rel": "next", "href": "/archive/stac/search?page=2"}
    assert paging.next_link("satellogic", {"links": [ok]}, base) == {
        "method": "GET", "href": "/archive/stac/search?page=2", "body": None, "merge": False,
    }  # fmt: skip
    assert paging.next_link("satellogic", {"links": [{"rel": "prev", "href": "x"}]}, base) is None
    for bad in (
        {"rel": "next"},
        {"rel": "next", "href": "https://elsewhere.example/s"},
        {"rel": "next", "href": "/s", "method": "DELETE"},
        {"rel": "next", "href": "/s", "method": "POST", "body": ["token"]},
    ):
        with pytest.raises(ProviderBadResponse):
            paging.next_link("satellogic", {"links": [bad]}, base)
    link = paging.checked(
        {"href": "/s", "method": "POST", "body": {"next": "x"}, "merge": True}, base
    )
    assert paging.request_parts(link, {"limit": 5, "next": "old"}) == (
        "POST", "/s", {"limit": 5, "next": "x"},
    )  # fmt: skip
    replaced = paging.checked({"href": "/s", "method": "POST", "body": {"next": "x"}}, base)
    assert paging.request_parts(replaced, {"limit": 5}) == ("POST", "/s", {"next": "x"})
