"""The Satellogic adapter: translation and mapping goldens, paging, auth, bridge-side filtering.

``UPDATE_GOLDEN=1`` rewrites the files under ``tests/golden/satellogic/``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.contract import Item, Provider
from bridge.core.match import Matcher
from bridge.core.query import SearchQuery, SortField, build_query
from bridge.core.sorting import sort_key_function
from bridge.errors import BadRequest, ProviderAuthError, ProviderError, ProviderRateLimited
from bridge.providers.base import ProviderContext
from bridge.providers.cursor import decode_cursor
from bridge.providers.satellogic import create_provider
from bridge.providers.satellogic.adapter import CURSOR_SCHEMAS
from bridge.providers.satellogic.mapping import item_from_native
from bridge.providers.satellogic.translate import native_sortby, to_native_query
from bridge.sandbox import build_providers, in_process_sandbox
from bridge.settings import ProviderSettings, Settings
from bridge.simulators.satellogic.archive import Tile, assets_for, build_archive
from bridge.simulators.satellogic.auth import QUICKVIEW_CONTRACT_ID
from tests.support import wiring
from tests.support.stac_schemas import assert_valid
from tests.support.wiring import TEST_SCENES, TEST_SEED, provider_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "satellogic"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
BASE = "http://satellogic.simulator"
HELSINKI = [24.5, 59.9, 25.4, 60.5]
SYDNEY = {
    "type": "Polygon",
    "coordinates": [
        [[150.9, -34.1], [151.5, -34.1], [151.5, -33.6], [150.9, -33.6], [150.9, -34.1]]
    ],
}
ALL = ("satellogic-quickview", "satellogic-l1d", "satellogic-l1d-sr")


def _golden(name: str, actual: Any) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
    assert orjson.loads(path.read_bytes()) == orjson.loads(orjson.dumps(actual))


def _linked(item: Item) -> Item:
    """The item as the core serves it (the core adds links; STAC requires a collection link)."""
    link = {"rel": "collection", "href": f"http://bridge/collections/{item['collection']}"}
    return {**item, "links": [link]}


@pytest.fixture
async def wired() -> AsyncIterator[tuple[Provider, Starlette]]:
    provider, app = provider_for("satellogic")
    yield provider, app
    await provider.aclose()


async def _all_pages(provider: Provider, query: SearchQuery, page_size: int) -> list[Item]:
    items: list[Item] = []
    cursor = None
    while True:
        page = await provider.search(query, cursor, page_size)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


# --- golden: translation and mapping ---------------------------------------------------

TRANSLATE_CASES: dict[str, tuple[SearchQuery, dict[str, Any]]] = {
    "default": (build_query(), {}),
    "bbox_datetime_collections": (
        build_query(
            bbox=HELSINKI,
            datetime="2023-01-01T00:00:00Z/2023-12-31T23:59:59Z",
            collections=["satellogic-l1d", "satellogic-l1d-sr"],
        ),
        {},
    ),
    "intersects_ids_token": (
        build_query(
            intersects={"type": "Point", "coordinates": [24.94, 60.17]},
            ids=["20240803_020510_SN11_L1D_MS_SATL-2KM-52N_414_4094"],
            datetime="2024-08-03T02:05:10Z",
        ),
        {"token": "next:20240803_020510_SN11_L1D_MS_SATL-2KM-52N_414_4094"},
    ),
    "sort_cloud_then_datetime": (
        build_query(
            sortby=[SortField("eo:cloud_cover"), SortField("properties.datetime", descending=True)]
        ),
        {},
    ),
    "sort_by_id_only": (build_query(sortby=[SortField("id", descending=True)]), {}),
    "sort_not_native": (build_query(sortby=[SortField("processing:level")]), {}),
    "filter_and_query_pushed": (
        build_query(
            filter={
                "op": "and",
                "args": [
                    {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]},
                    {"op": "=", "args": [{"property": "product:type"}, "L1D"]},
                ],
            },
            query={"platform": {"in": ["newsat-12", "newsat-30"]}},
        ),
        {},
    ),
    "filter_partly_pushed": (
        build_query(filter="processing:level = 'L1D' AND gsd < 1 AND (gsd > 0.8 OR id = 'x')"),
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(TRANSLATE_CASES))
def test_to_native_query_golden(case: str) -> None:
    query, extra = TRANSLATE_CASES[case]
    body = to_native_query(query, limit=50, sortby=native_sortby(query.sortby), **extra)
    _golden(f"translate_{case}.json", body)


def _native_record(tile: Tile) -> dict[str, Any]:
    return {**tile.item, "assets": assets_for(tile.collection, tile.id, BASE), "links": []}


MAPPING_CASES = {"quickview": "quickview-visual", "l1d": "l1d", "l1d_sr": "l1d-sr"}


@pytest.mark.parametrize("case", sorted(MAPPING_CASES))
def test_item_from_native_golden(case: str) -> None:
    native_path = GOLDEN / f"native_{case}.json"
    if UPDATE:
        archive = build_archive(TEST_SEED, TEST_SCENES)
        tile = next(t for t in archive.tiles if t.collection == MAPPING_CASES[case])
        _golden(native_path.name, _native_record(tile))
    record = orjson.loads(native_path.read_bytes())
    item = item_from_native(record)
    _golden(f"item_{case}.json", item)
    assert_valid(_linked(item))


# --- search through the simulator --------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        build_query(bbox=HELSINKI, limit=10),
        build_query(bbox=HELSINKI, sortby=[SortField("eo:cloud_cover"), SortField("gsd", True)]),
        build_query(
            datetime="2021-01-01T00:00:00Z/2022-12-31T23:59:59Z", collections=["satellogic-l1d"]
        ),
        # processing:level cannot be sorted natively: the adapter sorts the whole result
        build_query(bbox=[-10, 30, 40, 70], sortby=[SortField("processing:level", True)]),
    ],
    ids=["native-default-sort", "native-multi-sort", "datetime-collection", "local-sort"],
)
async def test_small_pages_equal_one_big_page_in_sort_order(
    wired: tuple[Provider, Starlette], query: SearchQuery
) -> None:
    provider, _ = wired
    small = await _all_pages(provider, query, 23)
    big = await _all_pages(provider, query, 1000)
    ids = [(i["collection"], i["id"]) for i in small]
    assert len(small) > 23 and len(set(ids)) == len(ids)
    assert ids == [(i["collection"], i["id"]) for i in big]
    assert small == sorted(small, key=sort_key_function(query.sortby))


async def test_cursor_replays_the_same_page_whatever_page_size(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, _ = wired
    query = build_query(bbox=HELSINKI)
    first = await provider.search(query, None, 7)
    assert first.next_cursor is not None
    again = await provider.search(query, first.next_cursor, 100)
    once_more = await provider.search(query, first.next_cursor, 3)
    assert [i["id"] for i in again.items] == [i["id"] for i in once_more.items]
    assert len(again.items) == 7
    assert decode_cursor("satellogic", first.next_cursor, CURSOR_SCHEMAS)[1]["limit"] == 7


@pytest.mark.parametrize(
    "query",
    [
        build_query(bbox=HELSINKI),
        build_query(collections=["satellogic-l1d-sr"]),
        build_query(intersects=SYDNEY),
        build_query(sortby=[SortField("view:off_nadir", True)]),
    ],
)
async def test_every_item_validates(wired: tuple[Provider, Starlette], query: SearchQuery) -> None:
    provider, _ = wired
    page = await provider.search(query, None, 12)
    assert page.items
    for item in page.items:
        assert item["collection"] in ALL and item["links"] == []
        assert_valid(_linked(item))


async def test_matched_only_when_the_native_count_is_exact(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, _ = wired
    query = build_query(datetime="2024-01-01T00:00:00Z/..", collections=["satellogic-l1d"])
    page = await provider.search(query, None, 10)
    everything = await _all_pages(provider, query, 1000)
    assert page.matched == len(everything) == len([i for i in everything if Matcher(query)(i)])
    spatial = await provider.search(build_query(bbox=HELSINKI), None, 10)
    assert spatial.matched is None  # matched on grid cells: may count non-matching tiles


async def test_filter_is_pushed_down_where_the_archive_evaluates_it(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, _ = wired
    pushed = build_query(filter='"eo:cloud_cover" < 5 AND "product:type" = \'L1D_SR\'')
    items = await _all_pages(provider, pushed, 1000)
    assert items and all(Matcher(pushed)(i) for i in items)  # the archive filtered them all
    assert (await provider.search(pushed, None, 5)).matched == len(items)
    # processing:level exists only in the bridge's items: the archive cannot filter on it
    partial = build_query(filter='"eo:cloud_cover" < 5 AND "processing:level" = \'L1D_SR\'')
    assert (await provider.search(partial, None, 5)).matched is None
    superset = await _all_pages(provider, partial, 1000)
    assert {i["id"] for i in superset if Matcher(partial)(i)} == {i["id"] for i in items}
    assert any(not Matcher(partial)(i) for i in superset)


async def test_bridge_enforces_footprints_the_archive_matches_by_grid_cell(
    wired: tuple[Provider, Starlette],
) -> None:
    """The archive matches bbox/intersects against each tile's 2 km grid cell; an edge tile
    covers only part of its cell, so a box in the uncovered part returns the tile natively.
    The adapter must not drop it (it cannot see cells), and the core's Matcher removes it."""
    provider, _ = wired
    archive = build_archive(TEST_SEED, TEST_SCENES)
    tile = next(
        t
        for t in archive.tiles
        if t.collection == "quickview-visual"
        and t.item["properties"]["satl:valid_pixel"] < 40
        and t.item["bbox"][0] - t.cell[0] > 0.002
    )
    west, south, _, north = tile.cell
    query = build_query(
        bbox=[west + 0.0002, south + 0.0002, (west + tile.item["bbox"][0]) / 2, north]
    )
    page = await provider.search(query, None, 1000)
    returned = {i["id"]: i for i in page.items}
    assert tile.id in returned
    assert not Matcher(query)(returned[tile.id])
    assert page.matched is None


async def test_get_item(wired: tuple[Provider, Starlette]) -> None:
    provider, _ = wired
    page = await provider.search(build_query(collections=["satellogic-l1d"]), None, 1)
    (item,) = page.items
    assert await provider.get_item("satellogic-l1d", item["id"]) == item
    assert await provider.get_item("satellogic-l1d-sr", item["id"]) is None
    assert await provider.get_item("satellogic-l1d", "no-such-tile") is None
    assert await provider.get_item("someone-elses-collection", item["id"]) is None


async def test_token_is_cached_and_refreshed_after_a_401(wired: tuple[Provider, Starlette]) -> None:
    provider, app = wired
    query = build_query(bbox=HELSINKI)
    await provider.search(query, None, 5)
    await provider.search(query, None, 5)
    assert app.state.auth.issued == 1
    app.state.auth.revoke_all()  # the token dies server-side before its announced expiry
    page = await provider.search(query, None, 5)
    assert len(page.items) == 5
    assert app.state.auth.issued == 2
    requests = app.state.stats.snapshot()["requests"]
    assert requests["POST /archive/stac/search"] == 4  # one refused with 401, then retried


def _provider_with(**changes: Any) -> Provider:
    sandbox = in_process_sandbox(wiring.simulator_config(), names=["satellogic"])
    settings = sandbox.provider_settings["satellogic"].model_copy(update=changes)
    transport = sandbox.transports["satellogic"]
    catalog = load_catalog(wiring.COLLECTIONS, providers=["satellogic"])
    context = ProviderContext("satellogic", settings, catalog.by_provider["satellogic"], transport)
    return create_provider(context)


async def test_wrong_credentials_raise_without_leaking_them() -> None:
    provider = _provider_with(client_secret=SecretStr("s3cret-value"))
    with pytest.raises(ProviderAuthError) as info:
        await provider.search(build_query(), None, 5)
    assert "s3cret-value" not in str(info.value) and "s3cret-value" not in repr(provider)
    await provider.aclose()


async def test_contract_decides_what_the_archive_shows() -> None:
    provider = _provider_with(contract_id=QUICKVIEW_CONTRACT_ID)
    page = await provider.search(build_query(collections=["satellogic-l1d"]), None, 10)
    assert page.items == [] and page.matched == 0
    page = await provider.search(build_query(), None, 10)
    assert {i["collection"] for i in page.items} == {"satellogic-quickview"}
    await provider.aclose()


async def test_native_failures_map_to_bridge_errors(wired: tuple[Provider, Starlette]) -> None:
    provider, app = wired
    app.state.faults.set(
        app.state.faults.settings.model_copy(update={"error_rate": 1.0, "paths": ["/archive/"]})
    )
    with pytest.raises(ProviderError) as info:
        await provider.search(build_query(), None, 5)
    assert info.value.detail["status"] == 503
    app.state.faults.set(
        app.state.faults.settings.model_copy(update={"error_rate": 0.0, "rate_limit_rate": 1.0})
    )
    with pytest.raises(ProviderRateLimited):
        await provider.search(build_query(), None, 5)


async def test_local_sort_is_bounded() -> None:
    sandbox = in_process_sandbox(wiring.simulator_config(), names=["satellogic"])
    bounded = sandbox.provider_settings["satellogic"].model_copy(
        update={"local_sort_max_records": 100}
    )
    catalog = load_catalog(wiring.COLLECTIONS, providers=["satellogic"])
    providers = build_providers(Settings(), catalog, {"satellogic": bounded}, sandbox.transports)
    with pytest.raises(BadRequest, match="at most 100 tiles"):
        await providers["satellogic"].search(
            build_query(sortby=[SortField("processing:level")]), None, 10
        )
    await providers["satellogic"].aclose()


def test_collections_cover_what_the_archive_produces() -> None:
    docs = load_catalog(wiring.COLLECTIONS, providers=["satellogic"]).by_provider["satellogic"]
    assert set(docs) == set(ALL)
    archive = build_archive(TEST_SEED, TEST_SCENES)
    for tile in archive.tiles:
        if tile.collection == "quickview-visual-thumb":
            continue
        item = item_from_native(_native_record(tile))
        doc = docs[item["collection"]]
        summaries = doc["summaries"]
        props = item["properties"]
        assert props["platform"] in summaries["platform"]
        assert props["processing:level"] in summaries["processing:level"]
        assert props["product:type"] in summaries["product:type"]
        for name in ("eo:cloud_cover", "view:off_nadir", "view:sun_elevation", "satl:valid_pixel"):
            assert summaries[name]["minimum"] <= props[name] <= summaries[name]["maximum"]
        gsd = summaries["gsd"]
        assert (
            props["gsd"] in gsd
            if isinstance(gsd, list)
            else gsd["minimum"] <= props["gsd"] <= gsd["maximum"]
        )
        assert set(item["assets"]) == set(doc["item_assets"])
    for doc in docs.values():
        assert_valid(doc)


def test_settings_fields_from_the_simulator() -> None:
    fields = in_process_sandbox(wiring.simulator_config(), names=["satellogic"]).provider_settings
    settings: ProviderSettings = fields["satellogic"]
    assert settings.auth_url == f"{BASE}/oauth/token"
    assert settings.client_id and settings.client_secret and settings.contract_id
