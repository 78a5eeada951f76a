"""Limits and error bodies through the real app: every error is a STAC error body."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from bridge.app import create_app
from bridge.settings import LimitSettings, Settings
from tests.api.conftest import fake_catalog
from tests.support.fake_provider import fake_providers
from tests.support.wiring import fixed_wiring


def assert_stac_error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "description"} and body["code"] == code, body
    assert "detail" not in body
    return dict(body)


@pytest.fixture
async def small(tmp_path: object) -> AsyncIterator[httpx.AsyncClient]:
    """An app with small limits, so tests need not send megabytes."""
    providers = fake_providers()
    settings = Settings(limits=LimitSettings(max_body_bytes=4096, max_query_bytes=512))
    app = create_app(settings, wiring=fixed_wiring(providers, fake_catalog(providers)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bridge.test"
    ) as c:
        yield c


async def test_body_over_the_limit_is_413_before_parsing(small: httpx.AsyncClient) -> None:
    body = b'{"ids": [' + b",".join(b'"x"' for _ in range(2000)) + b"]}"
    r = await small.post("/search", content=body, headers={"content-type": "application/json"})
    assert "MAX_BODY_BYTES" in assert_stac_error(r, 413, "PayloadTooLarge")["description"]


async def test_chunked_body_over_the_limit_is_413(small: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    r = await small.post("/search", content=chunks(), headers={"content-type": "application/json"})
    assert_stac_error(r, 413, "PayloadTooLarge")


async def test_query_string_over_the_limit_is_400(small: httpx.AsyncClient) -> None:
    r = await small.get("/search", params={"ids": ",".join(["abcdef"] * 200)})
    assert "MAX_QUERY_BYTES" in assert_stac_error(r, 400, "LimitExceeded")["description"]


async def test_over_deep_json_body_is_a_stac_error(client: httpx.AsyncClient) -> None:
    deep = b'{"filter": ' + b'{"op": "not", "args": [' * 3000 + b"1" + b"]}" * 3000 + b"}"
    r = await client.post("/search", content=deep, headers={"content-type": "application/json"})
    assert "MAX_JSON_DEPTH" in assert_stac_error(r, 400, "LimitExceeded")["description"]


async def test_malformed_json_body_is_a_stac_error(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/search", content=b'{"limit": 1,', headers={"content-type": "application/json"}
    )
    assert_stac_error(r, 400, "BadRequest")


async def test_unknown_route_and_wrong_method_are_stac_errors(client: httpx.AsyncClient) -> None:
    assert_stac_error(await client.get("/no/such/route"), 404, "NotFound")
    r = await client.get("/collections/c/items/i/order")  # a browser following an order link
    body = assert_stac_error(r, 405, "MethodNotAllowed")
    assert "GET" in body["description"] and "POST" in r.headers["allow"]


async def test_filter_terms_over_the_limit_is_400_by_get_and_post(
    client: httpx.AsyncClient,
) -> None:
    text = " OR ".join(f"eo:cloud_cover = {i}" for i in range(300))
    r = await client.post("/search", json={"filter": text, "filter-lang": "cql2-text"})
    assert "MAX_FILTER_TERMS" in assert_stac_error(r, 400, "LimitExceeded")["description"]
    wide = {"op": "or", "args": [{"op": "=", "args": [{"property": "x"}, i]} for i in range(300)]}
    r = await client.post("/search", json={"filter": wide})
    assert_stac_error(r, 400, "LimitExceeded")
    r = await client.get(
        "/search", params={"filter": orjson.dumps(wide).decode(), "filter-lang": "cql2-json"}
    )
    assert_stac_error(r, 400, "LimitExceeded")


async def test_ids_and_geometry_over_the_limits_are_400(client: httpx.AsyncClient) -> None:
    r = await client.post("/search", json={"ids": [f"i{n}" for n in range(10_001)]})
    assert "MAX_IDS" in assert_stac_error(r, 400, "LimitExceeded")["description"]
    ring = [[i / 1e5, (i % 3) / 3] for i in range(100_001)] + [[0, 0]]
    r = await client.post(
        "/search", json={"intersects": {"type": "Polygon", "coordinates": [ring]}}
    )
    assert "MAX_GEOMETRY_VERTICES" in assert_stac_error(r, 400, "LimitExceeded")["description"]


async def test_ordinary_searches_pass_untouched(client: httpx.AsyncClient) -> None:
    """What pystac-client, QGIS and stac-browser send stays far below every limit."""
    r = await client.post(
        "/search",
        json={
            "bbox": [24.5, 60.0, 25.3, 60.4],
            "datetime": "2020-01-01T00:00:00Z/..",
            "filter": {"op": "and", "args": [{"op": "<", "args": [{"property": "gsd"}, 5]}]},
            "sortby": [{"field": "datetime", "direction": "desc"}],
            "limit": 5,
        },
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "body",
    [
        '{"intersects": {"type": "Point", "coordinates": [' + "9" * 400 + ", 2]}}",
        '{"ids": ["\\ud80e"]}',
        '{"filter": {"op": "=", "args": [{"property": "x"}, ' + "9" * 30 + "]}}",
    ],
)
async def test_values_json_cannot_carry_are_400_not_500(
    client: httpx.AsyncClient, body: str
) -> None:
    """Found by fuzzing (schemathesis): integers past 64 bits, lone surrogates."""
    r = await client.post(
        "/search", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert_stac_error(r, 400, "BadRequest")
