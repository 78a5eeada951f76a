"""The Capella simulator against the public sources (issue 10): SDK vocabulary, caps, errors.

Each test names the source it holds the simulator to (see ``SOURCES.md``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from bridge.core.timeutil import parse_instant
from bridge.simulators.capella import DEMO_API_KEY, create_app
from tests.support.wiring import simulator_config

BASE = "http://capella.simulator"
AUTH = {"Authorization": f"ApiKey {DEMO_API_KEY}"}

# Every query key capella-console-client 0.20.0 can send (config.py
# STAC_SUPPORTED_QUERY_FIELDS through STAC_PREFIXED_BY_QUERY_FIELDS; unprefixed names are
# sent as they are).
SDK_QUERY_KEYS = (
    "sar:center_frequency",
    "capella:collect_id",
    "constellation",
    "datetime",
    "created",
    "updated",
    "sar:frequency_band",
    "view:incidence_angle",
    "instruments",
    "sar:instrument_mode",
    "view:look_angle",
    "sar:looks_azimuth",
    "sar:looks_equivalent_number",
    "sar:looks_range",
    "sar:observation_direction",
    "sat:orbit_state",
    "sar:pixel_spacing_azimuth",
    "sar:pixel_spacing_range",
    "platform",
    "sar:product_type",
    "sar:polarizations",
    "sar:resolution_azimuth",
    "capella:resolution_ground_range",
    "sar:resolution_range",
    "capella:squint_angle",
    "capella:layover_angle",
    "capella:orbital_plane",
    "capella:billable_area",
    "capella:hash",
    "locale:timezone",
    "locale:datetime",
    "locale:time",
    "proj:epsg",
    "capella:image_formation_algorithm",
    "view:azimuth",
    "capella:collection_type",
    "sat:relative_orbit",
    "sat:absolute_orbit",
    "capella:rgt_id",
    "capella:archive_holdback_date",
    "capella:use_case",
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(simulator_config())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


async def search(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/catalog/search", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("key", SDK_QUERY_KEYS)
async def test_every_sdk_query_key_is_accepted(client: httpx.AsyncClient, key: str) -> None:
    response = await client.post(
        "/catalog/search", json={"query": {key: {"eq": "x"}}, "limit": 1}, headers=AUTH
    )
    # A value of the wrong type may be refused, but never as an unknown property.
    assert "is not a queryable property" not in response.text
    assert response.status_code in (200, 400), response.text


async def test_time_queries_compare_instants(client: httpx.AsyncClient) -> None:
    # The SDK sends datetime__gt etc. as query.datetime.{gt,...} (not the root datetime).
    page = await search(client, {"limit": 1, "sortby": [{"field": "properties.datetime"}]})
    first = page["features"][0]["properties"]
    after = await search(
        client,
        {"limit": 900, "query": {"datetime": {"gt": first["datetime"].replace("Z", "+00:00")}}},
    )
    same = await search(client, {"limit": 1, "datetime": first["datetime"]})
    # The other products of the first collect share its datetime.
    assert after["numberMatched"] == page["numberMatched"] - same["numberMatched"]
    for feature in after["features"]:
        props = feature["properties"]
        assert parse_instant(props["datetime"]) > parse_instant(first["datetime"])
        assert parse_instant(props["created"]) >= parse_instant(props["end_datetime"])
        assert props["updated"] >= props["created"]
    created = await search(client, {"limit": 1, "query": {"created": {"lte": first["created"]}}})
    assert created["numberMatched"] >= 1
    bad = await client.post(
        "/catalog/search", json={"query": {"datetime": {"gt": "yesterday"}}}, headers=AUTH
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_center_frequency_and_algorithm_are_evaluated(client: httpx.AsyncClient) -> None:
    body = {
        "limit": 5,
        "query": {
            "sar:center_frequency": {"gte": 9.0, "lte": 10.0},
            "capella:image_formation_algorithm": {"in": ["pfa", "backprojection"]},
        },
    }
    page = await search(client, body)
    assert page["numberMatched"] == (await search(client, {"limit": 1}))["numberMatched"]
    none = await search(client, {"limit": 1, "query": {"sar:center_frequency": {"lt": 1}}})
    assert none["numberMatched"] == 0


# --- error bodies (capella SDK tests/test_authenticate.py, test_exception_handling.py) -------


async def test_unknown_api_key_gets_the_gateways_401(client: httpx.AsyncClient) -> None:
    for headers in ({"Authorization": "ApiKey wrong"}, {}):
        response = await client.get("/user", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}


async def test_collection_outside_the_account_is_denied_with_a_string_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/catalog/search", json={"collections": ["capella-geo", "capella-mock"]}, headers=AUTH
    )
    assert response.status_code == 403
    message = response.json()["error"]
    assert isinstance(message, str)
    assert "not permitted to access any of the collections" in message
    assert "(capella-mock)" in message


# --- the 10,000-item window (capella SDK config.py CATALOG_STAC_MAX_ITEM_RETURN) -------------


@pytest.mark.parametrize(("limit", "page"), [(900, 12), (100, 101), (1, 10_001), (625, 17)])
async def test_no_page_reaches_past_the_first_10000_items(
    client: httpx.AsyncClient, limit: int, page: int
) -> None:
    response = await client.post(
        "/catalog/search", json={"limit": limit, "page": page}, headers=AUTH
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "10000" in response.json()["error"]["message"]


@pytest.mark.parametrize(("limit", "page"), [(900, 11), (100, 100), (625, 16)])
async def test_pages_inside_the_window_are_served(
    client: httpx.AsyncClient, limit: int, page: int
) -> None:
    # The SDK's own last-page arithmetic keeps limit * page <= 10000.
    response = await client.post(
        "/catalog/search", json={"limit": limit, "page": page}, headers=AUTH
    )
    assert response.status_code == 200


async def test_no_next_link_past_the_window() -> None:
    app = create_app(simulator_config(scenes=10_100))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        page = await search(c, {"limit": 500, "page": 20})
        assert page["numberMatched"] == 10_100  # the true count stays honest
        assert len(page["features"]) == 500
        assert not [link for link in page["links"] if link["rel"] == "next"]
        before = await search(c, {"limit": 500, "page": 19})
        assert [link["rel"] for link in before["links"]] == ["next"]


# --- the ledger ---------------------------------------------------------------------------------


def test_every_native_route_is_in_the_ledger() -> None:
    ledger = (Path(__file__).parents[2] / "bridge/simulators/capella/SOURCES.md").read_text()
    app = create_app(simulator_config())
    paths = {
        route.path.replace("{order_id}", "{orderId}")
        for route in app.routes
        if isinstance(route, Route) and not route.path.startswith(("/_simulator", "/capella-"))
    }
    assert paths >= {"/user", "/catalog/search", "/orders", "/orders/{orderId}/download"}
    for path in paths:
        assert f" {path}`" in ledger or f" {path}?" in ledger, f"{path} has no source"
