"""Hostile input against a live ``bridge serve``: each request gets a 4xx STAC error within
2 s, the process survives, the next ordinary search is answered; a slow search does not
delay a concurrent ``GET /``."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.conftest import LiveBridge, start_bridge

pytestmark = pytest.mark.e2e

ORDINARY = {"bbox": "24.0,59.8,26.0,60.6", "limit": "5"}


def ring(n: int) -> list[list[float]]:
    return [[24 + (i % 1000) / 1000, 60 + (i // 1000) / 1000] for i in range(n - 1)] + [[24, 60]]


def nested(levels: int) -> dict[str, Any]:
    expr: dict[str, Any] = {"op": "=", "args": [{"property": "eo:cloud_cover"}, 1]}
    for _ in range(levels):
        expr = {"op": "not", "args": [expr]}
    return expr


def or_terms(n: int) -> dict[str, Any]:
    return {
        "op": "or",
        "args": [{"op": "=", "args": [{"property": "eo:cloud_cover"}, i]} for i in range(n)],
    }


HOSTILE: dict[str, bytes] = {
    "20,000-term CQL2 text OR": orjson.dumps(
        {
            "filter": " OR ".join(f"eo:cloud_cover = {i}" for i in range(20_000)),
            "filter-lang": "cql2-text",
        }
    ),
    "3,000-level nested CQL2 JSON": orjson.dumps({"filter": nested(100)})[:-1]
    .replace(b'{"op":"=","args":[{"property":"eo:cloud_cover"},1]}', b"X")
    .replace(b"X", b'{"op":"not","args":[' * 2900 + b"true" + b"]}" * 2900)
    + b"}",
    "50,000-term CQL2 JSON or": orjson.dumps({"filter": or_terms(50_000)}),
    "400,000-vertex polygon": orjson.dumps(
        {"intersects": {"type": "Polygon", "coordinates": [ring(400_000)]}}
    ),
    "300,000 ids": orjson.dumps({"ids": [f"id-{i}" for i in range(300_000)]}),
    "64 MB body": b'{"ids": ["' + b"x" * (64 * 1024 * 1024) + b'"]}',
}


def ordinary_search_works(bridge: LiveBridge) -> None:
    response = httpx.get(bridge.root + "search", params=ORDINARY, timeout=60)
    assert response.status_code == 200 and response.json()["features"], response.text


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_request_is_a_quick_stac_error(live_bridge: LiveBridge, name: str) -> None:
    body = HOSTILE[name]
    started = time.monotonic()
    response = httpx.post(
        live_bridge.root + "search",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    error = response.json()
    assert set(error) >= {"code", "description"}, error
    assert "BRIDGE_LIMITS__" in error["description"], error
    assert elapsed < 2.0, f"{name}: {elapsed:.2f} s"
    ordinary_search_works(live_bridge)


def test_long_get_filter_is_a_stac_error(live_bridge: LiveBridge) -> None:
    text = " OR ".join(f"eo:cloud_cover = {i}" for i in range(1200))
    started = time.monotonic()
    response = httpx.get(live_bridge.root + "search", params={"filter": text}, timeout=30)
    assert response.status_code == 400 and "BRIDGE_LIMITS__" in response.json()["description"]
    assert time.monotonic() - started < 2.0
    ordinary_search_works(live_bridge)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    log = tmp_path_factory.mktemp("bridge") / "serve.log"
    with start_bridge(log, {}, "--sandbox", "--workers", "2") as bridge:
        yield bridge


def test_a_slow_search_does_not_delay_the_landing_page(two_workers: LiveBridge) -> None:
    """A search at the limits (256 unpushable terms, 1,000 items a page over Europe) takes
    seconds; meanwhile ``GET /`` is answered promptly. Evaluation yields to other requests
    every few milliseconds, and with two workers the idle one takes new connections (a
    single worker still waits for one native page's decoding and mapping at a time)."""
    live_bridge = two_workers
    terms = " OR ".join(f"eo:cloud_cover = {i + 0.5}" for i in range(255))
    slow_body = {
        "filter": f"{terms} OR gsd > 0",
        "filter-lang": "cql2-text",
        "limit": 1000,
        "bbox": [-10, 35, 40, 70],
    }
    done = threading.Event()
    slow: dict[str, float] = {}

    def run_slow() -> None:
        started = time.monotonic()
        response = httpx.post(live_bridge.root + "search", json=slow_body, timeout=120)
        slow["seconds"] = time.monotonic() - started
        slow["status"] = response.status_code
        done.set()

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.3)  # the slow search is under way
    landing = []
    while not done.is_set():
        started = time.monotonic()
        assert httpx.get(live_bridge.root, timeout=30).status_code == 200
        landing.append(time.monotonic() - started)
        time.sleep(0.05)
    thread.join()
    assert slow["status"] == 200
    # Before, the landing page waited as long as the search held the loop (seconds); timings
    # on a shared 2-core machine are noisy, so the bounds are relative to the search.
    assert landing and statistics.median(landing) < 0.5, (landing, slow)
    assert max(landing) < slow["seconds"] / 4, (landing, slow)
