"""The provider contract suite: what every adapter must do, as functions of a provider name.

``tests/test_provider_contract.py`` runs every check for every registered provider;
``tests/test_extra_provider.py`` runs them for a provider added in a temporary package.
Each check builds the provider wired in-process to its simulator through the production
wiring (:func:`tests.support.wiring.provider_for`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from bridge.api.links import item_links
from bridge.core.match import Matcher
from bridge.core.query import SortField, build_query
from bridge.core.sorting import sort_key_function
from tests.support.paging import drain
from tests.support.stac_schemas import assert_valid
from tests.support.wiring import COLLECTIONS, provider_for

NEAR_HELSINKI = [24.0, 59.8, 26.0, 60.6]
Check = Callable[[str, Path], Awaitable[None]]


async def pages_are_sorted_unique_and_valid(name: str, collections: Path = COLLECTIONS) -> None:
    """Pages come sorted by the query's sortby, without repeats, as valid STAC items."""
    provider, _ = provider_for(name, collections=collections)
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


async def small_pages_equal_one_big_page(name: str, collections: Path = COLLECTIONS) -> None:
    """Paging by 5 yields exactly what one page of 500 does."""
    provider, _ = provider_for(name, collections=collections)
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


async def other_sort_orders_are_honoured(name: str, collections: Path = COLLECTIONS) -> None:
    """An ascending datetime sort comes back in that order."""
    provider, _ = provider_for(name, collections=collections)
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


async def get_item_and_collection_narrowing(name: str, collections: Path = COLLECTIONS) -> None:
    """A search narrowed to one collection stays in it; get_item finds what search found."""
    provider, _ = provider_for(name, collections=collections)
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


CHECKS: dict[str, Check] = {
    "pages are sorted, unique and valid": pages_are_sorted_unique_and_valid,
    "small pages equal one big page": small_pages_equal_one_big_page,
    "other sort orders are honoured": other_sort_orders_are_honoured,
    "get_item and collection narrowing": get_item_and_collection_narrowing,
}
"""Every contract check, by what it shows."""
