"""The Arlula adapter against its simulator: translation and mapping (golden), paging over
the unpaged native result, get-item by id, auth, and what the bridge evaluates itself."""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.core.contract import Item
from bridge.core.match import Matcher
from bridge.core.query import SearchQuery, SortField, build_query
from bridge.core.sorting import sort_key_function
from bridge.errors import BadRequest, ProviderAuthError, ProviderBadResponse, ProviderError
from bridge.providers.arlula import ArlulaProvider
from bridge.providers.arlula.ids import item_id, parse_item_id
from bridge.providers.arlula.mapping import item_from_native
from bridge.providers.arlula.names import GSD_CLASSES
from bridge.providers.arlula.translate import to_native_query
from bridge.providers.base import ProviderContext
from bridge.providers.cursor import encode_cursor
from bridge.settings import ProviderSettings
from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app
from tests.support.stac_schemas import assert_valid
from tests.support.wiring import COLLECTIONS, provider_for
from tests.support.wiring import simulator_config as simulator_config

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "arlula"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
VERSIONS = ("2023-01", "2020-12")
ALL = tuple(sorted(GSD_CLASSES))
TODAY = date(2026, 11, 24)
HELSINKI = [24.5, 60.0, 25.5, 60.4]
TWO_YEARS = "2022-01-01T00:00:00Z/2023-12-31T23:59:59Z"


def golden(name: str, actual: Any) -> Any:
    """Compare ``actual`` with the golden file ``name`` (rewrite it with UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return orjson.loads(path.read_bytes())


def validate(item: Item) -> None:
    # The core adds links; the collection link is what the item schema requires.
    href = f"http://bridge.test/collections/{item['collection']}"
    assert_valid({**item, "links": [{"rel": "collection", "href": href}]})


@pytest.fixture(params=VERSIONS)
async def wired(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ArlulaProvider, Starlette]]:
    provider, app = provider_for("arlula", api_version=request.param)
    assert isinstance(provider, ArlulaProvider)
    yield provider, app
    await provider.aclose()


async def collect(provider: ArlulaProvider, query: SearchQuery, size: int) -> list[Item]:
    items: list[Item] = []
    cursor = None
    while True:
        page = await provider.search(query, cursor, size)
        assert page.matched is None
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


def native_requests(app: Starlette) -> int:
    requests = app.state.stats.snapshot()["requests"]
    return int(requests.get("POST /api/archive/search", 0) + requests.get("GET /api/search", 0))


# --- golden: translation and mapping -------------------------------------------------

QUERY_CASES: dict[str, dict[str, Any]] = {
    "bbox_interval": {"bbox": HELSINKI, "datetime": "2023-05-01T10:30:00Z/2023-05-03T01:00:00Z"},
    "instant": {"bbox": HELSINKI, "datetime": "2023-05-01T10:30:00+02:00"},
    "open_end": {"bbox": HELSINKI, "datetime": "2024-01-01T00:00:00Z/.."},
    "open_start": {"datetime": "../2020-02-29T23:59:59Z"},
    "no_constraints": {},
    "point": {"intersects": {"type": "Point", "coordinates": [24.94, 60.17]}},
    "polygon": {
        "intersects": {
            "type": "Polygon",
            "coordinates": [
                [[24.5, 60.0], [24.52, 60.0], [25.5, 60.4], [25.48, 60.4], [24.5, 60.0]]
            ],
        },
        "sortby": [SortField("eo:cloud_cover")],
    },
    "unsortable_natively": {"bbox": HELSINKI, "sortby": [SortField("id", descending=True)]},
    "filter_pushdown": {
        "bbox": HELSINKI,
        "filter": "eo:cloud_cover < 20 AND view:off_nadir <= 15 AND gsd = 0.8 "
        "AND arlula:supplier IN ('21at', 'siis') AND arlula:supplier = '21at'",
    },
    "filter_not_pushable": {
        "bbox": HELSINKI,
        "filter": "eo:cloud_cover > 20 OR gsd < 1 AND view:off_nadir <= 60 AND platform = 'spot-6'",
    },
}
COLLECTION_CASES = {"all": ALL, "vhr": ("arlula-vhr",), "hr": ("arlula-hr",)}


def test_to_native_query_golden() -> None:
    actual = {
        f"{name}|{cname}|{version}": to_native_query(
            build_query(**kwargs), api_version=version, collections=cols, today=TODAY
        )
        for name, kwargs in QUERY_CASES.items()
        for cname, cols in COLLECTION_CASES.items()
        for version in VERSIONS
    }
    assert actual == golden("to_native_query.json", actual)


def test_translation_pushes_whole_days_and_grown_bounding_boxes() -> None:
    query = build_query(**QUERY_CASES["polygon"], datetime="2023-05-01T10:30:00Z")
    body = to_native_query(query, api_version="2023-01", collections=ALL, today=TODAY)["json"]
    assert (body["start"], body["end"]) == ("2023-05-01", "2023-05-01")
    box = body["boundingBox"]
    # The polygon's bounding box grown by 30 km: ~0.27 degrees of latitude, ~0.55 of longitude.
    assert box["north"] == pytest.approx(60.4 + 0.2713, abs=1e-3)
    assert box["south"] == pytest.approx(60.0 - 0.2713, abs=1e-3)
    assert box["west"] < 24.5 - 0.5 and box["east"] > 25.5 + 0.5
    assert body["gsd"] == 100.0 and body["sort"] == {"field": "cloud", "ascending": True}


def test_filter_bounds_are_pushed_as_supersets() -> None:
    query = build_query(**QUERY_CASES["filter_pushdown"])
    body = to_native_query(query, api_version="2023-01", collections=ALL, today=TODAY)["json"]
    assert body["cloud"] == 20  # "< 20": a native "<" or "<=" both keep every match
    assert body["offNadir"] > 15 and body["offNadir"] == math.nextafter(15.0, math.inf)
    assert body["gsd"] == math.nextafter(0.8, math.inf) and body["supplier"] == "21at"
    loose = build_query(**QUERY_CASES["filter_not_pushable"])
    body = to_native_query(loose, api_version="2023-01", collections=ALL, today=TODAY)["json"]
    assert not {"cloud", "offNadir", "supplier"} & body.keys() and body["gsd"] == 100.0


async def _native_samples(version: str) -> list[dict[str, Any]]:
    app = create_app(simulator_config())
    transport = httpx.ASGITransport(app=app)
    auth = (DEMO_KEY, DEMO_SECRET)
    samples: list[dict[str, Any]] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://arlula.test") as client:
        for area in ({"latLong": {"latitude": 60.17, "longitude": 24.94}}, {"boundingBox": {
                "north": 60.4, "south": 60.0, "east": 25.5, "west": 24.5}}):  # fmt: skip
            if version == "2023-01":
                body = {"start": "2023-01-01", "end": "2023-12-31", "gsd": 100, **area}
                response = await client.post("/api/archive/search", json=body, auth=auth)
                found = response.json()["results"]
            else:
                params: dict[str, Any] = {"start": "2023-01-01", "end": "2023-12-31", "res": "vlow"}
                params |= area.get("boundingBox") or {"lat": 60.17, "long": 24.94}
                found = (await client.get("/api/search", params=params, auth=auth)).json()
            samples += found[:3]
    return samples


@pytest.mark.parametrize("version", VERSIONS)
async def test_item_from_native_golden(version: str) -> None:
    records = golden(f"native_{version}.json", await _native_samples(version) if UPDATE else None)
    assert len(records) == 6
    items = []
    for record in records:
        gsd = record["gsd"] if version == "2023-01" else record["resolution"]
        cid = next(c for c, (lo, hi) in GSD_CLASSES.items() if lo < gsd <= hi)
        items.append(item_from_native(record, api_version=version, collection=cid))
    assert items == golden(f"items_{version}.json", items)
    for item in items:
        validate(item)


def test_item_ids_round_trip() -> None:
    value = item_id("siis", "K3A_2023_X_1", "2023-05-14", 24.930123, -60.5)
    assert value == "siis_K3A_2023_X_1_20230514_24.93012_-60.50000"
    ref = parse_item_id(value)
    assert ref is not None
    assert (ref.supplier, ref.scene_id, ref.day, ref.lon, ref.lat) == (
        "siis", "K3A_2023_X_1", "2023-05-14", 24.93012, -60.5
    )  # fmt: skip
    odd = parse_item_id(item_id("a_b", "S", "2020-01-01", 1, 2))
    assert odd is not None and odd.supplier == "a_b"
    for bad in (
        "",
        "nounderscore",
        "siis_X_20231399_1_2",
        "siis_X_20230101_1_north",
        "x_20230101_1_2",
    ):
        assert parse_item_id(bad) is None


# --- search ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sortby",
    [None, [SortField("eo:cloud_cover")], [SortField("arlula:supplier"), SortField("gsd", True)]],
)
async def test_paging_matches_one_big_page(
    wired: tuple[ArlulaProvider, Starlette], sortby: list[SortField] | None
) -> None:
    provider, app = wired
    query = build_query(bbox=HELSINKI, datetime=TWO_YEARS, sortby=sortby)
    small = await collect(provider, query, 7)
    provider.cache.clear()
    big = await collect(provider, query, 1000)
    assert len(big) > 30
    assert [i["id"] for i in small] == [i["id"] for i in big]
    assert len({i["id"] for i in small}) == len(small)
    assert big == sorted(big, key=sort_key_function(query.sortby))
    assert native_requests(app) == 2  # one per run: later pages come from the cache


async def test_same_cursor_same_page_whatever_the_size(
    wired: tuple[ArlulaProvider, Starlette],
) -> None:
    provider, app = wired
    query = build_query(bbox=HELSINKI, datetime=TWO_YEARS)
    first = await provider.search(query, None, 5)
    assert first.next_cursor is not None
    again = await provider.search(query, first.next_cursor, 50)
    provider.cache.clear()  # an expired entry is fetched again from the cursor alone
    after_expiry = await provider.search(query, first.next_cursor, 1)
    assert len(again.items) == 5 and again.items == after_expiry.items
    assert native_requests(app) == 2


async def test_items_validate(wired: tuple[ArlulaProvider, Starlette]) -> None:
    provider, _ = wired
    queries = [
        build_query(bbox=HELSINKI, datetime=TWO_YEARS),
        build_query(intersects={"type": "Point", "coordinates": [151.21, -33.87]}),
        build_query(datetime="2024-03-01T00:00:00Z/2024-03-10T00:00:00Z"),
        build_query(bbox=[-122.6, 37.6, -122.2, 37.9], collections=["arlula-mr"]),
    ]
    total = 0
    for query in queries:
        items = await collect(provider, query, 100)
        total += len(items)
        for item in items[:60]:  # schema validation is slow; 60 per search cover the shapes
            validate(item)
    assert total > 100


async def test_collections_select_resolution_classes(
    wired: tuple[ArlulaProvider, Starlette],
) -> None:
    provider, _ = wired
    catalog = load_catalog(COLLECTIONS, providers=["arlula"]).by_provider["arlula"]
    for cid, (low, high) in GSD_CLASSES.items():
        query = build_query(bbox=HELSINKI, collections=[cid])
        items = await collect(provider, query, 200)
        assert items, cid
        summaries = catalog[cid]["summaries"]
        for item in items:
            props = item["properties"]
            assert item["collection"] == cid and low < props["gsd"] <= high
            assert summaries["gsd"]["minimum"] <= props["gsd"] <= summaries["gsd"]["maximum"]
            assert props["arlula:supplier"] in summaries["arlula:supplier"]
            assert (
                props.get("constellation", summaries["constellation"][0])
                in summaries["constellation"]
            )
            if "platform" in props:
                assert props["platform"] in summaries["platform"]
                assert props["view:off_nadir"] <= summaries["view:off_nadir"]["maximum"]


async def test_bridge_enforces_a_polygon_narrower_than_its_bbox(
    wired: tuple[ArlulaProvider, Starlette],
) -> None:
    provider, _ = wired
    query = build_query(**QUERY_CASES["polygon"])
    items = await collect(provider, query, 1000)
    matcher = Matcher(query)
    outside = [i for i in items if not matcher(i)]
    inside = [i for i in items if matcher(i)]
    assert outside, "the native result (bbox of the polygon) holds scenes off the polygon"
    assert inside
    assert len(inside) < len(items)


async def test_bridge_enforces_a_datetime_narrower_than_a_day(
    wired: tuple[ArlulaProvider, Starlette],
) -> None:
    provider, _ = wired
    whole_days = await collect(provider, build_query(datetime=TWO_YEARS), 1000)
    day = whole_days[0]["properties"]["datetime"][:10]
    window = f"{day}T00:00:00Z/{day}T00:00:01Z"  # one second: Arlula only sees the day
    query = build_query(datetime=window)
    items = await collect(provider, query, 1000)
    matcher = Matcher(query)
    assert items and any(not matcher(i) for i in items)
    assert all(i["properties"]["datetime"][:10] == day for i in items)


@pytest.mark.parametrize(
    "cql2",
    [
        "eo:cloud_cover <= 20.5 AND view:off_nadir < 12",
        "gsd <= 0.8 AND arlula:supplier IN ('21at', 'maxar')",
        "arlula:supplier = 'planet' AND eo:cloud_cover = 0.48",
    ],
)
async def test_filter_pushdown_loses_no_match(
    wired: tuple[ArlulaProvider, Starlette], cql2: str
) -> None:
    provider, _ = wired
    plain = build_query(bbox=HELSINKI)
    filtered = build_query(bbox=HELSINKI, filter=cql2)
    everything = await collect(provider, plain, 1000)
    narrowed = await collect(provider, filtered, 1000)
    matcher = Matcher(filtered)
    expected = [i["id"] for i in everything if matcher(i)]
    # 2020-12 results have no off-nadir, so a filter on it matches nothing there.
    assert expected or (provider.api_version == "2020-12" and "off_nadir" in cql2)
    assert [i["id"] for i in narrowed if matcher(i)] == expected
    if provider.api_version == "2023-01":  # cloud, off-nadir and supplier exist natively
        assert len(narrowed) < len(everything)


async def test_search_by_ids_looks_each_id_up(wired: tuple[ArlulaProvider, Starlette]) -> None:
    provider, app = wired
    known = (await collect(provider, build_query(bbox=HELSINKI, datetime=TWO_YEARS), 500))[:3]
    wanted = [i["id"] for i in known]
    before = native_requests(app)
    query = build_query(ids=[*wanted, "not-an-arlula-id"])
    items = await collect(provider, query, 2)
    matcher = Matcher(query)
    assert sorted(i["id"] for i in items if matcher(i)) == sorted(wanted)
    assert native_requests(app) - before == 3


async def test_get_item(wired: tuple[ArlulaProvider, Starlette]) -> None:
    provider, _ = wired
    item = (await collect(provider, build_query(bbox=HELSINKI, datetime=TWO_YEARS), 500))[-1]
    found = await provider.get_item(item["collection"], item["id"])
    assert found is not None
    assert found == item  # whole-scene offers: the same item however it is found
    validate(found)
    other = next(c for c in ALL if c != item["collection"])
    assert await provider.get_item(other, item["id"]) is None
    assert await provider.get_item("capella-slc", item["id"]) is None
    ref = parse_item_id(item["id"])
    assert ref is not None
    unknown = item_id(ref.supplier, ref.scene_id + "X", ref.day, ref.lon, ref.lat)
    assert await provider.get_item(item["collection"], unknown) is None
    assert await provider.get_item(item["collection"], "garbage") is None


# --- auth, errors, cursors -------------------------------------------------------------


def _provider(app: Starlette, version: str = "2023-01", **settings: Any) -> ArlulaProvider:
    fields: dict[str, Any] = {
        "base_url": "http://arlula.test",
        "api_version": version,
        "api_key": SecretStr(DEMO_KEY),
        "api_secret": SecretStr(DEMO_SECRET),
        **settings,
    }
    collections = load_catalog(COLLECTIONS, providers=["arlula"]).by_provider["arlula"]
    context = ProviderContext(
        "arlula",
        ProviderSettings(**fields),
        collections,
        transport=httpx.ASGITransport(app=app),
    )
    return ArlulaProvider(context)


async def test_every_request_carries_basic_auth_and_the_api_version() -> None:
    seen: list[httpx.Request] = []
    app = create_app(simulator_config())
    inner = httpx.ASGITransport(app=app)

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await inner.handle_async_request(request)

    collections = load_catalog(COLLECTIONS, providers=["arlula"]).by_provider["arlula"]
    settings = ProviderSettings(
        base_url="http://arlula.test",
        api_key=SecretStr(DEMO_KEY),
        api_secret=SecretStr(DEMO_SECRET),
    )
    provider = ArlulaProvider(ProviderContext("arlula", settings, collections, Recording()))
    page = await provider.search(build_query(bbox=HELSINKI), None, 5)
    assert page.items
    assert await provider.get_item(page.items[0]["collection"], page.items[0]["id"]) is not None
    await provider.aclose()
    expected = httpx.BasicAuth(DEMO_KEY, DEMO_SECRET)._auth_header
    assert len(seen) == 2
    for request in seen:
        assert request.headers["authorization"] == expected
        assert request.headers["x-api-version"] == "2023-01"


@pytest.mark.parametrize("version", VERSIONS)
async def test_wrong_credentials_are_an_auth_error_without_the_secret(version: str) -> None:
    provider = _provider(create_app(simulator_config()), version, api_secret=SecretStr("s3cr3t!"))
    with pytest.raises(ProviderAuthError) as info:
        await provider.search(build_query(bbox=HELSINKI), None, 5)
    assert "s3cr3t!" not in str(info.value) and "s3cr3t!" not in repr(info.value)
    assert "s3cr3t!" not in repr(provider) and DEMO_KEY not in repr(provider)
    await provider.aclose()


async def test_native_failures_become_bridge_errors() -> None:
    app = create_app(simulator_config())
    provider = _provider(app)
    app.state.faults.set(app.state.faults.settings.model_copy(update={"error_rate": 1.0}))
    with pytest.raises(ProviderError):
        await provider.search(build_query(bbox=HELSINKI), None, 5)
    app.state.faults.set(app.state.faults.settings.model_copy(update={
        "error_rate": 0.0, "malformed_rate": 1.0}))  # fmt: skip
    with pytest.raises(ProviderBadResponse):
        await provider.search(build_query(bbox=[0, 0, 1, 1]), None, 5)
    await provider.aclose()


async def test_forged_or_foreign_cursors_are_refused(
    wired: tuple[ArlulaProvider, Starlette],
) -> None:
    provider, _ = wired
    query = build_query(bbox=HELSINKI)
    order = {"method": "POST", "path": "/api/archive/order", "json": {"id": "x"}}
    other = "2020-12" if provider.api_version == "2023-01" else "2023-01"
    page = await provider.search(query, None, 2)
    assert page.next_cursor is not None
    for cursor in (
        "not a cursor",
        encode_cursor(
            "arlula", "local", {"api": provider.api_version, "req": [order], "o": 0, "n": 5}
        ),
        encode_cursor("arlula", "local", {"api": other, "req": [], "o": 0, "n": 5}),
        page.next_cursor[:-4],
        page.next_cursor.replace(".", "x", 1),
    ):
        with pytest.raises(BadRequest):
            await provider.search(query, cursor, 5)


def test_unknown_api_version_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="api_version"):
        _provider(create_app(simulator_config()), "2019-01")


async def test_supplier_errors_beside_results_are_a_partial_result() -> None:
    config = simulator_config(extra={"arlula_failing_suppliers": ["maxar", "siis"]})
    provider, _ = provider_for("arlula", api_version="2023-01", config=config)
    query = build_query(bbox=HELSINKI, datetime=TWO_YEARS)
    assert isinstance(provider, ArlulaProvider)
    items = await collect(provider, query, 100)
    suppliers = {i["properties"]["arlula:supplier"] for i in items}
    assert suppliers and not suppliers & {"maxar", "siis"}
    await provider.aclose()


async def test_supplier_errors_without_any_result_are_a_provider_error() -> None:
    config = simulator_config(extra={"arlula_failing_suppliers": ["maxar"]})
    provider, _ = provider_for("arlula", api_version="2023-01", config=config)
    only_maxar = build_query(
        bbox=HELSINKI, datetime=TWO_YEARS, filter={"op": "=", "args": [
            {"property": "arlula:supplier"}, "maxar"]}, filter_lang="cql2-json",
    )  # fmt: skip
    with pytest.raises(ProviderError, match="supplier maxar: search failed"):
        await provider.search(only_maxar, None, 10)
    await provider.aclose()


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_wholly_future_search_asks_nothing(version: str) -> None:
    # Arlula refuses a start after today (node SDK e2e search testError2): ask nothing.
    provider, app = provider_for("arlula", api_version=version)
    assert isinstance(provider, ArlulaProvider)
    future = build_query(bbox=HELSINKI, datetime="2999-01-01T00:00:00Z/..")
    assert (await provider.search(future, None, 10)).items == []
    assert native_requests(app) == 0
    await provider.aclose()


async def test_api_version_2024_07_is_sent_and_read_as_the_current_generation() -> None:
    # node SDK CHANGELOG 3.0.0: server version 2024-07 (orders as Order + Dataset).
    seen: list[str] = []
    inner = httpx.ASGITransport(app=create_app(simulator_config()))

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request.headers["x-api-version"])
            return await inner.handle_async_request(request)

    collections = load_catalog(COLLECTIONS, providers=["arlula"]).by_provider["arlula"]
    settings = ProviderSettings(
        base_url="http://arlula.test",
        api_version="2024-07",
        api_key=SecretStr(DEMO_KEY),
        api_secret=SecretStr(DEMO_SECRET),
    )
    provider = ArlulaProvider(ProviderContext("arlula", settings, collections, Recording()))
    assert provider.api_version == "2023-01"
    assert (await provider.search(build_query(bbox=HELSINKI), None, 5)).items
    assert seen == ["2024-07"]
    await provider.aclose()
