"""The Arlula simulator speaks Arlula's archive search as documented (seed 002, arlulacore 4.x)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from shapely.geometry import Point, box, shape

from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app, sandbox_settings
from bridge.simulators.arlula.archive import SUPPLIERS_BY_KEY, build_archive
from bridge.simulators.arlula.offers import decode_ordering_id
from tests.support.wiring import TEST_SCENES, TEST_SEED
from tests.support.wiring import simulator_config as simulator_config

AUTH = (DEMO_KEY, DEMO_SECRET)
HELSINKI = {"north": 60.4, "south": 60.0, "east": 25.5, "west": 24.5}
KEYS_2023 = {
    "sceneID", "supplier", "platform", "date", "thumbnail", "cloud", "offNadir", "gsd", "area",
    "fulfillmentTime", "annotations", "bands", "center", "bounding", "overlap", "orderingID",
    "bundles", "licenses",
}  # fmt: skip
KEYS_2020 = {
    "supplier", "eula", "id", "sceneID", "date", "center", "bounding", "area", "overlap",
    "price", "fulfillment", "resolution", "thumbnail", "cloud", "annotations",
}  # fmt: skip


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(simulator_config())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://arlula.test") as c:
        yield c


async def search(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    # Like the arlulacore SDK: a JSON body with no Content-Type header.
    return await client.post(
        "/api/archive/search",
        content=orjson.dumps(body),
        auth=AUTH,
        headers={"X-API-Version": "2023-01"},
    )


async def results(client: httpx.AsyncClient, **body: Any) -> list[dict[str, Any]]:
    if "start" not in body:  # the whole archive unless the test picks its own dates
        body.update(start="2019-01-01", end="2026-12-31")
    body.setdefault("gsd", 100)
    if not {"polygon", "boundingBox", "latLong"} & body.keys():
        body["boundingBox"] = HELSINKI
    response = await search(client, body)
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["state"] == "complete" and envelope["errors"] == []
    return list(envelope["results"])


# --- auth -----------------------------------------------------------------------------


async def test_credentials_check(client: httpx.AsyncClient) -> None:
    ok = await client.get("/api/test", auth=AUTH, headers={"X-API-Version": "2023-01"})
    assert ok.status_code == 200


@pytest.mark.parametrize("auth", [None, (DEMO_KEY, "wrong"), ("wrong", DEMO_SECRET)])
async def test_bad_credentials_get_401_text(
    client: httpx.AsyncClient, auth: tuple[str, str] | None
) -> None:
    # httpx.USE_CLIENT_DEFAULT would be the typed "no auth"; the client has none anyway.
    auth_arg: Any = auth
    for response in (
        await client.get("/api/test", auth=auth_arg),
        await client.post("/api/archive/search", content=b"{}", auth=auth_arg),
        await client.get("/api/search", params={"start": "2020-01-01"}, auth=auth_arg),
    ):
        assert response.status_code == 401
        assert response.text == "Unauthorized"
        assert response.headers["www-authenticate"] == 'Basic realm="Arlula API"'


async def test_malformed_authorization_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/test", headers={"Authorization": "Basic !!notbase64"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "version", ["2020-12", "2021-09", "2022-07", "2022-09", "2023-01", "2024-07", None]
)
async def test_every_documented_api_version_is_served(
    client: httpx.AsyncClient, version: str | None
) -> None:
    # node SDK CHANGELOG.md names each server version; node SDK 3 sends no header at all.
    headers = {"X-API-Version": version} if version else {}
    assert (await client.get("/api/test", auth=AUTH, headers=headers)).status_code == 200
    body = {"start": "2019-01-01", "end": "2026-12-31", "gsd": 100, "boundingBox": HELSINKI}
    found = await client.post("/api/archive/search", json=body, auth=AUTH, headers=headers)
    assert found.status_code == 200 and found.json()["results"]


async def test_unknown_api_version_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/test", auth=AUTH, headers={"X-API-Version": "1999-01"})
    assert response.status_code == 400
    assert "1999-01" in response.text


def test_sandbox_settings_are_the_demo_credentials() -> None:
    assert sandbox_settings("http://127.0.0.1:9") == {
        "api_key": DEMO_KEY,
        "api_secret": DEMO_SECRET,
    }


# --- 2023-01 search -------------------------------------------------------------------


async def test_search_envelope_and_result_shape(client: httpx.AsyncClient) -> None:
    found = await results(client)
    assert found
    for r in found:
        assert set(r) == KEYS_2023
        assert isinstance(r["bundles"][0]["price"], int)  # US cents
        assert {"name", "href", "loadingPercent", "loadingAmount"} == set(r["licenses"][0])
        assert {"name", "id", "min", "max"} == set(r["bands"][0])
        assert set(r["overlap"]) == {"area", "percent", "polygon"}
        assert r["date"].endswith("Z")
        assert r["thumbnail"].startswith("http://arlula.test/thumbnails/")
        decoded = decode_ordering_id(r["orderingID"])
        assert decoded is not None and decoded["s"] == r["sceneID"]
        assert decoded["a"] == r["overlap"]["polygon"]


async def test_whole_result_comes_at_once(client: httpx.AsyncClient) -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    world = {"north": 90, "south": -90, "east": 180, "west": -180}
    found = await results(client, start="2021-01-01", end="2021-06-30", boundingBox=world)
    t0 = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
    t1 = datetime(2021, 7, 1, tzinfo=UTC).timestamp()
    expected = {s["sceneID"] for s in archive.scenes if t0 <= s["epoch"] < t1}
    assert len(found) == len(expected) > 300
    assert {r["sceneID"] for r in found} == expected


async def test_dates_are_whole_days(client: httpx.AsyncClient) -> None:
    scene = (await results(client))[0]
    day = scene["date"][:10]
    same_day = await results(client, start=day)  # start alone: that one day
    assert scene["sceneID"] in {r["sceneID"] for r in same_day}
    assert all(r["date"][:10] == day for r in same_day)
    before = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    assert scene["sceneID"] not in {r["sceneID"] for r in await results(client, start=before)}
    ranged = await results(client, start=before, end=day)  # end is inclusive
    assert scene["sceneID"] in {r["sceneID"] for r in ranged}


async def test_gsd_cloud_off_nadir_are_maxima(client: httpx.AsyncClient) -> None:
    everything = await results(client)
    filtered = await results(client, gsd=1.0, cloud=20, offNadir=15)
    expected = {
        r["sceneID"]
        for r in everything
        if r["gsd"] <= 1.0 and r["cloud"] <= 20 and r["offNadir"] <= 15
    }
    assert {r["sceneID"] for r in filtered} == expected
    assert 0 < len(filtered) < len(everything)


async def test_supplier_filter_is_space_separated_and_case_insensitive(
    client: httpx.AsyncClient,
) -> None:
    found = await results(client, supplier="SIIS 21at")
    assert found and {r["supplier"] for r in found} == {"siis", "21at"}


async def test_box_search_returns_exactly_the_intersecting_footprints(
    client: httpx.AsyncClient,
) -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    aoi = box(HELSINKI["west"], HELSINKI["south"], HELSINKI["east"], HELSINKI["north"])
    expected = {s["sceneID"] for s in archive.scenes if shape_of(s).intersects(aoi)}
    assert {r["sceneID"] for r in await results(client)} == expected


async def test_point_search_returns_scenes_covering_the_point(client: httpx.AsyncClient) -> None:
    found = await results(client, latLong={"latitude": 60.17, "longitude": 24.94})
    assert found
    for r in found:
        assert shape({"type": "Polygon", "coordinates": r["bounding"]}).intersects(
            Point(24.94, 60.17)
        )
        assert r["overlap"]["percent"]["search"] == -1
        supplier = SUPPLIERS_BY_KEY[r["supplier"]]
        code = "PONT" if supplier.aoi else "NAOI"
        assert [a[:4] for a in r["annotations"]] == [code]


async def test_polygon_search_is_exact(client: httpx.AsyncClient) -> None:
    # A thin diagonal sliver across the Helsinki box: fewer scenes than its bounding box.
    ring = [[24.5, 60.0], [24.52, 60.0], [25.5, 60.4], [25.48, 60.4], [24.5, 60.0]]
    by_polygon = await results(client, polygon=[ring])
    by_box = await results(client)
    sliver = shape({"type": "Polygon", "coordinates": [ring]})
    assert 0 < len(by_polygon) < len(by_box)
    for r in by_polygon:
        assert shape({"type": "Polygon", "coordinates": r["bounding"]}).intersects(sliver)
    wkt = await results(client, polygon=sliver.wkt)
    assert [r["sceneID"] for r in wkt] == [r["sceneID"] for r in by_polygon]


async def test_annotations_follow_the_minimum_order(client: httpx.AsyncClient) -> None:
    world = {"north": 90, "south": -90, "east": 180, "west": -180}
    covering = await results(client, start="2022-01-01", end="2022-03-31", boundingBox=world)
    for r in covering:
        paid_aoi = SUPPLIERS_BY_KEY[r["supplier"]].aoi
        assert r["annotations"][0][:4] == ("COVR" if paid_aoi else "NAOI")
        assert r["overlap"]["percent"]["scene"] == 100.0
    tiny = {"north": 60.171, "south": 60.17, "east": 24.941, "west": 24.94}
    small = await results(client, boundingBox=tiny, supplier="siis maxar 21at")
    assert small
    for r in small:
        assert r["annotations"][0].startswith("ENLR: ")
        assert r["overlap"]["percent"]["search"] > 100  # enlarged beyond the search
        supplier = SUPPLIERS_BY_KEY[r["supplier"]]
        assert r["bundles"][0]["price"] >= supplier.moq_km2 * supplier.cents_per_km2


async def test_native_sort(client: httpx.AsyncClient) -> None:
    found = await results(client, sort={"field": "cloud", "ascending": True})
    clouds = [r["cloud"] for r in found]
    assert clouds == sorted(clouds)
    newest_first = await results(client)  # no sort: newest first (assumed default)
    dates = [r["date"] for r in newest_first]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    ("body", "first_error"),
    [
        ({"start": "2020-07-13", "end": "2018-07-13"}, "End date must be after start date"),
        ({"start": "3000-02-01"}, "Start date must be in the past"),
        ({"start": "2018-06-15", "latLong": {"latitude": 151.2, "longitude": -33.8}},
         "Invalid latitude"),
    ],
)  # fmt: skip
async def test_search_refusals_read_as_arlula_writes_them(
    client: httpx.AsyncClient, body: dict[str, Any], first_error: str
) -> None:
    # node SDK e2e/archive/search-tests.ts testError1-3 check the start of errors[0].
    body = {"gsd": 5, "latLong": {"latitude": -33.85, "longitude": 151.21}, **body}
    response = await search(client, body)
    assert response.status_code == 400 and response.json()["errors"][0].startswith(first_error)


async def test_node_sdk_search_body_is_understood(client: httpx.AsyncClient) -> None:
    # node SDK 3 search-request.ts sends startDate/endDate as JSON Dates and no API version.
    body = {
        "startDate": "2019-01-01T00:00:00.000Z",
        "endDate": "2026-12-31T00:00:00.000Z",
        "gsd": 100,
        "boundingBox": HELSINKI,
        "sort": {"field": "gsd", "ascending": True},
    }
    response = await client.post("/api/archive/search", json=body, auth=AUTH)
    assert response.status_code == 200, response.text
    gsds = [r["gsd"] for r in response.json()["results"]]
    assert gsds and gsds == sorted(gsds)
    assert response.json()["results"] == await results(client, sort=body["sort"])


async def test_unknown_sort_field_is_ignored(client: httpx.AsyncClient) -> None:
    unsorted = await results(client)
    assert await results(client, sort={"field": "price", "ascending": True}) == unsorted
    assert await results(client, sort={"ascending": True}) == unsorted


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"gsd": 5, "latLong": {"latitude": 1, "longitude": 2}}, ["start is required"]),
        (
            {"start": "2020-01-01", "gsd": 5},
            ["one of polygon, boundingBox or latLong is required"],
        ),
        (
            {"start": "2020-01-01", "latLong": {"latitude": 1, "longitude": 2}},
            ["gsd is required"],
        ),
        (
            {"start": "01/01/2020", "gsd": 5, "latLong": {"latitude": 1, "longitude": 2}},
            ["start must be a date in YYYY-MM-DD format"],
        ),
        (
            {"start": "2020-01-01", "gsd": 5, "cloud": 150, "latLong": {"latitude": 1,
             "longitude": 2}},
            ["Invalid cloud: must be a number between 0 and 100"],
        ),
        (
            {"start": "2020-01-01", "gsd": 5, "latLong": {"latitude": 1, "longitude": 2},
             "sort": "cloud"},
            ["sort must be an object {field, ascending}"],
        ),
    ],
)  # fmt: skip
async def test_validation_errors(
    client: httpx.AsyncClient, body: dict[str, Any], errors: list[str]
) -> None:
    response = await search(client, body)
    assert response.status_code == 400
    assert response.json() == {"state": "error", "errors": errors, "warnings": [], "results": []}


async def test_unparseable_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/archive/search", content=b"{nope", auth=AUTH)
    assert response.status_code == 400
    assert response.json()["state"] == "error"


# --- 2020-12 search (seed 002) --------------------------------------------------------


async def search_2020(client: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await client.get("/api/search", params=params, auth=AUTH)


async def test_2020_point_search_shape(client: httpx.AsyncClient) -> None:
    response = await search_2020(
        client, start="2019-01-03", end="2026-04-13", res="high", lat=60.17, long=24.94
    )
    assert response.status_code == 200
    found = response.json()
    assert isinstance(found, list) and found
    for r in found:
        assert set(r) == KEYS_2020
        assert r["resolution"] <= 1.0
        price = r["price"]
        assert set(price) == {"base", "seats"} and isinstance(price["base"], int)
        for seat in price["seats"]:
            assert set(seat) == {"min", "max", "additional"}
        assert r["overlap"]["percent"]["search"] == -1


@pytest.mark.parametrize(("label", "limit"), [("very high", 0.5), ("vhigh", 0.5), ("med", 5.0)])
async def test_2020_resolution_labels(client: httpx.AsyncClient, label: str, limit: float) -> None:
    response = await search_2020(
        client, start="2019-01-01", end="2026-12-31", res=label, **HELSINKI
    )
    found = response.json()
    assert found and all(r["resolution"] <= limit for r in found)


async def test_2020_point_takes_priority_over_box(client: httpx.AsyncClient) -> None:
    common = {"start": "2019-01-01", "end": "2026-12-31", "res": "vlow"}
    both = await search_2020(client, **common, lat=60.17, long=24.94, **HELSINKI)
    point = await search_2020(client, **common, lat=60.17, long=24.94)
    assert both.json() == point.json()


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"start": "2020-01-01", "res": "low"},
         "a point of interest (lat, long) or a bounding box is required"),
        ({"start": "2020-01-01", "res": "low", "north": 1, "south": 0, "east": 1},
         "all 4 of north, south, east and west are required for a bounding box"),
        ({"start": "2020-01-01", "lat": 1, "long": 2}, "res is required"),
    ],
)  # fmt: skip
async def test_2020_validation_errors(
    client: httpx.AsyncClient, params: dict[str, Any], text: str
) -> None:
    response = await search_2020(client, **params)
    assert response.status_code == 400
    assert response.text == text


# --- simulator plumbing ---------------------------------------------------------------


async def test_stats_count_native_requests(client: httpx.AsyncClient) -> None:
    await client.delete("/_simulator/stats")
    await results(client)
    await client.get("/api/test", auth=AUTH)
    stats = (await client.get("/_simulator/stats")).json()
    assert stats["simulator"] == "arlula"
    assert stats["requests"] == {"POST /api/archive/search": 1, "GET /api/test": 1}


async def test_runtime_fault(client: httpx.AsyncClient) -> None:
    set_fault = await client.post(
        "/_simulator/faults", json={"error_rate": 1.0, "error_status": 502}
    )
    assert set_fault.status_code == 200
    response = await search(client, {"start": "2020-01-01", "gsd": 5, "boundingBox": HELSINKI})
    assert response.status_code == 502
    assert (await client.delete("/_simulator/faults")).status_code == 204
    assert len(await results(client)) > 0


def shape_of(scene: dict[str, Any]) -> Any:
    return shape({"type": "Polygon", "coordinates": scene["bounding"]})


def test_archive_is_deterministic_and_large() -> None:
    a = build_archive.__wrapped__(TEST_SEED, TEST_SCENES)
    b = build_archive.__wrapped__(TEST_SEED, TEST_SCENES)
    assert a.scenes == b.scenes and len(a.scenes) == TEST_SCENES >= 5000
    other = build_archive.__wrapped__(TEST_SEED + 1, TEST_SCENES)
    assert other.scenes != a.scenes
    assert build_archive(TEST_SEED, TEST_SCENES) is build_archive(TEST_SEED, TEST_SCENES)
    assert len({s["sceneID"] for s in a.scenes}) == len(a.scenes)


def test_archive_distributions() -> None:
    scenes = build_archive(TEST_SEED, TEST_SCENES).scenes
    assert {s["supplier"] for s in scenes} == set(SUPPLIERS_BY_KEY)
    assert min(s["gsd"] for s in scenes) == 0.31 and max(s["gsd"] for s in scenes) == 10.0
    assert all(0 <= s["cloud"] <= 100 and 0 <= s["offNadir"] <= 30 for s in scenes)
    assert sum(s["cloud"] < 30 for s in scenes) > len(scenes) / 2  # archives skew clear
    years = {s["date"][:4] for s in scenes}
    assert {"2019", "2026"} <= years
    near_sydney = [s for s in scenes if abs(s["center"]["lat"] + 33.87) < 1]
    assert len(near_sydney) > 100  # a dense cluster
