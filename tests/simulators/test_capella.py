"""The Capella simulator speaks Capella's native catalog API over a deterministic archive."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from shapely.geometry import Point, box

from bridge.core.timeutil import parse_instant, to_rfc3339
from bridge.simulators.capella import DEMO_API_KEY, create_app, sandbox_settings
from bridge.simulators.capella.archive import Archive, build_archive
from tests.support.wiring import TEST_SCENES, TEST_SEED
from tests.support.wiring import simulator_config as sim_config

BASE = "http://capella.simulator"
AUTH = {"Authorization": f"ApiKey {DEMO_API_KEY}"}
ID_PATTERN = re.compile(
    r"^CAPELLA_C\d{2}_(SP|SM|SS)_(SLC|GEO|GEC|SICD|SIDD|CPHD)_(HH|VV)_\d{14}_\d{14}$"
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(sim_config())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


@pytest.fixture
def archive() -> Archive:
    return build_archive(TEST_SEED, TEST_SCENES)


async def search(
    client: httpx.AsyncClient, body: dict[str, Any], url: str = "/catalog/search"
) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


def ids_of(page: dict[str, Any]) -> list[str]:
    return [f["id"] for f in page["features"]]


# --- auth -------------------------------------------------------------------------------


async def test_user_endpoint_with_api_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/user", headers=AUTH)
    assert response.status_code == 200
    user = response.json()
    assert {"id", "organizationId", "email"} <= set(user)


GATEWAY_401 = {"message": "Unauthorized"}  # capella SDK tests/test_authenticate.py


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, GATEWAY_401),
        ({"Authorization": "ApiKey wrong"}, GATEWAY_401),
        ({"Authorization": DEMO_API_KEY}, GATEWAY_401),
        (
            {"Authorization": "Bearer eyJhbGciOi.x.y"},
            {"error": {"message": "Invalid token.", "code": "INVALID_TOKEN"}},
        ),
    ],
)
async def test_refused_credentials_get_capella_error_body(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> None:
    for response in (
        await client.get("/user", headers=headers),
        await client.post("/catalog/search", json={}, headers=headers),
    ):
        assert response.status_code == 401
        assert response.json() == body


def test_sandbox_settings_hold_the_demo_key() -> None:
    assert sandbox_settings(BASE) == {"api_key": DEMO_API_KEY}


async def test_extra_api_keys_from_config() -> None:
    app = create_app(sim_config(extra={"capella_api_keys": ["tenant-b-key"]}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        ok = await c.get("/user", headers={"Authorization": "ApiKey tenant-b-key"})
        assert ok.status_code == 200


def test_unknown_capella_setting_fails_loudly() -> None:
    with pytest.raises(ValueError, match="capella_api_key"):
        create_app(sim_config(extra={"capella_api_key": "typo"}))


# --- envelope and paging ------------------------------------------------------------------


async def test_search_envelope(client: httpx.AsyncClient) -> None:
    page = await search(client, {"bbox": [24.0, 59.8, 26.0, 60.6], "limit": 4})
    assert page["type"] == "FeatureCollection"
    assert page["numberReturned"] == len(page["features"]) == 4
    assert page["numberMatched"] > 4
    assert page["links"] == [
        {
            "rel": "next",
            "href": f"{BASE}/catalog/search?page=2",
            "method": "POST",
            "type": "application/geo+json",
        }
    ]
    feature = page["features"][0]
    assert ID_PATTERN.match(feature["id"])
    assert feature["collection"] == f"capella-{feature['properties']['sar:product_type'].lower()}"
    assert set(feature) >= {"type", "id", "collection", "geometry", "bbox", "properties", "assets"}
    props = feature["properties"]
    for key in (
        "sar:instrument_mode",
        "view:incidence_angle",
        "view:look_angle",
        "sat:orbit_state",
    ):
        assert key in props
    pol = props["sar:polarizations"][0]
    assert {pol, "metadata", "thumbnail"} <= set(feature["assets"])
    assert feature["assets"][pol]["href"].startswith(f"{BASE}/capella-archive/")


async def test_paging_like_the_sdk_reposts_body_to_next_href(client: httpx.AsyncClient) -> None:
    body = {"bbox": [24.0, 59.8, 26.0, 60.6], "limit": 25}
    page = await search(client, body)
    seen = ids_of(page)
    while page["links"]:
        href = next(link["href"] for link in page["links"] if link["rel"] == "next")
        page_no = int(href.rsplit("=", 1)[1])
        page = await search(client, {**body, "page": page_no}, url=href)
        seen += ids_of(page)
    assert len(seen) == len(set(seen)) == page["numberMatched"]
    one = await search(client, {**body, "limit": 900})
    assert ids_of(one) == seen


async def test_page_in_query_string_or_body(client: httpx.AsyncClient) -> None:
    body = {"limit": 5}
    in_url = await search(client, body, url="/catalog/search?page=3")
    in_body = await search(client, {**body, "page": 3})
    assert ids_of(in_url) == ids_of(in_body)
    assert ids_of(in_url) != ids_of(await search(client, body))


async def test_double_slash_path_is_served(client: httpx.AsyncClient) -> None:
    page = await search(client, {"limit": 2}, url=f"{BASE}//catalog/search")
    assert page["numberReturned"] == 2


async def test_limit_is_clamped_to_900(client: httpx.AsyncClient) -> None:
    page = await search(client, {"limit": 5000})
    assert page["numberReturned"] == 900
    assert page["numberMatched"] == TEST_SCENES


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"page": 0},
        {"bbox": [1, 2, 3]},
        {"datetime": "yesterday"},
        {"query": {"eo:cloud_cover": {"lt": 10}}},
        {"query": {"view:incidence_angle": {"neq": 30}}},
        {"sortby": [{"field": "properties.eo:cloud_cover", "direction": "asc"}]},
        {"intersects": {"type": "Polygon", "coordinates": "nope"}},
        {"ownership": "everything"},
    ],
)
async def test_invalid_search_bodies_are_400(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/catalog/search", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


# --- native semantics ---------------------------------------------------------------------


def rotated_item(archive: Archive) -> dict[str, Any]:
    """An item whose footprint is visibly rotated (its bbox corner lies outside it)."""
    for item in archive.items:
        ring = item["geometry"]["coordinates"][0]
        if len({round(x, 3) for x, _ in ring[:4]}) == 4:
            return item
    raise AssertionError("no rotated footprint")


async def test_bbox_is_evaluated_on_the_footprint(
    client: httpx.AsyncClient, archive: Archive
) -> None:
    item = rotated_item(archive)
    west, south, _, _ = item["bbox"]
    corner = [west, south, west + 0.002, south + 0.002]
    footprint = archive.polygon(archive.by_id[item["id"]])
    assert not footprint.intersects(box(*corner)), "the corner box misses the footprint"
    assert item["id"] not in ids_of(await search(client, {"bbox": corner, "limit": 900}))
    centre = footprint.centroid
    near = [centre.x - 0.001, centre.y - 0.001, centre.x + 0.001, centre.y + 0.001]
    assert item["id"] in ids_of(await search(client, {"bbox": near, "limit": 900}))


async def test_intersects_is_exact(client: httpx.AsyncClient, archive: Archive) -> None:
    item = rotated_item(archive)
    footprint = archive.polygon(archive.by_id[item["id"]])
    inside = footprint.centroid
    point = {"type": "Point", "coordinates": [inside.x, inside.y]}
    page = await search(client, {"intersects": point, "limit": 900})
    assert item["id"] in ids_of(page)
    for feature in page["features"]:
        idx = archive.by_id[feature["id"]]
        assert archive.polygon(idx).intersects(Point(inside.x, inside.y))


async def test_datetime_is_matched_on_the_centre_time_only(
    client: httpx.AsyncClient, archive: Archive
) -> None:
    item = archive.items[0]
    props = item["properties"]
    # The collect's first half second: inside its span, but before its centre time.
    start = parse_instant(props["start_datetime"])
    early = f"{to_rfc3339(start)}/{to_rfc3339(start + timedelta(seconds=0.5))}"
    page = await search(client, {"ids": [item["id"]], "datetime": early})
    assert page["numberMatched"] == 0
    page = await search(client, {"ids": [item["id"]], "datetime": props["datetime"]})
    assert ids_of(page) == [item["id"]]
    open_end = await search(client, {"datetime": f"{props['datetime']}/..", "limit": 1})
    assert open_end["numberMatched"] > 0


async def test_query_operators(client: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {
        "limit": 900,
        "query": {
            "view:incidence_angle": {"gte": 30, "lt": 40},
            "sar:instrument_mode": {"in": ["spotlight", "sliding_spotlight"]},
            "sar:polarizations": {"eq": "VV"},
            "sar:product_type": {"eq": "GEO"},
        },
    }
    page = await search(client, body)
    assert page["features"]
    for feature in page["features"]:
        p = feature["properties"]
        assert 30 <= p["view:incidence_angle"] < 40
        assert p["sar:instrument_mode"] in ("spotlight", "sliding_spotlight")
        assert p["sar:polarizations"] == ["VV"]
        assert feature["collection"] == "capella-geo"


async def test_ids_and_collections(client: httpx.AsyncClient, archive: Archive) -> None:
    slc = next(i for i in archive.items if i["collection"] == "capella-slc")
    geo = next(i for i in archive.items if i["collection"] == "capella-geo")
    body = {"ids": [slc["id"], geo["id"], "CAPELLA_C99_SP_GEO_HH_0_0"]}
    assert sorted(ids_of(await search(client, body))) == sorted([slc["id"], geo["id"]])
    only_geo = await search(client, {**body, "collections": ["capella-geo"]})
    assert ids_of(only_geo) == [geo["id"]]


async def test_sortby_with_id_tiebreak_and_missing_last(client: httpx.AsyncClient) -> None:
    body = {
        "bbox": [24.0, 59.8, 26.0, 60.6],
        "limit": 900,
        "sortby": [
            {"field": "properties.proj:epsg", "direction": "desc"},
            {"field": "id", "direction": "asc"},
        ],
    }
    features = (await search(client, body))["features"]
    with_epsg = [f for f in features if "proj:epsg" in f["properties"]]
    assert with_epsg and len(with_epsg) < len(features)
    assert features[: len(with_epsg)] == with_epsg, "items without proj:epsg sort last"
    keys = [(-f["properties"]["proj:epsg"], f["id"]) for f in with_epsg]
    assert keys == sorted(keys)
    missing = [f["id"] for f in features[len(with_epsg) :]]
    assert missing == sorted(missing)


async def test_ownership_without_orders(client: httpx.AsyncClient) -> None:
    owned = await search(client, {"ownership": "ownedByOrganization"})
    assert owned["numberMatched"] == 0
    buyable = await search(client, {"ownership": "availableForPurchase"})
    assert buyable["numberMatched"] == TEST_SCENES


# --- stats and faults ---------------------------------------------------------------------


async def test_stats_count_native_requests(client: httpx.AsyncClient) -> None:
    await client.delete("/_simulator/stats")
    await search(client, {"limit": 1})
    await search(client, {"limit": 1}, url=f"{BASE}//catalog/search")
    await client.get("/user", headers=AUTH)
    stats = (await client.get("/_simulator/stats")).json()
    assert stats["simulator"] == "capella"
    assert stats["requests"]["POST /catalog/search"] == 2
    assert stats["requests"]["GET /user"] == 1


async def test_runtime_fault_injection(client: httpx.AsyncClient) -> None:
    fault = {"error_rate": 1.0, "error_status": 503, "paths": ["/catalog"]}
    assert (await client.post("/_simulator/faults", json=fault)).status_code == 200
    failed = await client.post("/catalog/search", json={}, headers=AUTH)
    assert failed.status_code == 503
    assert (await client.get("/user", headers=AUTH)).status_code == 200
    assert (await client.delete("/_simulator/faults")).status_code == 204
    assert (await client.post("/catalog/search", json={}, headers=AUTH)).status_code == 200


# --- archive ------------------------------------------------------------------------------


def test_archive_is_deterministic_and_large(archive: Archive) -> None:
    again = build_archive.__wrapped__(TEST_SEED, TEST_SCENES)
    assert again.items == archive.items
    assert len(archive.items) == TEST_SCENES >= 5000
    assert len(archive.by_id) == len(archive.items)
    other = build_archive.__wrapped__(TEST_SEED + 1, TEST_SCENES)
    assert other.items[0]["id"] != archive.items[0]["id"]
    assert build_archive(TEST_SEED, TEST_SCENES) is archive


def test_archive_distributions(archive: Archive) -> None:
    assert all(ID_PATTERN.match(i["id"]) for i in archive.items)
    props = [i["properties"] for i in archive.items]
    modes = Counter(p["sar:instrument_mode"] for p in props)
    assert set(modes) == {"spotlight", "sliding_spotlight", "stripmap"}
    assert all(15 <= p["view:incidence_angle"] <= 55 for p in props)
    assert all(p["view:look_angle"] < p["view:incidence_angle"] for p in props)
    assert {tuple(p["sar:polarizations"]) for p in props} == {("HH",), ("VV",)}
    assert {p["sar:frequency_band"] for p in props} == {"X"}
    years = Counter(p["datetime"][:4] for p in props)
    assert set(years) == {str(y) for y in range(2019, 2027)}
    # Products of one collect share the collect id, footprint and times.
    by_collect: dict[str, list[dict[str, Any]]] = {}
    for item in archive.items:
        by_collect.setdefault(item["properties"]["capella:collect_id"], []).append(item)
    assert len(by_collect) < len(archive.items) / 4
    for items in list(by_collect.values())[:50]:
        assert len({i["properties"]["datetime"] for i in items}) == 1
        assert len({str(i["geometry"]) for i in items}) == 1
        assert len({i["collection"] for i in items}) == len(items)
    # Footprint sizes follow the mode: spotlight ~5x5 km, stripmap ~5x20 km.
    spot = next(i for i in archive.items if i["id"].split("_")[2] == "SP")
    strip = next(i for i in archive.items if i["id"].split("_")[2] == "SM")
    assert archive.polygon(archive.by_id[strip["id"]]).area > 3 * (
        archive.polygon(archive.by_id[spot["id"]]).area
    )
