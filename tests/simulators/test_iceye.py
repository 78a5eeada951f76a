"""The ICEYE simulator speaks ICEYE's native API: OAuth2 tokens, Catalog v1 and v2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from shapely.geometry import Polygon, shape
from starlette.applications import Starlette

from bridge.simulators.iceye import create_app, sandbox_settings
from bridge.simulators.iceye.archive import build_archive
from tests.support import wiring

BASE = "http://iceye.simulator"
SETTINGS = sandbox_settings(BASE)
V2_SEARCH = "/api/catalog/v2/search"
V1_SEARCH = "/api/catalog/v1/search"
HELSINKI = [24.0, 59.8, 26.0, 60.6]


def _app(**extra: Any) -> Starlette:
    return create_app(wiring.simulator_config(extra=extra))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def _token(c: httpx.AsyncClient, secret: str | None = None) -> httpx.Response:
    return await c.post(
        SETTINGS["auth_url"],
        data={"grant_type": "client_credentials"},
        auth=(SETTINGS["client_id"], secret or SETTINGS["client_secret"]),
    )


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    token = (await _token(client)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _all_pages(
    c: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(500):
        page = await c.post(
            V2_SEARCH, json={**body, **({"cursor": cursor} if cursor else {})}, headers=auth
        )
        assert page.status_code == 200, page.text
        items += page.json()["data"]
        cursor = page.json().get("cursor")
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


def _instant(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# --- auth ---------------------------------------------------------------------------------


async def test_token_endpoint_issues_bearer_tokens(client: httpx.AsyncClient) -> None:
    response = await _token(client)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body) == {"token_type", "expires_in", "access_token", "scope"}
    assert response.headers["cache-control"] == "no-store"


async def test_wrong_client_secret_gets_the_oauth2_error(client: httpx.AsyncClient) -> None:
    response = await _token(client, secret="wrong")
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed",
    }
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_token_request_without_basic_auth_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(SETTINGS["auth_url"], data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_token_endpoint_wants_the_client_credentials_grant(
    client: httpx.AsyncClient,
) -> None:
    creds = (SETTINGS["client_id"], SETTINGS["client_secret"])
    password = await client.post(SETTINGS["auth_url"], data={"grant_type": "password"}, auth=creds)
    assert password.status_code == 400
    assert password.json()["error"] == "unsupported_grant_type"
    as_json = await client.post(
        SETTINGS["auth_url"], json={"grant_type": "client_credentials"}, auth=creds
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"


async def test_catalog_refuses_missing_and_unknown_tokens(client: httpx.AsyncClient) -> None:
    missing = await client.post(V2_SEARCH, json={})
    assert missing.status_code == 401
    assert missing.json() == {"code": "UNAUTHORIZED", "message": "missing bearer token"}
    unknown = await client.get(
        "/api/catalog/v1/items", headers={"Authorization": "Bearer not-a-token"}
    )
    assert unknown.status_code == 401
    assert unknown.json() == {"code": "UNAUTHORIZED", "message": "invalid or expired access token"}


async def test_tokens_expire() -> None:
    transport = httpx.ASGITransport(app=_app(iceye_token_ttl_s=1))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        token = (await _token(c)).json()
        assert token["expires_in"] == 1
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await c.post(V2_SEARCH, json={}, headers=headers)).status_code == 200
        await asyncio.sleep(1.05)
        expired = await c.post(V2_SEARCH, json={}, headers=headers)
        assert expired.status_code == 401
        assert expired.json()["message"] == "invalid or expired access token"


# --- envelopes and item shapes --------------------------------------------------------------


async def test_v2_envelope_and_item(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post(V2_SEARCH, json={"limit": 3}, headers=auth)
    body = response.json()
    assert set(body) == {"data", "cursor"}
    assert len(body["data"]) == 3
    item = body["data"][0]
    assert item["collection"] == "public"
    props = item["properties"]
    for name in (
        "frame_id", "start_datetime", "end_datetime", "sar:instrument_mode",
        "sar:product_type", "sar:polarizations", "sar:observation_direction",
        "sat:orbit_state", "iceye:incidence_center", "iceye:satellite_look_angle",
        "iceye:acquisition_mode", "iceye:processing_mode", "iceye:azimuth_resolution",
        "iceye:range_resolution_center",
    ):  # fmt: skip
        assert name in props, name
    # Public catalog items link only their quicklooks (ICEYE docs "build a catalog app").
    assert set(item["assets"]) == {"thumbnail", "thumbnail-png"}
    assert item["assets"]["thumbnail-png"]["type"] == "image/png"


async def test_v1_items_use_the_legacy_names(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = (await client.get("/api/catalog/v1/items?limit=2", headers=auth)).json()
    item = body["data"][0]
    assert "collection" not in item
    props = item["properties"]
    assert not [k for k in props if ":" in k]
    for name in (
        "start_time", "end_time", "instrument_mode", "product_type", "observation_direction",
        "orbit_state", "incidence_angle", "satellite_look_angle", "polarizations", "image_mode",
    ):  # fmt: skip
        assert name in props, name
    assert props["image_mode"] == props["instrument_mode"]
    v2 = (await client.post(V2_SEARCH, json={"ids": [item["id"]]}, headers=auth)).json()
    assert v2["data"][0]["properties"]["iceye:incidence_center"] == props["incidence_angle"]


# --- native search semantics -----------------------------------------------------------------


async def test_v2_search_evaluates_bbox_datetime_and_query(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = {
        "bbox": HELSINKI,
        "datetime": "2021-01-01T00:00:00Z/2024-01-01T00:00:00Z",
        "query": {
            "sar:product_type": {"in": ["GRD", "SICD"]},
            "iceye:incidence_center": {"gt": 20},
        },
        "limit": 100,
    }
    items = await _all_pages(client, auth, body)
    archive = build_archive(wiring.TEST_SEED, wiring.TEST_SCENES)
    lo, hi = _instant("2021-01-01T00:00:00+00:00"), _instant("2024-01-01T00:00:00+00:00")
    expected = {
        s.id
        for s in archive.scenes
        if s.product_type in ("GRD", "SICD")
        and s.properties["iceye:incidence_center"] > 20
        and s.end >= lo
        and s.start <= hi
        and not (s.bbox[2] < 24 or s.bbox[0] > 26 or s.bbox[3] < 59.8 or s.bbox[1] > 60.6)
    }
    assert len(expected) > 20
    assert {i["id"] for i in items} == expected


async def test_v2_intersects_is_exact(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    triangle = {
        "type": "Polygon",
        "coordinates": [[[24.0, 59.8], [26.0, 59.8], [24.0, 60.6], [24.0, 59.8]]],
    }
    by_bbox = await _all_pages(client, auth, {"bbox": HELSINKI, "limit": 100})
    by_polygon = await _all_pages(client, auth, {"intersects": triangle, "limit": 100})
    poly = shape(triangle)
    inside = {i["id"] for i in by_bbox if poly.intersects(Polygon(i["geometry"]["coordinates"][0]))}
    assert {i["id"] for i in by_polygon} == inside
    assert len(inside) < len(by_bbox)


async def test_ids_and_collections(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = (await client.post(V2_SEARCH, json={"limit": 5}, headers=auth)).json()["data"]
    ids = [i["id"] for i in first]
    by_ids = (await client.post(V2_SEARCH, json={"ids": ids}, headers=auth)).json()["data"]
    assert sorted(i["id"] for i in by_ids) == sorted(ids)
    public = (
        await client.get("/api/catalog/v2/items?collections=public&limit=50", headers=auth)
    ).json()["data"]
    assert len(public) == 50 and all(i["collection"] == "public" for i in public)
    # Nothing bought yet: the private collection (owned frames) is empty.
    private = (await client.get("/api/catalog/v2/items?collections=private", headers=auth)).json()[
        "data"
    ]
    assert private == []


async def test_sortby_and_default_order(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    default = (await client.post(V2_SEARCH, json={"limit": 50}, headers=auth)).json()["data"]
    starts = [_instant(i["properties"]["start_datetime"]) for i in default]
    assert starts == sorted(starts, reverse=True)
    body = {"limit": 50, "sortby": [{"field": "iceye:incidence_center", "direction": "asc"}]}
    by_angle = (await client.post(V2_SEARCH, json=body, headers=auth)).json()["data"]
    keys = [(i["properties"]["iceye:incidence_center"], i["id"]) for i in by_angle]
    assert keys == sorted(keys)
    v1 = await client.get("/api/catalog/v1/items?sortby=%2Bstart_time,%2Bid&limit=20", headers=auth)
    v1_keys = [(_instant(i["properties"]["start_time"]), i["id"]) for i in v1.json()["data"]]
    assert v1_keys == sorted(v1_keys)
    refused = await client.post(
        V2_SEARCH, json={"sortby": [{"field": "platform", "direction": "asc"}]}, headers=auth
    )
    assert refused.status_code == 400
    assert refused.json() == {"code": "BAD_REQUEST", "message": "cannot sort by 'platform'"}


async def test_v1_search_has_no_v2_fields(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for field, value in (
        ("intersects", {"type": "Point", "coordinates": [25, 60]}),
        ("collections", ["public"]),
        ("contractID", SETTINGS["contract_id"]),
        ("cursor", "abc"),
    ):
        response = await client.post(V1_SEARCH, json={field: value}, headers=auth)
        assert response.status_code == 400
        assert response.json() == {"code": "BAD_REQUEST", "message": f"unknown field(s): {field}"}
    body = {"query": {"product_type": {"eq": "SLC"}, "incidence_angle": {"lt": 30}}, "limit": 100}
    page = (await client.post(V1_SEARCH, json=body, headers=auth)).json()
    assert set(page) == {"data", "cursor"}  # more results: continued by GET /items
    assert len(page["data"]) == 100
    assert all(i["properties"]["product_type"] == "SLC" for i in page["data"])
    # v2 names mean nothing to v1.
    v2_names = {"query": {"sar:product_type": {"eq": "SLC"}}}
    assert (await client.post(V1_SEARCH, json=v2_names, headers=auth)).json()["data"] == []


async def test_get_items_takes_no_query(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/catalog/v2/items?query=x", headers=auth)
    assert response.status_code == 400


async def test_limits_cursors_and_contracts(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    too_big = await client.post(V2_SEARCH, json={"limit": 201}, headers=auth)
    assert too_big.status_code == 400
    cursor = (await client.post(V2_SEARCH, json={"limit": 2}, headers=auth)).json()["cursor"]
    foreign = await client.post(V2_SEARCH, json={"bbox": HELSINKI, "cursor": cursor}, headers=auth)
    assert foreign.status_code == 400
    assert foreign.json()["message"] == "cursor does not belong to this search"
    garbage = await client.post(V2_SEARCH, json={"cursor": "%%%"}, headers=auth)
    assert garbage.status_code == 400
    own = await client.post(V2_SEARCH, json={"contractID": SETTINGS["contract_id"]}, headers=auth)
    assert own.status_code == 200
    other = await client.post(V2_SEARCH, json={"contractID": "someone-else"}, headers=auth)
    assert other.status_code == 403
    assert other.json()["code"] == "FORBIDDEN"


async def test_paging_matches_one_big_page(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = {"bbox": HELSINKI, "datetime": "2025-01-01T00:00:00Z/.."}
    big = (await client.post(V2_SEARCH, json={**body, "limit": 100}, headers=auth)).json()
    assert "cursor" not in big
    small = await _all_pages(client, auth, {**body, "limit": 7})
    assert [i["id"] for i in small] == [i["id"] for i in big["data"]]
    assert len(small) > 14
    v1_ids: list[str] = []
    params: dict[str, Any] = {"bbox": "24,59.8,26,60.6", "datetime": "2025-01-01T00:00:00Z/..",
                              "limit": 9, "sortby": "-start_time,+id"}  # fmt: skip
    for _ in range(100):
        page = (await client.get("/api/catalog/v1/items", params=params, headers=auth)).json()
        v1_ids += [i["id"] for i in page["data"]]
        if "cursor" not in page:
            break
        params["cursor"] = page["cursor"]
    assert v1_ids == [i["id"] for i in big["data"]]


# --- simulator machinery ----------------------------------------------------------------------


async def test_stats_and_runtime_faults(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await client.delete("/_simulator/stats")
    await client.post(V2_SEARCH, json={}, headers=auth)
    stats = (await client.get("/_simulator/stats")).json()
    assert stats["simulator"] == "iceye"
    assert stats["requests"] == {"POST /api/catalog/v2/search": 1}
    set_fault = await client.post(
        "/_simulator/faults", json={"error_rate": 1.0, "error_status": 503, "paths": ["/api"]}
    )
    assert set_fault.status_code == 200
    assert (await client.post(V2_SEARCH, json={}, headers=auth)).status_code == 503
    assert (await _token(client)).status_code == 200  # the token path is not faulted
    await client.delete("/_simulator/faults")
    assert (await client.post(V2_SEARCH, json={}, headers=auth)).status_code == 200


def test_archive_is_deterministic_and_big_enough() -> None:
    a = build_archive.__wrapped__(wiring.TEST_SEED, 6000)
    b = build_archive.__wrapped__(wiring.TEST_SEED, 6000)
    assert len(a.scenes) == 6000 >= 5000
    assert [s.id for s in a.scenes] == [s.id for s in b.scenes]
    assert a.scenes[100].properties == b.scenes[100].properties
    assert len(a.by_id) == 6000
    other = build_archive.__wrapped__(wiring.TEST_SEED + 1, 6000)
    assert [s.id for s in other.scenes] != [s.id for s in a.scenes]
    assert build_archive(1, 5000) is build_archive(1, 5000)


def test_archive_distributions_are_realistic() -> None:
    scenes = build_archive(wiring.TEST_SEED, wiring.TEST_SCENES).scenes
    modes = {s.properties["iceye:acquisition_mode"] for s in scenes}
    assert modes == {"spotlight", "spotlight_extended_area", "dwell", "stripmap", "scan"}
    assert {s.product_type for s in scenes} == {"GRD", "SLC", "SICD", "SIDD", "CSI", "VID"}
    vv = sum(s.properties["sar:polarizations"] == ["VV"] for s in scenes) / len(scenes)
    assert 0.75 < vv < 0.95
    assert all(10 <= s.properties["iceye:incidence_center"] <= 46 for s in scenes)
    assert all(s.properties["platform"].startswith("ICEYE-X") for s in scenes)
    frames = {s.properties["frame_id"] for s in scenes}
    assert len(frames) < len(scenes) / 2  # several products per acquisition
    widths = {round(s.bbox[3] - s.bbox[1], 1) for s in scenes if s.product_type == "GRD"}
    assert min(widths) < 0.1 < 0.8 < max(widths)  # 5 km spotlights to 100 km scans
