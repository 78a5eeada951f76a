"""The ICEYE adapter: translation and mapping goldens, v1/v2 equivalence, paging, auth.

Set ``UPDATE_GOLDEN=1`` to rewrite the files under ``tests/golden/iceye/`` (the native
input records are then re-taken from the simulator archive).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.contract import Provider
from bridge.core.match import Matcher
from bridge.core.query import SearchQuery, SortField, build_query
from bridge.core.sorting import sort_key_function
from bridge.errors import (
    BadRequest,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
)
from bridge.providers.base import ProviderContext
from bridge.providers.iceye import V1_TO_V2, create_provider
from bridge.providers.iceye.mapping import AssetPlan, item_from_native
from bridge.providers.iceye.names import PRODUCT_TYPES_BY_COLLECTION
from bridge.providers.iceye.translate import to_native_query
from bridge.settings import ProviderSettings
from bridge.simulators.iceye import sandbox_settings
from bridge.simulators.iceye.archive import build_archive
from bridge.simulators.iceye.render import render
from tests.support import wiring
from tests.support.stac_schemas import validation_errors

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "iceye"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
BASE = "http://iceye.simulator"
HELSINKI = [24.0, 59.8, 26.0, 60.6]
TRIANGLE = {
    "type": "Polygon",
    "coordinates": [[[24.0, 59.8], [26.0, 59.8], [24.0, 60.6], [24.0, 59.8]]],
}


def _golden(name: str, actual: Any) -> None:
    path = GOLDEN / name
    actual = orjson.loads(orjson.dumps(actual))
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    assert actual == orjson.loads(path.read_bytes())


def _linked(item: dict[str, Any]) -> dict[str, Any]:
    # The core adds the links; STAC requires a collection link on an item with a collection.
    href = f"http://bridge/collections/{item['collection']}"
    return {**item, "links": [{"rel": "collection", "href": href}]}


async def _all(provider: Provider, query: SearchQuery, page_size: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = await provider.search(query, cursor, page_size)
        assert page.matched is None
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


@pytest.fixture
async def pair() -> AsyncIterator[dict[str, tuple[Provider, Starlette]]]:
    made = {v: wiring.provider_for("iceye", api_version=v) for v in ("v2", "v1")}
    yield made
    for provider, _ in made.values():
        await provider.aclose()


# --- goldens ----------------------------------------------------------------------------------

QUERIES: dict[str, dict[str, Any]] = {
    "everything": {},
    "bbox_datetime_one_collection": {
        "bbox": HELSINKI,
        "datetime": "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z",
        "collections": ["iceye-grd"],
    },
    "intersects_open_datetime": {"intersects": TRIANGLE, "datetime": "2024-01-01T00:00:00Z/.."},
    "ids_two_collections": {
        "ids": ["ICEYE_X2_SLC_SM_10010_20190101T000000", "ICEYE_X5_SICD_SL_10020_20190102T00"],
        "collections": ["iceye-slc", "iceye-sicd"],
    },
    "instant": {"datetime": "2022-05-01T12:00:00Z"},
    "sort_incidence": {"bbox": HELSINKI, "sortby": [SortField("view:incidence_angle")]},
    "sort_unknown_field_then_datetime": {
        "sortby": [SortField("eo:cloud_cover", descending=True), SortField("datetime")]
    },
    "sort_by_id_desc": {"sortby": [SortField("id", descending=True)]},
    "sort_not_native": {"sortby": [SortField("sar:instrument_mode")]},
    "filter_pushdown": {
        "collections": ["iceye-grd", "iceye-sidd"],
        "query": {
            "view:incidence_angle": {"gt": 20, "lte": 35},
            "sat:orbit_state": {"eq": "ascending"},
            "platform": {"eq": "iceye-x14"},
        },
        "filter": "sar:product_type = 'GRD' AND (gsd < 1 OR iceye:frame_id = 'x')",
    },
    "filter_pushdown_by_ids": {
        "ids": ["ICEYE_X2_GRD_SM_10010_20190101T000000"],
        "query": {
            "iceye:incidence_center": {"in": [20.5, 21.0]},
            "sar:resolution_range": {"gt": "x"},
        },
    },
}


def _types(collections: list[str] | None) -> tuple[str, ...] | None:
    if collections is None:
        return None
    return tuple(sorted(t for c in collections for t in PRODUCT_TYPES_BY_COLLECTION[c]))


def test_to_native_query_golden() -> None:
    actual = {}
    for name, spec in QUERIES.items():
        query = build_query(**spec)
        actual[name] = {
            version: to_native_query(
                query,
                api_version=version,
                product_types=_types(spec.get("collections")),
                contract_id="contract-1" if version == "v2" else None,
                page_size=25,
            ).to_json()
            for version in ("v2", "v1")
        }
    _golden("native_queries.json", actual)


def _native_records(version: str) -> list[dict[str, Any]]:
    path = GOLDEN / f"native_items_{version}.json"
    if UPDATE:
        archive = build_archive(wiring.TEST_SEED, wiring.TEST_SCENES)
        picked: dict[str, Any] = {}
        for scene in archive.scenes:
            picked.setdefault(scene.product_type, scene)
        rendered = [render(s, version, BASE) for s in picked.values()]
        path.write_bytes(orjson.dumps(rendered, option=orjson.OPT_INDENT_2) + b"\n")
    records: list[dict[str, Any]] = orjson.loads(path.read_bytes())
    return records


PLAN = AssetPlan(
    item_assets={
        cid: doc["item_assets"]
        for cid, doc in load_catalog(wiring.COLLECTIONS, ["iceye"]).by_provider["iceye"].items()
    },
    order_href=f"{BASE}/api/catalog/v2/purchases",
)


def test_item_from_native_golden_is_the_same_for_v1_and_v2() -> None:
    v2 = [item_from_native(r, "v2", PLAN) for r in _native_records("v2")]
    v1 = [item_from_native(r, "v1", PLAN) for r in _native_records("v1")]
    assert len(v2) == 6
    assert v1 == v2
    _golden("stac_items.json", v2)
    for item in v2:
        assert item is not None
        assert validation_errors(_linked(item)) == []


def test_unknown_product_types_are_skipped() -> None:
    record = _native_records("v2")[0]
    odd = {**record, "properties": {**record["properties"], "sar:product_type": "QLK"}}
    assert item_from_native(odd, "v2") is None


def test_v1_table_is_the_documented_mapping() -> None:
    assert V1_TO_V2["incidence_angle"] == "iceye:incidence_center"
    assert V1_TO_V2["product_type"] == "sar:product_type"
    assert V1_TO_V2["orbit_state"] == "sat:orbit_state"
    assert V1_TO_V2["image_mode"] == "sar:instrument_mode"
    assert len(V1_TO_V2) == 10


# --- v1 and v2 agree --------------------------------------------------------------------------

SEARCHES: list[dict[str, Any]] = [
    {"bbox": HELSINKI, "datetime": "2022-01-01T00:00:00Z/2024-06-30T00:00:00Z"},
    {"bbox": [100.0, -10.0, 160.0, 10.0], "collections": ["iceye-grd", "iceye-csi"]},
    {"bbox": HELSINKI, "sortby": [SortField("datetime")]},
    {"bbox": HELSINKI, "sortby": [SortField("view:incidence_angle", descending=True)]},
    {"datetime": "2025-03-01T00:00:00Z/2025-04-30T00:00:00Z", "collections": ["iceye-vid"]},
]


@pytest.mark.parametrize("spec", SEARCHES)
async def test_v1_and_v2_yield_identical_items(
    pair: dict[str, tuple[Provider, Starlette]], spec: dict[str, Any]
) -> None:
    query = build_query(**spec)
    v2 = await _all(pair["v2"][0], query, 10)
    v1 = await _all(pair["v1"][0], query, 10)
    assert v2, "the search should find something"
    assert [i["id"] for i in v1] == [i["id"] for i in v2]
    assert v1 == v2


async def test_v1_and_v2_agree_by_ids(pair: dict[str, tuple[Provider, Starlette]]) -> None:
    some = (await pair["v2"][0].search(build_query(bbox=HELSINKI), None, 30)).items
    query = build_query(ids=[i["id"] for i in some], collections=["iceye-grd", "iceye-slc"])
    v2 = await _all(pair["v2"][0], query, 5)
    v1 = await _all(pair["v1"][0], query, 5)
    assert v1 == v2
    assert {i["id"] for i in v2} == {
        i["id"] for i in some if i["collection"] in ("iceye-grd", "iceye-slc")
    }
    assert "POST /api/catalog/v1/search" in pair["v1"][1].state.stats.snapshot()["requests"]


async def test_filter_terms_are_pushed_down_and_stay_exact(
    pair: dict[str, tuple[Provider, Starlette]],
) -> None:
    query = build_query(
        bbox=[-30.0, 30.0, 60.0, 72.0],
        query={
            "view:incidence_angle": {"gte": 25, "lt": 30},
            "sat:orbit_state": {"eq": "ascending"},
        },
        filter="sar:instrument_mode = 'spotlight' AND gsd > 0.4",
    )
    matcher = Matcher(query)
    v2 = await _all(pair["v2"][0], query, 50)  # every term but gsd is evaluated by ICEYE
    # v1 pushes the same terms (v1 names) into its POST /search and pages it through GET
    # /items with the cursor: the same result.
    v1 = await _all(pair["v1"][0], query, 50)
    assert v2 and all(matcher(i) for i in v2)
    assert v1 == v2
    asked = pair["v1"][1].state.stats.snapshot()["requests"]
    assert "POST /api/catalog/v1/search" in asked


async def test_bridge_enforces_the_polygon_v1_cannot(
    pair: dict[str, tuple[Provider, Starlette]],
) -> None:
    query = build_query(intersects=TRIANGLE, datetime="2024-01-01T00:00:00Z/..")
    page = await pair["v1"][0].search(query, None, 100)
    matcher = Matcher(query)
    outside = [i for i in page.items if not matcher(i)]
    assert outside, "v1 sends only the polygon's bbox, so some scenes lie outside it"
    kept = [i for i in await _all(pair["v1"][0], query, 100) if matcher(i)]
    exact = [i for i in await _all(pair["v2"][0], query, 100) if matcher(i)]
    assert kept == exact
    assert len(kept) < len(await _all(pair["v1"][0], query, 100))


# --- paging and sorting -----------------------------------------------------------------------

PAGING: list[dict[str, Any]] = [
    {"bbox": HELSINKI},
    {"bbox": HELSINKI, "sortby": [SortField("end_datetime")], "collections": ["iceye-sicd"]},
    {"bbox": HELSINKI, "sortby": [SortField("sar:instrument_mode"), SortField("gsd", True)]},
    {"bbox": [-10.0, 40.0, 40.0, 70.0], "datetime": "2024-01-01T00:00:00Z/2024-12-31T00:00:00Z"},
]


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize("spec", PAGING)
async def test_small_pages_equal_one_big_page(version: str, spec: dict[str, Any]) -> None:
    provider, _ = wiring.provider_for("iceye", api_version=version)
    query = build_query(**spec)
    small = await _all(provider, query, 7)
    big = await _all(provider, query, 100)
    await provider.aclose()
    ids = [i["id"] for i in small]
    assert len(ids) > 7
    assert len(set(ids)) == len(ids)
    assert small == big
    assert small == sorted(small, key=sort_key_function(query.sortby))


async def test_cursor_is_sticky_and_checked(pair: dict[str, tuple[Provider, Starlette]]) -> None:
    v2 = pair["v2"][0]
    query = build_query(bbox=HELSINKI)
    first = await v2.search(query, None, 5)
    assert first.next_cursor is not None
    again = await v2.search(query, first.next_cursor, 50)
    once_more = await v2.search(query, first.next_cursor, 3)
    assert again.items == once_more.items
    assert len(again.items) == 5
    with pytest.raises(BadRequest):
        await pair["v1"][0].search(query, first.next_cursor, 5)
    with pytest.raises(BadRequest):
        await v2.search(query, "iceye.not-base64!", 5)
    with pytest.raises(BadRequest):
        await v2.search(query, "something-else", 5)


async def test_unbounded_local_sort_is_refused(pair: dict[str, tuple[Provider, Starlette]]) -> None:
    query = build_query(sortby=[SortField("view:incidence_angle")])
    with pytest.raises(BadRequest, match="narrow it"):
        await pair["v1"][0].search(query, None, 10)
    pushed = await pair["v2"][0].search(query, None, 10)  # v2 sorts by it natively
    angles = [i["properties"]["view:incidence_angle"] for i in pushed.items]
    assert angles == sorted(angles)


async def test_other_collections_ask_nothing(pair: dict[str, tuple[Provider, Starlette]]) -> None:
    provider, app = pair["v2"]
    page = await provider.search(build_query(collections=["capella-slc"]), None, 10)
    assert page.items == [] and page.next_cursor is None
    assert app.state.stats.snapshot()["total_requests"] == 0


async def test_items_validate_offline(pair: dict[str, tuple[Provider, Starlette]]) -> None:
    # Schema validation costs ~15 ms an item: 40 per search and version cover every
    # product type without slowing the suite.
    specs = [SEARCHES[0], SEARCHES[1], {"datetime": "2020-01-01T00:00:00Z/2020-03-01T00:00:00Z"}]
    collections = set()
    for spec in specs:
        for version in ("v2", "v1"):
            items = (await pair[version][0].search(build_query(**spec), None, 40)).items
            assert items
            for item in items:
                collections.add(item["collection"])
                assert validation_errors(_linked(item)) == []
    assert len(collections) >= 4


async def test_get_item(pair: dict[str, tuple[Provider, Starlette]]) -> None:
    some = (await pair["v2"][0].search(build_query(bbox=HELSINKI), None, 1)).items[0]
    for version in ("v2", "v1"):
        provider = pair[version][0]
        assert await provider.get_item(some["collection"], some["id"]) == some
        other = "iceye-vid" if some["collection"] != "iceye-vid" else "iceye-grd"
        assert await provider.get_item(other, some["id"]) is None
        assert (
            await provider.get_item(some["collection"], "ICEYE_X99_GRD_SL_1_20200101T000000")
            is None
        )
        assert await provider.get_item("capella-slc", some["id"]) is None


# --- auth -------------------------------------------------------------------------------------


def _token_requests(app: Starlette) -> int:
    requests: dict[str, int] = app.state.stats.snapshot()["requests"]
    return requests.get("POST /oauth2/default/v1/token", 0)


async def test_token_is_cached_and_renewed_after_a_401(
    pair: dict[str, tuple[Provider, Starlette]],
) -> None:
    provider, app = pair["v2"]
    query = build_query(bbox=HELSINKI)
    await provider.search(query, None, 5)
    await provider.search(query, None, 5)
    assert _token_requests(app) == 1
    app.state.auth.tokens.clear()  # the provider revokes every token
    page = await provider.search(query, None, 5)
    assert len(page.items) == 5
    assert _token_requests(app) == 2


async def test_token_is_refreshed_before_it_expires() -> None:
    config = wiring.simulator_config(extra={"iceye_token_ttl_s": 1})
    provider, app = wiring.provider_for("iceye", config=config)
    query = build_query(bbox=HELSINKI)
    await provider.search(query, None, 5)
    await asyncio.sleep(0.6)  # past the cache's refresh point (half of a 1 s lifetime)
    await provider.search(query, None, 5)
    await provider.aclose()
    assert _token_requests(app) == 2
    requests = app.state.stats.snapshot()["requests"]
    assert requests["POST /api/catalog/v2/search"] == 2  # no 401 round trip was needed


async def test_refused_credentials_never_leak(pair: dict[str, tuple[Provider, Starlette]]) -> None:
    app = pair["v2"][1]
    fields = {**sandbox_settings(BASE), "base_url": BASE, "client_secret": "s3cr3t-value"}
    context = ProviderContext(
        name="iceye",
        settings=ProviderSettings.model_validate(fields),
        collections=load_catalog(wiring.COLLECTIONS, providers=["iceye"]).by_provider["iceye"],
        transport=httpx.ASGITransport(app=app),
    )
    provider = create_provider(context)
    with pytest.raises(ProviderAuthError) as info:
        await provider.search(build_query(bbox=HELSINKI), None, 5)
    await provider.aclose()
    assert "s3cr3t" not in str(info.value) and "s3cr3t" not in repr(info.value)
    assert "s3cr3t" not in repr(provider) and "s3cr3t" not in repr(context.settings)
    # No credentials configured: refused before any request leaves the process.
    no_creds = create_provider(
        ProviderContext(name="iceye", settings=ProviderSettings(), collections=context.collections)
    )
    with pytest.raises(ProviderAuthError, match="required"):
        await no_creds.search(build_query(), None, 5)
    await no_creds.aclose()


# --- native failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"error_rate": 1.0, "error_status": 503}, ProviderError),
        ({"rate_limit_rate": 1.0}, ProviderRateLimited),
        ({"malformed_rate": 1.0}, ProviderBadResponse),
    ],
)
async def test_native_failures_become_bridge_errors(
    pair: dict[str, tuple[Provider, Starlette]], fault: dict[str, Any], error: type[Exception]
) -> None:
    provider, app = pair["v2"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as admin:
        response = await admin.post("/_simulator/faults", json={**fault, "paths": ["/api"]})
        assert response.status_code == 200
    with pytest.raises(error):
        await provider.search(build_query(bbox=HELSINKI), None, 5)
