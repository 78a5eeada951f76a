"""STAC endpoints through the real app factory: links, paging, validation, CORS."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bridge.app import create_app
from bridge.settings import CorsSettings, Settings
from tests.api.conftest import fake_catalog
from tests.support.fake_provider import fake_providers
from tests.support.wiring import fixed_wiring

ROOT = "http://bridge.test/"


async def test_landing_page_links_and_conformance(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/")).json()
    rels = {(link["rel"], link.get("method")) for link in doc["links"]}
    for rel in ["self", "root", "conformance", "service-desc", "service-doc", "data"]:
        assert any(r == rel for r, _ in rels), rel
    assert ("search", "GET") in rels and ("search", "POST") in rels
    search = [link for link in doc["links"] if link["rel"] == "search"]
    assert all(link["type"] == "application/geo+json" for link in search)
    conforms = set(doc["conformsTo"])
    for cls in [
        "https://api.stacspec.org/v1.0.0/core",
        "https://api.stacspec.org/v1.0.0/collections",
        "https://api.stacspec.org/v1.0.0/ogcapi-features",
        "https://api.stacspec.org/v1.0.0/item-search",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    ]:
        assert cls in conforms
    assert len([link for link in doc["links"] if link["rel"] == "child"]) == 6
    assert (await client.get("/conformance")).json()["conformsTo"]


async def test_collections_and_items_endpoints(client: httpx.AsyncClient) -> None:
    colls = (await client.get("/collections")).json()["collections"]
    assert [c["id"] for c in colls] == sorted(c["id"] for c in colls)
    first = colls[0]
    assert {link["rel"] for link in first["links"]} >= {"self", "items", "root", "license"}
    assert (await client.get("/collections/nope")).status_code == 404
    page = (await client.get(f"/collections/{first['id']}/items", params={"limit": 5})).json()
    assert len(page["features"]) == 5
    assert {f["collection"] for f in page["features"]} == {first["id"]}
    item = page["features"][0]
    one = await client.get(f"/collections/{first['id']}/items/{item['id']}")
    assert one.status_code == 200 and one.json()["id"] == item["id"]
    assert one.headers["content-type"].startswith("application/geo+json")
    rels = {link["rel"] for link in one.json()["links"]}
    assert rels == {"self", "parent", "collection", "root", "order"}
    missing = await client.get(f"/collections/{first['id']}/items/nope")
    assert missing.status_code == 404
    assert (await client.get("/collections/nope/items")).status_code == 404


async def collect_get(client: httpx.AsyncClient, params: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    resp = await client.get("/search", params=params)
    for _ in range(500):
        assert resp.status_code == 200, resp.text
        body = resp.json()
        ids += [f["id"] for f in body["features"]]
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return ids
        assert nxt[0]["method"] == "GET"
        resp = await client.get(nxt[0]["href"])
    raise AssertionError("no end")


async def collect_post(client: httpx.AsyncClient, body: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    resp = await client.post("/search", json=body)
    for _ in range(500):
        assert resp.status_code == 200, resp.text
        page = resp.json()
        ids += [f["id"] for f in page["features"]]
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return ids
        link = nxt[0]
        assert link["method"] == "POST" and link["merge"] is False
        resp = await client.post(link["href"], json=link["body"])
    raise AssertionError("no end")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"bbox": "1,41,7,48"},
        {"datetime": "2021-01-01T00:00:00Z/2022-01-01T00:00:00Z", "collections": "alpha-a,beta-b"},
    ],
)
async def test_get_and_post_paging_equal_one_big_page(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    big = await collect_get(client, {**params, "limit": 1000})
    assert big
    small_get = await collect_get(client, {**params, "limit": 7})
    body: dict[str, Any] = {"limit": 7}
    if "bbox" in params:
        body["bbox"] = [float(v) for v in params["bbox"].split(",")]
    if "datetime" in params:
        body["datetime"] = params["datetime"]
    if "collections" in params:
        body["collections"] = params["collections"].split(",")
    small_post = await collect_post(client, body)
    assert small_get == big
    assert small_post == big
    assert len(set(big)) == len(big)


async def test_next_link_keeps_every_parameter(client: httpx.AsyncClient) -> None:
    resp = await client.get(
        "/search", params={"bbox": "1,41,7,48", "limit": 3, "collections": "alpha-a"}
    )
    nxt = next(link for link in resp.json()["links"] if link["rel"] == "next")
    assert "bbox=1%2C41%2C7%2C48" in nxt["href"] and "limit=3" in nxt["href"]
    assert "collections=alpha-a" in nxt["href"] and nxt["href"].startswith(ROOT)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"bbox": "1,2,3"}, "4 or 6"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "10,50,5,40"}, "inverted"),
        ({"bbox": "5,50,10,40"}, "inverted"),
        ({"bbox": "0,0,1,1", "intersects": '{"type":"Point","coordinates":[0,0]}'}, "exclusive"),
        ({"datetime": "not-a-date"}, "datetime"),
        ({"datetime": "2022-01-01T00:00:00Z/2021-01-01T00:00:00Z"}, "after"),
        ({"datetime": "../.."}, "open"),
        ({"intersects": '{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}'}, "GeoJSON"),
        ({"intersects": "{nope"}, "intersects"),
        ({"intersects": '{"type":"Feature"}'}, "geometry"),
        ({"limit": "0"}, "limit"),
        ({"token": "garbage"}, "token"),
    ],
)
async def test_bad_get_input_is_a_400_naming_the_problem(
    client: httpx.AsyncClient, params: dict[str, str], fragment: str
) -> None:
    resp = await client.get("/search", params=params)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert set(body) >= {"code", "description"}
    assert fragment.lower() in body["description"].lower()


@pytest.mark.parametrize(
    "body",
    [
        {"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}},
        {"bbox": [10, 50, 5, 40]},
        {"bbox": [0, 0, 1]},
        {"datetime": "yesterday"},
        {"intersects": {"type": "Polygon", "coordinates": "x"}},
        {"limit": -1},
        {"collections": 5},
    ],
)
async def test_bad_post_input_is_a_400(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    resp = await client.post("/search", json=body)
    assert resp.status_code == 400, resp.text
    assert set(resp.json()) >= {"code", "description"}


async def test_unknown_collection_in_search_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/search", params={"collections": "nope"})).status_code == 404
    assert (await client.post("/search", json={"collections": ["nope"]})).status_code == 404


async def test_datetimes_without_offset_are_utc(client: httpx.AsyncClient) -> None:
    naive = "2021-01-01T00:00:00.000/2021-06-30T23:59:59.999"
    aware = "2021-01-01T00:00:00Z/2021-06-30T23:59:59.999Z"
    a = await collect_get(client, {"datetime": naive, "limit": 100})
    b = await collect_get(client, {"datetime": aware, "limit": 100})
    assert a == b and a


async def test_token_of_another_search_is_rejected(client: httpx.AsyncClient) -> None:
    resp = await client.get("/search", params={"limit": 2, "bbox": "0,40,10,50"})
    link = next(link for link in resp.json()["links"] if link["rel"] == "next")
    token = link["href"].split("token=")[1]
    other = await client.get("/search", params={"limit": 2, "token": token})
    assert other.status_code == 400
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    bad = await client.get("/search", params={"limit": 2, "bbox": "0,40,10,50", "token": tampered})
    assert bad.status_code == 400


async def test_partial_results_are_marked(
    client: httpx.AsyncClient, providers: dict[str, Any]
) -> None:
    from tests.support.fake_provider import fails

    providers["gamma"].fail_with = fails("gamma")
    resp = await client.get("/search", params={"limit": 50})
    assert resp.status_code == 200
    assert resp.headers["X-Bridge-Partial"] == "true"
    assert resp.json()["bridge:providers"]["gamma"]["status"] == "error"
    for p in providers.values():
        p.fail_with = fails(p.name)
    # Another search: the first one's native pages are cached and would still answer.
    resp = await client.get("/search", params={"limit": 50, "bbox": "0,40,5,45"})
    assert resp.status_code == 502
    assert set(resp.json()["providers"]) == set(providers)


async def test_cors_preflight_allows_auth_headers(client: httpx.AsyncClient) -> None:
    resp = await client.options(
        "/search",
        headers={
            "Origin": "http://browser.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-api-key,content-type",
        },
    )
    assert resp.status_code == 200
    allowed = resp.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "x-api-key" in allowed
    assert resp.headers["access-control-allow-origin"] in ("*", "http://browser.example")


async def test_cors_origins_come_from_the_settings() -> None:
    providers = fake_providers()
    settings = Settings(cors=CorsSettings(allow_origins=["https://maps.example"]))
    app = create_app(settings, wiring=fixed_wiring(providers, fake_catalog(providers)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bridge.test"
    ) as client:
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = await client.options(
            "/search", headers={"Origin": "https://maps.example", **preflight}
        )
        refused = await client.options(
            "/search", headers={"Origin": "https://elsewhere.example", **preflight}
        )
        answer = await client.get("/", headers={"Origin": "https://maps.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://maps.example"
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    exposed = answer.headers["access-control-expose-headers"]
    assert "X-Request-ID" in exposed and "RateLimit-Remaining" in exposed
