"""The Satellogic simulator: Aleph auth, the archive STAC API's semantics, its archive."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bridge.simulators.satellogic import create_app, sandbox_settings
from bridge.simulators.satellogic.archive import QUICKVIEW_THUMB, build_archive
from bridge.simulators.satellogic.auth import EXPLICIT_DENY, QUICKVIEW_CONTRACT_ID
from tests.support import wiring
from tests.support.wiring import TEST_SCENES, TEST_SEED

BASE = "http://satellogic.simulator"
SEARCH = "/archive/stac/search"
SETTINGS = sandbox_settings(BASE)
TOKEN_BODY = {
    "client_id": SETTINGS["client_id"],
    "client_secret": SETTINGS["client_secret"],
    "audience": "https://api.satellogic.com/",
    "grant_type": "client_credentials",
}
HELSINKI = [24.5, 59.9, 25.4, 60.5]
DENIED = {"error": "access_denied", "error_description": "Unauthorized"}


@pytest.fixture
def app() -> Starlette:
    return create_app(wiring.simulator_config())


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def _token(client: httpx.AsyncClient, **overrides: str) -> str:
    response = await client.post("/oauth/token", json={**TOKEN_BODY, **overrides})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
async def headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {
        "authorizationToken": f"Bearer {await _token(client)}",
        "X-Satellogic-Contract-Id": SETTINGS["contract_id"],
    }


async def _search(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> Any:
    response = await client.post(SEARCH, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- auth -----------------------------------------------------------------------------


async def test_token_endpoint_issues_a_day_long_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth/token", json=TOKEN_BODY)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "scope", "expires_in", "token_type"}
    assert body["expires_in"] == 86400 and body["token_type"] == "Bearer"
    assert "api:tasking" in body["scope"]


@pytest.mark.parametrize(
    ("overrides", "status", "body"),
    [
        ({"client_secret": "wrong"}, 401, DENIED),
        ({"client_id": "someone-else"}, 401, DENIED),
        (
            {"audience": "https://example.com/"},
            403,
            {
                "error": "access_denied",
                "error_description": "Service not enabled within domain: https://example.com/",
            },
        ),
        (
            {"grant_type": "password"},
            403,
            {
                "error": "unauthorized_client",
                "error_description": "Grant type 'password' not allowed for the client.",
            },
        ),
        (
            {"grant_type": ""},
            400,
            {
                "error": "invalid_request",
                "error_description": "Missing required parameter: grant_type",
            },
        ),
    ],
)  # fmt: skip
async def test_token_endpoint_errors_are_auth0_bodies(
    client: httpx.AsyncClient, overrides: dict[str, str], status: int, body: dict[str, str]
) -> None:
    response = await client.post("/oauth/token", json={**TOKEN_BODY, **overrides})
    assert response.status_code == status
    assert response.json() == body


async def test_api_needs_the_authorization_token_header(client: httpx.AsyncClient) -> None:
    token = await _token(client)
    contract = {"X-Satellogic-Contract-Id": SETTINGS["contract_id"]}
    cases = [
        {**contract},
        {**contract, "Authorization": f"Bearer {token}"},  # the accounts API's header, not this one
        {**contract, "authorizationToken": "Bearer not-a-token"},
        {"authorizationToken": f"Bearer {token}"},  # no contract id
    ]
    for headers in cases:
        response = await client.post(SEARCH, json={}, headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {"message": "Unauthorized"}


async def test_unknown_contract_or_audience_is_an_explicit_deny(client: httpx.AsyncClient) -> None:
    token = await _token(client)
    response = await client.get(
        "/archive/stac/",
        headers={"authorizationToken": f"Bearer {token}", "X-Satellogic-Contract-Id": "cont.nope"},
    )
    assert (response.status_code, response.json()) == (403, EXPLICIT_DENY)
    accounts = await _token(client, audience="api")
    response = await client.get(
        "/archive/stac/",
        headers={
            "authorizationToken": f"Bearer {accounts}",
            "X-Satellogic-Contract-Id": SETTINGS["contract_id"],
        },
    )
    assert (response.status_code, response.json()) == (403, EXPLICIT_DENY)


async def test_revoked_tokens_are_refused(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert (await client.get("/archive/stac/", headers=headers)).status_code == 200
    app.state.auth.revoke_all()
    assert (await client.get("/archive/stac/", headers=headers)).status_code == 401


# --- STAC API shape -------------------------------------------------------------------


async def test_landing_page_and_conformance(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = (await client.get("/archive/stac/", headers=headers)).json()
    assert "https://api.stacspec.org/v1.0.0/item-search" in body["conformsTo"]
    assert "https://api.stacspec.org/v1.0.0/item-search#query" in body["conformsTo"]
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in body["conformsTo"]
    rels = {(link["rel"], link.get("method")) for link in body["links"]}
    assert {("search", "GET"), ("search", "POST"), ("data", None), ("conformance", None)} <= rels
    conformance = (await client.get("/archive/stac/conformance", headers=headers)).json()
    assert conformance["conformsTo"] == body["conformsTo"]


async def test_collections_depend_on_the_contract(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = (await client.get("/archive/stac/collections", headers=headers)).json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["quickview-visual", "quickview-visual-thumb", "l1d", "l1d-sr"]
    one = (await client.get("/archive/stac/collections/l1d", headers=headers)).json()
    assert one["id"] == "l1d" and one["license"] == "proprietary"

    limited = {**headers, "X-Satellogic-Contract-Id": QUICKVIEW_CONTRACT_ID}
    body = (await client.get("/archive/stac/collections", headers=limited)).json()
    assert [c["id"] for c in body["collections"]] == ["quickview-visual", "quickview-visual-thumb"]
    response = await client.get("/archive/stac/collections/l1d", headers=limited)
    assert response.status_code == 404
    assert response.json() == {
        "code": "NotFoundError",
        "description": "Collection l1d does not exist.",
    }
    assert (await _search(client, limited, collections=["l1d"]))["numberMatched"] == 0


async def test_search_envelope_and_post_next_link(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = await _search(client, headers, bbox=HELSINKI, limit=5)
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == 5 and body["numberMatched"] > 5
    item = body["features"][0]
    assert item["stac_version"] == "1.0.0"
    assert set(item["assets"]) >= {"preview", "thumbnail"}
    assert item["assets"]["thumbnail"]["href"].startswith(f"{BASE}/archive/assets/")
    assert {link["rel"] for link in item["links"]} == {"self", "parent", "collection", "root"}
    (nxt,) = [link for link in body["links"] if link["rel"] == "next"]
    assert nxt["method"] == "POST" and nxt["merge"] is True
    assert nxt["body"] == {"token": f"next:{body['features'][-1]['id']}"}


async def test_post_paging_covers_the_result_once(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    query = {
        "bbox": HELSINKI,
        "sortby": [{"field": "properties.eo:cloud_cover", "direction": "asc"}],
    }
    whole = await _search(client, headers, **query, limit=1000)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body = await _search(
            client, headers, **query, limit=37, **({"token": token} if token else {})
        )
        seen += [f["id"] for f in body["features"]]
        pages += 1
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            break
        token = nxt[0]["body"]["token"]
    assert pages > 2
    assert seen == [f["id"] for f in whole["features"]]
    assert len(set(seen)) == whole["numberMatched"] == len(seen)
    clouds = [f["properties"]["eo:cloud_cover"] for f in whole["features"]]
    assert clouds == sorted(clouds)


async def test_get_next_link_keeps_every_parameter(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    params = {"bbox": ",".join(map(str, HELSINKI)), "limit": "4", "filter": "eo:cloud_cover < 50"}
    first = await client.get(SEARCH, params=params, headers=headers)
    (nxt,) = [link for link in first.json()["links"] if link["rel"] == "next"]
    url = httpx.URL(nxt["href"])
    assert {k: url.params[k] for k in params} == params
    second = (await client.get(url, headers=headers)).json()
    assert {f["id"] for f in second["features"]}.isdisjoint(
        f["id"] for f in first.json()["features"]
    )
    prev = [link for link in second["links"] if link["rel"] == "prev"]
    back = (await client.get(prev[0]["href"], headers=headers)).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first.json()["features"]]


async def test_default_order_is_datetime_then_id_descending(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = await _search(client, headers, bbox=HELSINKI, limit=200)
    keys = [(f["properties"]["datetime"], f["id"]) for f in body["features"]]
    assert keys == sorted(keys, reverse=True)


# --- search semantics -----------------------------------------------------------------


def _edge_tile() -> Any:
    """A quick-view tile whose footprint covers under half of its grid cell."""
    archive = build_archive(TEST_SEED, TEST_SCENES)
    return next(
        t for t in archive.tiles
        if t.collection == "quickview-visual" and t.item["properties"]["satl:valid_pixel"] < 40
        and t.item["bbox"][0] - t.cell[0] > 0.002
    )  # fmt: skip


async def test_spatial_search_matches_the_grid_cell_not_the_footprint(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tile = _edge_tile()
    west, south, east, north = tile.cell
    fw = tile.item["bbox"][0]
    # a box inside the cell, west of the tile's valid footprint
    outside_footprint = [west + 0.0002, south + 0.0002, (west + fw) / 2, north - 0.0002]
    body = await _search(
        client, headers, bbox=outside_footprint, collections=["quickview-visual"], limit=1000
    )
    assert tile.id in {f["id"] for f in body["features"]}
    w, s, e, n = outside_footprint
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    body = await _search(
        client, headers, intersects=polygon, collections=["quickview-visual"], limit=1000
    )
    assert tile.id in {f["id"] for f in body["features"]}
    beyond = [east + 0.01, south, east + 0.02, north]
    body = await _search(client, headers, bbox=beyond, ids=[tile.id])
    assert body["features"] == []


async def test_datetime_ids_and_collections_are_exact(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    start, end = "2022-03-01T00:00:00Z", "2022-06-30T23:59:59.999999Z"
    low, high = "2022-03-01T00:00:00.000000Z", "2022-06-30T23:59:59.999999Z"
    expected = {t.id for t in archive.tiles if t.collection == "l1d" and low <= t.datetime <= high}
    body = await _search(
        client, headers, datetime=f"{start}/{end}", collections=["l1d"], limit=1000
    )
    assert {f["id"] for f in body["features"]} == expected and body["numberMatched"] == len(
        expected
    )
    some = sorted(expected)[:3]
    body = await _search(client, headers, ids=some)
    assert sorted(f["id"] for f in body["features"]) == some
    body = await _search(client, headers, ids=some, collections=["l1d-sr"])
    assert body["features"] == []


async def test_query_extension(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    query = {"eo:cloud_cover": {"lt": 10}, "platform": {"in": ["newsat-12", "newsat-30"]}}
    body = await _search(client, headers, query=query, limit=1000)
    assert body["numberMatched"] > 0
    for f in body["features"]:
        assert f["properties"]["eo:cloud_cover"] < 10
        assert f["properties"]["platform"] in ("newsat-12", "newsat-30")
    response = await client.post(SEARCH, json={"query": {"gsd": {"near": 1}}}, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidQueryParameter"


async def test_cql2_filter_finds_every_tile_of_a_capture(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    outcome = archive.tiles[0].item["properties"]["satl:outcome_id"]
    expected = {t.id for t in archive.tiles if t.item["properties"]["satl:outcome_id"] == outcome}
    flt = {"op": "=", "args": [{"property": "satl:outcome_id"}, outcome]}
    body = await _search(client, headers, filter=flt, **{"filter-lang": "cql2-json"}, limit=1000)
    assert {f["id"] for f in body["features"]} == expected
    text = await client.get(
        SEARCH,
        params={"filter": f"\"satl:outcome_id\" = '{outcome}' AND gsd < 5", "limit": 1000},
        headers=headers,
    )
    assert {f["id"] for f in text.json()["features"]} == expected


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {"op": "+", "args": [1, 2]}},  # arithmetic: not supported
        {"filter": {"op": "=", "args": "oops"}},
        {"filter": {"op": "=", "args": [{"property": "gsd"}, 1]}, "filter-lang": "cql-json"},
        {"bbox": [1, 1, 2, 2], "intersects": {"type": "Point", "coordinates": [1, 1]}},
        {"bbox": [2, 1, 1, 2]},
        {"limit": 1001},
        {"datetime": "2022-01-01T00:00:00"},
        {"sortby": [{"field": "gsd", "direction": "up"}]},
        {"token": "next:no-such-item"},
    ],
)
async def test_bad_searches_are_400(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> None:
    response = await client.post(SEARCH, json=body, headers=headers)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "description"}


async def test_items_and_item_endpoints(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    tile = build_archive(TEST_SEED, TEST_SCENES).tiles[0]
    url = f"/archive/stac/collections/{tile.collection}/items"
    body = (await client.get(url, params={"limit": 3}, headers=headers)).json()
    assert {f["collection"] for f in body["features"]} == {tile.collection}
    one = await client.get(f"{url}/{tile.id}", headers=headers)
    assert one.status_code == 200 and one.json()["id"] == tile.id
    missing = await client.get(f"/archive/stac/collections/l1d/items/{tile.id}", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "NotFoundError",
        "description": f"Item {tile.id} in Collection l1d does not exist.",
    }


# --- simulator plumbing ---------------------------------------------------------------


async def test_stats_count_native_requests(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await client.delete("/_simulator/stats")
    await _search(client, headers, limit=1)
    await _search(client, headers, limit=1)
    stats = (await client.get("/_simulator/stats")).json()
    assert stats["simulator"] == "satellogic"
    assert stats["requests"]["POST /archive/stac/search"] == 2


async def test_runtime_fault(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    faults = {"error_rate": 1.0, "error_status": 503, "paths": ["/archive/"]}
    assert (await client.post("/_simulator/faults", json=faults)).status_code == 200
    assert (await client.post(SEARCH, json={}, headers=headers)).status_code == 503
    assert (await client.post("/oauth/token", json=TOKEN_BODY)).status_code == 200
    assert (await client.delete("/_simulator/faults")).status_code == 204
    assert (await client.post(SEARCH, json={}, headers=headers)).status_code == 200


# --- archive --------------------------------------------------------------------------


def test_archive_is_deterministic_and_large_enough() -> None:
    first = build_archive.__wrapped__(TEST_SEED, TEST_SCENES)
    again = build_archive.__wrapped__(TEST_SEED, TEST_SCENES)
    assert [t.item for t in first.tiles] == [t.item for t in again.tiles]
    assert first.product_tile_count() == TEST_SCENES >= 5000
    other = build_archive.__wrapped__(TEST_SEED + 1, TEST_SCENES)
    assert [t.id for t in other.tiles[:50]] != [t.id for t in first.tiles[:50]]
    assert build_archive(TEST_SEED, TEST_SCENES) is build_archive(TEST_SEED, TEST_SCENES)


def test_captures_are_strips_of_adjacent_tiles_sharing_capture_properties() -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    captures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in archive.tiles:
        if t.collection == "quickview-visual":
            captures[t.item["properties"]["satl:outcome_id"]].append(t.item["properties"])
    assert len(captures) > 100
    assert max(len(tiles) for tiles in captures.values()) >= 6
    for tiles in captures.values():
        for name in ("platform", "view:off_nadir", "view:sun_elevation", "proj:epsg"):
            assert len({p[name] for p in tiles}) == 1
        clouds = [p["eo:cloud_cover"] for p in tiles]
        assert max(clouds) - min(clouds) <= 60
        eastings = {int(p["grid:code"].split("_")[1]) for p in tiles}
        assert max(eastings) - min(eastings) <= 2 * (len(eastings) - 1)  # contiguous columns
    assert all(0 < t.item["properties"]["satl:valid_pixel"] <= 100 for t in archive.tiles)
    assert sum(t.collection == QUICKVIEW_THUMB for t in archive.tiles) == sum(
        t.collection == "quickview-visual" for t in archive.tiles
    )


@pytest.mark.parametrize("mode", ["full-body", "get"])
async def test_other_next_link_shapes_page_when_followed_as_given(mode: str) -> None:
    app = create_app(wiring.simulator_config(extra={"satellogic_next_link": mode}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        headers = {
            "authorizationToken": f"Bearer {await _token(c)}",
            "X-Satellogic-Contract-Id": SETTINGS["contract_id"],
        }
        query = {"bbox": HELSINKI, "limit": 7}
        whole = await _search(c, headers, bbox=HELSINKI, limit=1000)
        body = await _search(c, headers, **query)
        seen = [f["id"] for f in body["features"]]
        while nxt := [link for link in body["links"] if link["rel"] == "next"]:
            link = nxt[0]
            assert "token" not in (link.get("body") or {}) and "token=" not in link["href"]
            if link["method"] == "GET":
                response = await c.get(link["href"], headers=headers)
            else:
                assert link["merge"] is False
                response = await c.post(link["href"], json=link["body"], headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [f["id"] for f in body["features"]]
        assert seen == [f["id"] for f in whole["features"]]
