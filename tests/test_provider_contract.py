"""The contract every provider adapter keeps, checked the same way for each of them."""

from __future__ import annotations

import pytest

from bridge import registry
from bridge.api.links import item_links
from bridge.catalog import load_catalog
from bridge.core.match import Matcher
from bridge.core.query import SortField, build_query
from bridge.core.sorting import sort_key_function
from tests.support.paging import drain
from tests.support.stac_schemas import assert_valid
from tests.support.wiring import COLLECTIONS, provider_for

PROVIDERS = registry.provider_names()
NEAR_HELSINKI = [24.0, 59.8, 26.0, 60.6]


def test_every_provider_has_a_simulator_and_collections() -> None:
    assert set(PROVIDERS) == {"arlula", "capella", "iceye", "satellogic"}
    assert set(registry.simulator_names()) == set(PROVIDERS)
    catalog = load_catalog(COLLECTIONS)
    for name in PROVIDERS:
        assert catalog.by_provider.get(name), f"no collections for {name}"


def test_every_collection_document_is_complete_and_valid() -> None:
    for doc in load_catalog(COLLECTIONS).all():
        assert_valid(doc)
        for key in ("license", "extent", "providers", "summaries", "item_assets", "description"):
            assert doc.get(key), f"{doc['id']} lacks {key}"
        assert any(link.get("rel") == "license" for link in doc.get("links", [])), doc["id"]


@pytest.fixture(params=PROVIDERS)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_pages_are_sorted_unique_and_valid(name: str) -> None:
    provider, _ = provider_for(name)
    try:
        query = build_query(
            bbox=NEAR_HELSINKI, datetime="2022-01-01T00:00:00Z/2023-12-31T23:59:59Z"
        )
        items = await drain(provider, query, page_size=17)
        key = sort_key_function(query.sortby)
        assert items, "the Helsinki cluster has scenes in 2022-2023"
        assert [key(i) for i in items] == sorted(key(i) for i in items)
        assert len({(i["collection"], i["id"]) for i in items}) == len(items)
        matching = [i for i in items if Matcher(query)(i)]
        assert matching
        for item in items[:60]:
            assert item["collection"] in provider.collection_ids
            # Validate as served: the core adds the links (STAC 1.1 requires the
            # collection link of an item that names its collection).
            assert_valid({**item, "links": item_links("http://bridge.test/", item)})
    finally:
        await provider.aclose()


async def test_small_pages_equal_one_big_page(name: str) -> None:
    provider, _ = provider_for(name)
    try:
        query = build_query(
            bbox=NEAR_HELSINKI, datetime="2024-01-01T00:00:00Z/2024-12-31T23:59:59Z"
        )
        matcher = Matcher(query)
        small = [i["id"] for i in await drain(provider, query, 5) if matcher(i)]
        big = [i["id"] for i in await drain(provider, query, 500) if matcher(i)]
        assert small == big and small
    finally:
        await provider.aclose()


async def test_other_sort_orders_are_honoured(name: str) -> None:
    provider, _ = provider_for(name)
    try:
        query = build_query(
            bbox=NEAR_HELSINKI,
            datetime="2021-01-01T00:00:00Z/2021-12-31T23:59:59Z",
            sortby=[SortField("datetime")],
        )
        items = await drain(provider, query, 50)
        key = sort_key_function(query.sortby)
        assert items and [key(i) for i in items] == sorted(key(i) for i in items)
    finally:
        await provider.aclose()


async def test_get_item_and_collection_narrowing(name: str) -> None:
    provider, _ = provider_for(name)
    try:
        one = sorted(provider.collection_ids)[0]
        query = build_query(collections=[one], bbox=NEAR_HELSINKI)
        page = await provider.search(query, None, 10)
        assert page.items, f"{one} has scenes near Helsinki"
        assert {i["collection"] for i in page.items} == {one}
        first = page.items[0]
        fetched = await provider.get_item(one, first["id"])
        assert fetched is not None and fetched["id"] == first["id"]
        assert fetched["properties"] == first["properties"]
        assert await provider.get_item(one, "no-such-item") is None
    finally:
        await provider.aclose()
