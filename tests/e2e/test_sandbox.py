"""End to end: pystac-client against a real ``bridge serve`` over the four simulators."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pystac_client import Client

from tests.e2e.conftest import DEMO_KEY, LiveBridge
from tests.support.stac_schemas import assert_valid

pytestmark = pytest.mark.e2e

PROVIDERS = ["arlula", "capella", "iceye", "satellogic"]
# Around Helsinki, one of the clusters every simulated archive has.
BBOX = [23.5, 59.5, 26.5, 61.0]
WINDOW = "2019-01-01T00:00:00Z/2026-12-31T23:59:59Z"


def provider_of(item: Any, sandbox: dict[str, Any]) -> str:
    return str(item.collection_id).split("-")[0]


def collections(client: Client) -> list[str]:
    return sorted(c.id for c in client.get_collections())


@pytest.fixture(scope="module")
def client(live_bridge: LiveBridge) -> Client:
    return Client.open(live_bridge.root, headers={"X-API-Key": DEMO_KEY})


def test_banner_names_every_url_and_the_demo_key(live_bridge: LiveBridge) -> None:
    text = live_bridge.log.read_text()
    assert live_bridge.root in text and "api.html" in text and DEMO_KEY in text
    for name in PROVIDERS:
        assert live_bridge.simulator(name) in text


def test_sandbox_document_names_simulators_and_credentials(live_bridge: LiveBridge) -> None:
    assert sorted(live_bridge.sandbox["providers"]) == PROVIDERS
    for name in PROVIDERS:
        entry = live_bridge.sandbox["providers"][name]
        assert entry["credentials"]
        stats = httpx.get(entry["base_url"] + "/_simulator/stats", timeout=5)
        assert stats.status_code == 200


def test_search_every_collection_returns_every_provider(
    client: Client, live_bridge: LiveBridge
) -> None:
    ids = collections(client)
    assert {cid.split("-")[0] for cid in ids} == set(PROVIDERS)
    items = list(client.search(collections=ids, bbox=BBOX, datetime=WINDOW, max_items=200).items())
    assert len(items) == 200
    assert len({i.id for i in items}) == 200
    assert {i.collection_id.split("-")[0] for i in items} == set(PROVIDERS)
    datetimes = [i.datetime or i.common_metadata.start_datetime for i in items]
    assert all(d is not None for d in datetimes)
    for item in items:
        assert_valid(item.to_dict(transform_hrefs=False))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_paging_by_7_equals_one_big_page(client: Client, method: str) -> None:
    ids = collections(client)
    bbox = [24.5, 60.0, 25.3, 60.4]
    window = "2023-01-01T00:00:00Z/2024-12-31T23:59:59Z"
    big = [
        i.id
        for i in client.search(
            collections=ids, bbox=bbox, datetime=window, limit=1000, method=method
        ).items()
    ]
    assert 20 < len(big) < 1000, len(big)
    small_items = list(
        client.search(collections=ids, bbox=bbox, datetime=window, limit=7, method=method).items()
    )
    small = [i.id for i in small_items]
    for item in small_items:
        assert_valid(item.to_dict(transform_hrefs=False))
    assert small == big
    assert len(set(small)) == len(small)


def test_items_of_several_searches_validate(client: Client) -> None:
    ids = collections(client)
    searches: list[dict[str, Any]] = [
        {"bbox": [-123, 37, -122, 38.5]},
        {
            "intersects": {
                "type": "Polygon",
                "coordinates": [[[100, 0], [106, 0], [106, 3], [100, 0]]],
            }
        },
        {"bbox": [-180, -90, 180, 90], "datetime": "2025-06-01T00:00:00Z/2025-06-30T00:00:00Z"},
    ]
    for params in searches:
        for cid in ids:
            for item in client.search(collections=[cid], max_items=30, **params).items():
                assert_valid(item.to_dict(transform_hrefs=False))


def test_fan_out_has_every_native_request_in_flight_at_once(live_bridge: LiveBridge) -> None:
    sims = {n: live_bridge.simulator(n) for n in PROVIDERS}
    body = {"bbox": [-60, -35.5, -57, -33], "limit": 5}
    # Warm up: tokens are fetched once, then cached.
    assert httpx.post(live_bridge.root + "search", json=body, timeout=30).status_code == 200
    try:
        for url in sims.values():
            r = httpx.post(url + "/_simulator/faults", json={"delay_ms": 100}, timeout=5)
            assert r.status_code == 200
            httpx.delete(url + "/_simulator/stats", timeout=5)
        timed = {**body, "datetime": "2019-01-01T00:00:00Z/2026-06-30T00:00:00Z"}
        resp = httpx.post(live_bridge.root + "search", json=timed, timeout=30)
        assert resp.status_code == 200
        elapsed = resp.elapsed.total_seconds()
        spans = []
        for url in sims.values():
            recent = httpx.get(url + "/_simulator/stats", timeout=5).json()["recent"]
            assert recent, "every provider was asked"
            spans.append((recent[0]["start"], recent[0]["end"]))
        # Every native request started before any of them ended: a sequential fan-out
        # (>= 400 ms here) is impossible. Speed itself is measured by `make bench`.
        assert max(s for s, _ in spans) < min(e for _, e in spans), (spans, elapsed)
    finally:
        for url in sims.values():
            httpx.delete(url + "/_simulator/faults", timeout=5)


def test_demo_key_works_and_a_new_key_is_honoured_at_once(live_bridge: LiveBridge) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    search = live_bridge.root + "search?limit=1"
    assert httpx.get(search, headers={"X-API-Key": DEMO_KEY}, timeout=30).status_code == 200
    exe = Path(sys.executable).with_name("bridge")
    out = subprocess.run(
        [str(exe), "keys", "create", "--tenant", "e2e-tenant"],
        env={**os.environ, **live_bridge.env},  # the same database as the running bridge
        capture_output=True,
        text=True,
        check=True,
    )
    key = out.stdout.strip().splitlines()[-1]
    resp = httpx.get(search, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert resp.status_code == 200
    wrong = httpx.get(search, headers={"Authorization": "Bearer brk_not-a-key"}, timeout=30)
    assert wrong.status_code == 401
