"""The Capella adapter: translation and mapping (golden files), paging, sorting, auth, errors.

``UPDATE_GOLDEN=1`` rewrites the files under ``tests/golden/capella/`` from the current code.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.contract import Item, Provider
from bridge.core.match import Matcher
from bridge.core.query import SearchQuery, SortField, build_query
from bridge.core.sorting import sort_key_function
from bridge.core.timeutil import parse_instant, to_rfc3339
from bridge.errors import (
    BadRequest,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
)
from bridge.providers import capella as capella_provider
from bridge.providers.base import ProviderContext
from bridge.providers.capella.mapping import item_from_native
from bridge.providers.capella.translate import to_native_query
from bridge.sandbox import build_providers, in_process_sandbox
from bridge.settings import ProviderSettings, Settings
from bridge.simulators.capella.app import native_feature
from bridge.simulators.capella.archive import build_archive
from tests.support.paging import drain
from tests.support.stac_schemas import assert_valid
from tests.support.wiring import (
    COLLECTIONS,
    REPO,
    TEST_SCENES,
    TEST_SEED,
    provider_for,
    simulator_config,
)

GOLDEN = REPO / "tests" / "golden" / "capella"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SIM_BASE = "http://capella.simulator"
NEAR_HELSINKI = [24.0, 59.8, 26.0, 60.6]
ALL = sorted(load_catalog(COLLECTIONS, providers=["capella"]).by_provider["capella"])


def golden(name: str, actual: Any) -> Any:
    """Compare ``actual`` with the golden file ``name`` (rewrite it under UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    normal = orjson.loads(orjson.dumps(actual))
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(normal, option=orjson.OPT_INDENT_2) + b"\n")
    expected = orjson.loads(path.read_bytes())
    assert normal == expected, f"{path} differs; rerun with UPDATE_GOLDEN=1 if intended"
    return expected


def linked(item: Item) -> Item:
    """``item`` with the collection link the core adds (STAC 1.1 requires it with
    ``collection``); adapters return ``links: []``."""
    return {**item, "links": [{"rel": "collection", "href": f"../{item['collection']}"}]}


@pytest.fixture
async def wired() -> AsyncIterator[tuple[Provider, Starlette]]:
    provider, app = provider_for("capella")
    yield provider, app
    await provider.aclose()


@pytest.fixture
def provider(wired: tuple[Provider, Starlette]) -> Provider:
    return wired[0]


async def sim_stats(app: Starlette) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_BASE) as client:
        return dict((await client.get("/_simulator/stats")).json())


async def set_faults(app: Starlette, faults: dict[str, Any]) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_BASE) as client:
        assert (await client.post("/_simulator/faults", json=faults)).status_code == 200


# --- golden: translation --------------------------------------------------------------------

HELSINKI_POLYGON = {
    "type": "Polygon",
    "coordinates": [[[24.8, 60.1], [25.1, 60.1], [25.1, 60.3], [24.8, 60.1]]],
}


def query_cases() -> dict[str, tuple[SearchQuery, int, int]]:
    return {
        "default": (build_query(), 10, 1),
        "bbox_and_interval": (
            build_query(bbox=NEAR_HELSINKI, datetime="2023-01-01T00:00:00Z/2023-06-30T23:59:59Z"),
            100,
            1,
        ),
        "instant": (build_query(datetime="2024-05-12T17:17:10.928694Z"), 10, 1),
        "open_start_page_3": (build_query(datetime="../2020-01-01T00:00:00Z"), 50, 3),
        "intersects_ids_collections": (
            build_query(
                collections=["capella-geo", "capella-sicd"],
                ids=["CAPELLA_C05_SP_GEO_HH_20231026140602_20231026140611"],
                intersects=HELSINKI_POLYGON,
            ),
            10,
            1,
        ),
        "sort_off_nadir_then_datetime": (
            build_query(sortby=[SortField("view:off_nadir"), SortField("datetime", True)]),
            10,
            1,
        ),
        "sort_product_type_id_desc": (
            build_query(sortby=[SortField("product:type"), SortField("id", True)]),
            10,
            1,
        ),
        "sort_gsd_sorted_by_adapter": (build_query(sortby=[SortField("gsd", True)]), 900, 1),
        "oversized_page": (build_query(), 5000, 1),
        "filter_partly_pushed": (
            build_query(
                filter="view:incidence_angle >= 30 AND view:incidence_angle < 40"
                " AND product:type IN ('GEO', 'GEC') AND sar:instrument_mode <> 'stripmap'"
                " AND gsd < 1 AND sar:polarizations = 'HH' AND view:incidence_angle >= 31",
                filter_lang="cql2-text",
            ),
            10,
            1,
        ),
        "query_extension_fully_pushed": (
            build_query(
                query={
                    "view:off_nadir": {"lte": 35},
                    "sat:orbit_state": {"eq": "ascending"},
                    "platform": {"in": ["capella-5", "capella-7"]},
                }
            ),
            10,
            1,
        ),
        "filter_with_or_is_left_to_the_bridge": (
            build_query(
                filter="sat:orbit_state = 'ascending' OR view:incidence_angle < 20",
                filter_lang="cql2-text",
            ),
            10,
            1,
        ),
    }


def test_to_native_query_golden() -> None:
    actual = {}
    for name, (query, limit, page) in query_cases().items():
        collections = list(query.collections) if query.collections else ALL
        request = to_native_query(query, collections=collections, limit=limit, page=page)
        actual[name] = {
            "body": request.body,
            "sorted_natively": request.sorted_natively,
            "exact": request.exact,
        }
    expected = golden("native_queries.json", actual)
    assert expected["bbox_and_interval"]["body"]["datetime"] == (
        "2022-12-31T23:55:00Z/2023-07-01T00:04:59Z"
    )
    assert expected["sort_gsd_sorted_by_adapter"]["sorted_natively"] is False
    assert expected["oversized_page"]["body"]["limit"] == 900
    partly = expected["filter_partly_pushed"]
    assert partly["body"]["query"] == {
        "view:incidence_angle": {"gte": 30.0, "lt": 40.0},
        "sar:product_type": {"in": ["GEO", "GEC"]},
    }
    assert partly["exact"] is False
    fully = expected["query_extension_fully_pushed"]
    assert fully["body"]["query"]["view:look_angle"] == {"lte": 35}
    assert fully["exact"] is True
    assert "query" not in expected["filter_with_or_is_left_to_the_bridge"]["body"]


# --- golden: mapping ------------------------------------------------------------------------

# The public capella-console-client test item (properties as published), completed with the
# geometry, bbox and assets a search result carries.
SDK_SAMPLE_RECORD: dict[str, Any] = {
    "type": "Feature",
    "stac_version": "1.0.0",
    "id": "CAPELLA_C127_SM_SLC_HH_20240512171708_2024051215171713",
    "collection": "capella-archive",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[68.79, 38.51], [68.84, 38.69], [68.79, 38.70], [68.74, 38.52], [68.79, 38.51]]
        ],
    },
    "bbox": [68.74, 38.51, 68.84, 38.70],
    "properties": {
        "datetime": "2024-05-12T17:17:10.928694Z",
        "start_datetime": "2024-05-12T17:17:08.841022Z",
        "end_datetime": "2024-05-12T17:17:13.016366Z",
        "locale:datetime": "2024-05-12T22:17:10.928693+0500",
        "locale:timezone": "Etc/GMT-5",
        "locale:time": "22:17:10.928693",
        "platform": "capella-127",
        "constellation": "capella",
        "instruments": ["capella-radar-127"],
        "sar:instrument_mode": "stripmap",
        "sar:frequency_band": "X",
        "sar:center_frequency": 9.65,
        "sar:polarizations": ["HH"],
        "sat:orbit_state": "ascending",
        "sar:product_type": "SLC",
        "sar:pixel_spacing_range": 12.36,
        "sar:pixel_spacing_azimuth": 1.06,
        "sar:looks_range": 1,
        "sar:looks_azimuth": 1,
        "sar:looks_equivalent_number": 1,
        "sar:resolution_range": 2.65,
        "capella:resolution_ground_range": 13.14,
        "sar:resolution_azimuth": 1.27,
        "view:incidence_angle": 11.6,
        "view:look_angle": 10.6,
        "capella:squint_angle": -0.1,
        "capella:orbital_plane": 45,
        "sar:observation_direction": "left",
        "capella:collect_id": "90b34689-4eb1-4d75-89ac-6cfae59ce648",
        "capella:image_formation_algorithm": "backprojection",
        "capella:hash": "some-hash",
        "proj:epsg": None,
    },
    "assets": {
        "HH": {"href": "https://example.capellaspace.com/CAPELLA_C127.tif", "type": "image/tiff"},
        "thumbnail": {"href": "https://example.capellaspace.com/CAPELLA_C127_thumb.png"},
    },
    "links": [],
}


def native_records() -> list[dict[str, Any]]:
    """Mapping inputs: the SDK sample plus one simulator record of each product type."""
    path = GOLDEN / "native_records.json"
    if UPDATE:
        archive = build_archive(TEST_SEED, TEST_SCENES)
        picked: dict[str, dict[str, Any]] = {}
        for item in archive.items:
            picked.setdefault(item["collection"], native_feature(item, SIM_BASE))
        records = [SDK_SAMPLE_RECORD, *(picked[c] for c in sorted(picked))]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2) + b"\n")
    return list(orjson.loads(path.read_bytes()))


def test_item_from_native_golden() -> None:
    records = native_records()
    items = [item_from_native(r) for r in records]
    golden("stac_items.json", items)
    for item in items:
        assert_valid(linked(item))
    sample = items[0]
    assert sample["collection"] == "capella-slc", "unknown native collection: by product type"
    assert "locale:time" not in sample["properties"]
    assert "proj:epsg" not in sample["properties"], "a null EPSG means no projection"
    assert sample["properties"]["view:off_nadir"] == 10.6
    geocoded = [i for i in items if i["properties"].get("product:type") == "GEO"]
    assert geocoded and geocoded[0]["properties"]["proj:code"].startswith("EPSG:326")


# --- search through the simulator -----------------------------------------------------------

SORTS = {
    "default": None,
    "incidence_asc_native": [SortField("view:incidence_angle")],
    "gsd_desc_sorted_by_adapter": [SortField("gsd", descending=True)],
}


@pytest.mark.parametrize("sort", SORTS)
async def test_small_pages_equal_one_big_page_in_sort_order(provider: Provider, sort: str) -> None:
    query = build_query(bbox=NEAR_HELSINKI, sortby=SORTS[sort])
    small = await drain(provider, query, 7)
    big = await drain(provider, query, 900)
    ids = [i["id"] for i in small]
    assert len(ids) == len(set(ids)) > 100
    assert ids == [i["id"] for i in big]
    key = sort_key_function(query.sortby)
    assert [key(i) for i in small] == sorted(key(i) for i in small)


async def test_matched_is_exact_without_datetime(provider: Provider) -> None:
    query = build_query(bbox=NEAR_HELSINKI, collections=["capella-geo", "capella-slc"])
    page = await provider.search(query, None, 10)
    everything = await drain(provider, query, 900)
    assert page.matched == len(everything)
    assert all(Matcher(query)(i) for i in everything)
    assert {i["collection"] for i in everything} == {"capella-geo", "capella-slc"}
    dated = build_query(bbox=NEAR_HELSINKI, datetime="2022-01-01T00:00:00Z/..")
    assert (await provider.search(dated, None, 10)).matched is None


async def test_items_of_several_searches_validate(provider: Provider) -> None:
    queries = [
        build_query(bbox=NEAR_HELSINKI),
        build_query(collections=["capella-cphd", "capella-sidd"], bbox=[-123, 37, -122, 38.5]),
        build_query(datetime="2025-01-01T00:00:00Z/2025-03-31T23:59:59Z"),
        build_query(sortby=[SortField("gsd")], bbox=[103, 0.5, 104.5, 2]),
    ]
    for query in queries:
        page = await provider.search(query, None, 60)
        assert page.items
        for item in page.items:
            assert item["collection"] in provider.collection_ids
            assert_valid(linked(item))


async def test_datetime_is_enforced_by_the_bridge(provider: Provider) -> None:
    """Capella matches ``datetime`` on the centre time only; the adapter loosens the native
    interval so the page is a superset, and the core's Matcher drops the extra items."""
    archive = build_archive(TEST_SEED, TEST_SCENES)
    target = next(i for i in archive.items if i["collection"] == "capella-geo")
    props = target["properties"]
    end = parse_instant(props["end_datetime"])
    after = f"{to_rfc3339(end + timedelta(seconds=1))}/{to_rfc3339(end + timedelta(seconds=2))}"
    query = build_query(ids=[target["id"]], collections=["capella-geo"], datetime=after)
    page = await provider.search(query, None, 10)
    assert [i["id"] for i in page.items] == [target["id"]], "native page holds the collect"
    assert page.matched is None
    assert not Matcher(query)(page.items[0]), "it ended before the interval: the core drops it"

    # The other way round: a collect that starts inside the interval but is centred after
    # it matches in STAC, and only reaches the core because the adapter widened the request.
    start = parse_instant(props["start_datetime"])
    early = f"{to_rfc3339(start)}/{to_rfc3339(start + timedelta(seconds=0.5))}"
    query = build_query(ids=[target["id"]], collections=["capella-geo"], datetime=early)
    page = await provider.search(query, None, 10)
    assert [i["id"] for i in page.items] == [target["id"]]
    assert Matcher(query)(page.items[0])


async def test_filter_is_pushed_down_exactly(provider: Provider) -> None:
    query = build_query(
        bbox=NEAR_HELSINKI,
        query={"view:off_nadir": {"lte": 35}, "product:type": {"in": ["GEO", "SLC"]}},
    )
    page = await provider.search(query, None, 900)
    assert page.items and page.next_cursor is None
    assert all(Matcher(query)(i) for i in page.items), "Capella evaluated the query natively"
    assert page.matched == len(page.items)
    everything = await drain(provider, build_query(bbox=NEAR_HELSINKI), 900)
    assert len(page.items) < len(everything)


async def test_filter_capella_cannot_evaluate_is_enforced_by_the_bridge(
    provider: Provider,
) -> None:
    """Capella's ``query`` has no ``neq``: the term stays with the bridge."""
    query = build_query(
        bbox=NEAR_HELSINKI,
        filter="sar:instrument_mode <> 'stripmap' AND view:incidence_angle >= 30",
        filter_lang="cql2-text",
    )
    page = await provider.search(query, None, 900)
    assert page.matched is None
    assert all(i["properties"]["view:incidence_angle"] >= 30 for i in page.items), "pushed"
    strips = [i for i in page.items if i["properties"]["sar:instrument_mode"] == "stripmap"]
    assert strips, "the native page holds items the filter excludes"
    matcher = Matcher(query)
    assert not any(matcher(i) for i in strips)
    assert any(matcher(i) for i in page.items)


def test_native_property_names_are_aliases(provider: Provider) -> None:
    assert provider.property_aliases == {"view:look_angle": "view:off_nadir"}


async def test_cursor_is_self_describing(provider: Provider) -> None:
    for sortby in (None, [SortField("gsd")]):
        query = build_query(bbox=NEAR_HELSINKI, sortby=sortby)
        first = await provider.search(query, None, 5)
        assert first.next_cursor is not None
        again = await provider.search(query, first.next_cursor, 50)
        once_more = await provider.search(query, first.next_cursor, 1)
        assert [i["id"] for i in again.items] == [i["id"] for i in once_more.items]
        assert len(again.items) == 5
        assert orjson.loads(orjson.dumps(first.next_cursor)) == first.next_cursor


async def test_bad_cursors_are_bad_requests(provider: Provider) -> None:
    query = build_query(bbox=NEAR_HELSINKI)
    local = await provider.search(build_query(sortby=[SortField("gsd")]), None, 5)
    assert local.next_cursor is not None
    for cursor in ("not-a-cursor", local.next_cursor, "e30"):
        with pytest.raises(BadRequest):
            await provider.search(query, cursor, 5)


async def test_local_sort_is_bounded() -> None:
    sandbox = in_process_sandbox(simulator_config(), names=["capella"])
    bounded = sandbox.provider_settings["capella"].model_copy(
        update={"local_sort_max_records": 100}
    )
    catalog = load_catalog(COLLECTIONS, providers=["capella"])
    provider = build_providers(Settings(), catalog, {"capella": bounded}, sandbox.transports)[
        "capella"
    ]
    with pytest.raises(BadRequest, match="more than 100 items"):
        await provider.search(build_query(sortby=[SortField("gsd")]), None, 10)
    await provider.aclose()


async def test_search_outside_capella_collections_asks_nothing(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, app = wired
    page = await provider.search(build_query(collections=["iceye-grd"]), None, 10)
    assert page.items == [] and page.next_cursor is None
    assert (await sim_stats(app))["total_requests"] == 0


# --- get_item -------------------------------------------------------------------------------


async def test_get_item(provider: Provider) -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    target = next(i for i in archive.items if i["collection"] == "capella-sicd")
    item = await provider.get_item("capella-sicd", target["id"])
    assert item is not None and item["id"] == target["id"]
    assert item["collection"] == "capella-sicd"
    assert_valid(linked(item))
    assert await provider.get_item("capella-geo", target["id"]) is None
    assert await provider.get_item("capella-sicd", "CAPELLA_C01_SP_SICD_HH_0_0") is None
    assert await provider.get_item("iceye-grd", target["id"]) is None


# --- auth and errors ------------------------------------------------------------------------


def provider_with(app: Starlette, api_key: str | None) -> Provider:
    catalog = load_catalog(COLLECTIONS, providers=["capella"])
    settings = ProviderSettings(base_url=SIM_BASE, api_key=api_key)
    context = ProviderContext(
        name="capella",
        settings=settings,
        collections=catalog.by_provider["capella"],
        transport=httpx.ASGITransport(app=app),
    )
    return capella_provider.create_provider(context)


async def test_api_key_is_sent_on_every_request_with_no_token_exchange(
    wired: tuple[Provider, Starlette],
) -> None:
    provider, app = wired
    await provider.search(build_query(), None, 3)
    await provider.search(build_query(bbox=NEAR_HELSINKI), None, 3)
    stats = await sim_stats(app)
    assert stats["requests"] == {"POST /catalog/search": 2}


async def test_refused_api_key_is_an_auth_error_that_hides_the_key(
    wired: tuple[Provider, Starlette],
) -> None:
    _, app = wired
    secret = "sk-capella-secret-123"
    provider = provider_with(app, secret)
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await provider.search(build_query(), None, 5)
        assert secret not in str(caught.value) and secret not in repr(caught.value)
        assert secret not in repr(provider)
        # A static key cannot be refreshed: one request, no retry loop.
        assert (await sim_stats(app))["total_requests"] == 1
    finally:
        await provider.aclose()


async def test_missing_api_key_fails_before_any_request(
    wired: tuple[Provider, Starlette],
) -> None:
    _, app = wired
    provider = provider_with(app, None)
    try:
        with pytest.raises(ProviderAuthError):
            await provider.get_item("capella-geo", "x")
        assert (await sim_stats(app))["total_requests"] == 0
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        ({"error_rate": 1.0, "error_status": 503}, ProviderError),
        ({"malformed_rate": 1.0}, ProviderBadResponse),
        ({"rate_limit_rate": 1.0}, ProviderRateLimited),
    ],
)
async def test_native_failures_map_to_bridge_errors(
    wired: tuple[Provider, Starlette], faults: dict[str, Any], error: type[Exception]
) -> None:
    provider, app = wired
    await set_faults(app, faults)
    with pytest.raises(error):
        await provider.search(build_query(), None, 5)
