"""The federation core over in-memory providers: exact, complete, ordered, concurrent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bridge.core.contract import Item, ProviderPage
from bridge.core.federation import Federation
from bridge.core.match import Matcher
from bridge.core.query import SearchQuery, SortField, build_query
from bridge.core.sorting import sort_key_function
from bridge.errors import ProviderTimeout, UpstreamTimeout, UpstreamUnavailable
from bridge.providers.raw_records import LazyItems
from tests.support.fake_provider import FakeProvider, all_items, fails, fake_providers


def brute_force(providers: dict[str, FakeProvider], query: SearchQuery) -> list[str]:
    matcher = Matcher(query)
    hits = [i for i in all_items(providers) if matcher(i)]
    return [i["id"] for i in sorted(hits, key=sort_key_function(query.sortby))]


async def page_through(fed: Federation, query: SearchQuery) -> list[str]:
    ids: list[str] = []
    state = None
    for _ in range(1000):
        page = await fed.search(query, state)
        assert len(page.items) <= query.limit
        ids.extend(i["id"] for i in page.items)
        state = page.next_state
        if state is None:
            return ids
    raise AssertionError("paging did not end")


QUERIES: list[dict[str, Any]] = [
    {},
    {"bbox": [2, 42, 6, 47]},
    {"datetime": "2021-03-01T00:00:00Z/2022-06-30T12:00:00Z"},
    {"intersects": {"type": "Polygon", "coordinates": [[[0, 40], [5, 40], [0, 45], [0, 40]]]}},
    {"collections": ["alpha-a", "gamma-b"]},
    {"ids": ["alpha-00003", "beta-00010", "gamma-00039", "nope"]},
    {"sortby": [SortField("gsd"), SortField("datetime", descending=True)]},
    {"sortby": [SortField("id", descending=True)], "bbox": [0, 40, 5, 50]},
]


@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
@pytest.mark.parametrize("params", QUERIES)
async def test_paging_visits_every_match_once_in_order(params: dict[str, Any], limit: int) -> None:
    providers = fake_providers()
    fed = Federation(providers)
    query = build_query(limit=limit, **params)
    expected = brute_force(providers, query)
    assert expected or params.get("ids"), "a query should match something"
    assert await page_through(fed, query) == expected


async def test_number_matched_only_when_every_provider_counts() -> None:
    providers = fake_providers()
    page = await Federation(providers).search(build_query(limit=5))
    assert page.matched is None  # the fakes report no counts


async def test_a_failing_provider_leaves_the_others_and_says_so() -> None:
    providers = fake_providers()
    providers["beta"].fail_with = fails("beta")
    fed = Federation(providers)
    query = build_query(limit=500)
    page = await fed.search(query)
    assert page.partial
    assert page.statuses["beta"].status == "error"
    assert page.statuses["alpha"].status == "ok"
    assert {i["id"].split("-")[0] for i in page.items} == {"alpha", "gamma"}
    assert len(page.items) == 160


async def test_a_provider_failing_later_is_reported_as_skipped_on_following_pages() -> None:
    providers = fake_providers()
    fed = Federation(providers)
    first = await fed.search(build_query(limit=5))
    providers["alpha"].fail_with = fails("alpha")
    providers["alpha"].native_page = 1  # force a refetch on the next page
    fed.page_cache = type(fed.page_cache)()
    second = await fed.search(build_query(limit=5), first.next_state)
    assert second.statuses["alpha"].status == "error"
    third = await fed.search(build_query(limit=5), second.next_state)
    assert third.statuses["alpha"].status == "skipped"


async def test_every_provider_failing_is_an_upstream_error() -> None:
    providers = fake_providers()
    for p in providers.values():
        p.fail_with = fails(p.name)
    with pytest.raises(UpstreamUnavailable) as err:
        await Federation(providers).search(build_query())
    assert set(err.value.detail["providers"]) == set(providers)


async def test_every_provider_timing_out_is_a_504() -> None:
    providers = fake_providers()
    for p in providers.values():
        p.fail_with = ProviderTimeout(p.name, "slow")
    with pytest.raises(UpstreamTimeout):
        await Federation(providers).search(build_query())


class SlowProvider(FakeProvider):
    delay: float = 0.2
    in_flight = 0
    max_in_flight = 0

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> Any:
        type(self).in_flight += 1
        type(self).max_in_flight = max(type(self).max_in_flight, type(self).in_flight)
        try:
            await asyncio.sleep(self.delay)
            return await super().search(query, cursor, page_size)
        finally:
            type(self).in_flight -= 1


async def test_providers_are_queried_concurrently() -> None:
    base = fake_providers()
    slow = {n: SlowProvider(n, p.items) for n, p in base.items()}
    started = time.perf_counter()
    page = await Federation(slow).search(build_query(limit=10))
    elapsed = time.perf_counter() - started
    assert SlowProvider.max_in_flight == 3
    assert elapsed < 0.45, f"sequential fan-out would take 0.6 s, took {elapsed:.2f} s"
    assert len(page.items) == 10


async def test_a_hanging_provider_times_out_at_its_deadline() -> None:
    base = fake_providers()
    slow = SlowProvider("beta", base["beta"].items)
    slow.delay = 5
    providers: dict[str, FakeProvider] = {**base, "beta": slow}
    fed = Federation(providers, deadlines={"beta": 0.2})
    started = time.perf_counter()
    page = await fed.search(build_query(limit=20))
    assert time.perf_counter() - started < 2
    assert page.statuses["beta"].status == "timeout"
    assert len(page.items) == 20


async def test_paging_does_not_refetch_native_pages() -> None:
    providers = fake_providers({"alpha": 100})
    fed = Federation(providers)
    query = build_query(limit=3)
    await page_through(fed, query)
    cursors = [c for c, _ in providers["alpha"].calls]
    assert len(cursors) == len(set(cursors))


async def test_unknown_collection_is_not_found() -> None:
    from bridge.errors import NotFound

    with pytest.raises(NotFound):
        await Federation(fake_providers()).search(build_query(collections=["nope"]))


async def test_collections_that_never_carry_a_filtered_property_are_not_asked() -> None:
    providers = fake_providers()
    props = {c: {"gsd"} for p in providers.values() for c in p.collection_ids}
    props["alpha-a"] = props["alpha-b"] = {"gsd", "only:alpha"}
    fed = Federation(providers, collection_properties=props)
    query = build_query(limit=50, filter="only:alpha = 3")
    page = await fed.search(query)
    assert page.items == []
    assert providers["beta"].calls == [] and providers["gamma"].calls == []
    assert set(page.statuses) == {"alpha"}
    either = build_query(limit=50, filter="only:alpha = 3 OR gsd = 2")
    await fed.search(either)
    assert providers["beta"].calls  # an OR can still match without the property


async def test_a_stalled_stream_is_a_barrier_not_a_wall(monkeypatch: pytest.MonkeyPatch) -> None:
    import bridge.core.federation as federation

    monkeypatch.setattr(federation, "MAX_FETCHES_PER_STREAM", 2)
    providers = fake_providers()
    # alpha reads one item per fetch and none of its items match: it stalls on every
    # page. Its items are all older than the others', so the others' items sort before
    # its barrier and must still flow.
    providers["alpha"].native_page = 1
    for item in providers["alpha"].items:
        item["properties"]["datetime"] = "2019-06-01T00:00:00Z"
    fed = Federation(providers)
    query = build_query(limit=10, filter="id LIKE 'beta%' OR id LIKE 'gamma%'")
    expected = brute_force(providers, query)
    pages = []
    state = None
    for _ in range(500):
        page = await fed.search(query, state)
        pages.append([i["id"] for i in page.items])
        state = page.next_state
        if state is None:
            break
    assert [i for p in pages for i in p] == expected
    assert all(len(p) == 10 for p in pages[: len(expected) // 10])


class LazyProvider(FakeProvider):
    """A provider whose pages map each record when the federation first reads it."""

    mapped: list[str]

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        page = await super().search(query, cursor, page_size)
        return ProviderPage(LazyItems(list(page.items), self._map), page.next_cursor)

    def _map(self, record: Item) -> Item:
        self.mapped.append(record["id"])
        return record


def lazy_providers(native_page: int) -> dict[str, LazyProvider]:
    out = {}
    for name, fake in fake_providers().items():
        out[name] = LazyProvider(name, fake.items, native_page=native_page)
        out[name].mapped = []
    return out


@pytest.mark.parametrize("params", QUERIES)
async def test_lazily_mapped_pages_page_exactly(params: dict[str, Any]) -> None:
    providers = lazy_providers(13)
    query = build_query(limit=7, **params)
    assert await page_through(Federation(providers), query) == brute_force(providers, query)


async def test_records_past_what_a_page_serves_are_never_mapped() -> None:
    providers = lazy_providers(100)
    page = await Federation(providers).search(build_query(limit=10))
    assert len(page.items) == 10
    mapped = sum(len(p.mapped) for p in providers.values())
    # The ten served, plus at most the next head of each stream (three providers).
    assert 10 <= mapped <= 13, mapped
    assert all(len(set(p.mapped)) == len(p.mapped) for p in providers.values())
