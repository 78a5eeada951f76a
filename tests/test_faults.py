"""Provider faults injected through the simulators: the search survives, statuses are honest.

Never a 500: a failing, slow, rate-limiting or garbage-returning provider leaves the
others' items and says what happened; only when every provider fails is the answer an
error (502, or 504 when all timed out).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bridge.settings import LimitSettings, ProviderSettings, Settings
from bridge.simulators.common.faults import FaultSettings
from tests.support.wiring import sandbox_app

PROVIDERS = ["arlula", "capella", "iceye", "satellogic"]
SEARCH = {"bbox": "24.0,59.8,26.0,60.6", "limit": "40"}
# The native search route of each simulator (token endpoints stay healthy).
SEARCH_PATHS = {
    "arlula": "/api/archive/search",
    "capella": "/catalog/search",
    "iceye": "/api/catalog/v2/search",
    "satellogic": "/archive/stac/search",
}


def make(
    deadline: float = 2.0, deadlines: dict[str, float] | None = None, **settings: Any
) -> tuple[httpx.AsyncClient, dict[str, Starlette]]:
    """The bridge over in-process simulators, each provider's deadline ``deadline`` unless
    ``deadlines`` names it (a tight deadline only where a test needs one: the simulators
    share this process, and a loaded machine slows them all)."""
    own = deadlines or {}
    config = Settings(
        providers={n: ProviderSettings(timeout_s=own.get(n, deadline)) for n in PROVIDERS},
        **settings,
    )
    app, sims = sandbox_app(settings=config)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b.test")
    return client, sims


def fault(sims: dict[str, Starlette], name: str, **kwargs: Any) -> None:
    sims[name].state.faults.set(FaultSettings(paths=[SEARCH_PATHS[name]], seed=1, **kwargs))


def providers_of(body: dict[str, Any]) -> set[str]:
    return {f["collection"].split("-")[0] for f in body["features"]}


def assert_others_served(body: dict[str, Any], failed: str) -> None:
    """The failed provider contributed nothing; every other one answered normally."""
    statuses = body["bridge:providers"]
    assert all(statuses[n]["status"] == "ok" for n in PROVIDERS if n != failed), statuses
    assert failed not in providers_of(body) and body["features"]


async def search(client: httpx.AsyncClient, **extra: str) -> httpx.Response:
    return await client.get("/search", params={**SEARCH, **extra})


async def test_healthy_search_is_not_partial() -> None:
    client, _ = make()
    async with client:
        resp = await search(client)
    assert resp.status_code == 200
    assert "X-Bridge-Partial" not in resp.headers
    assert {s["status"] for s in resp.json()["bridge:providers"].values()} == {"ok"}


async def test_one_provider_down() -> None:
    client, sims = make()
    fault(sims, "capella", error_rate=1.0, error_status=503)
    async with client:
        resp = await search(client)
    assert resp.status_code == 200
    assert resp.headers["X-Bridge-Partial"] == "true"
    body = resp.json()
    assert body["bridge:providers"]["capella"]["status"] == "error"
    assert "503" in body["bridge:providers"]["capella"]["message"]
    assert_others_served(body, "capella")
    assert "numberMatched" not in body
    # 5xx is retried: the simulator saw every attempt.
    route = f"POST {SEARCH_PATHS['capella']}"
    assert sims["capella"].state.stats.requests[route] == 3


async def test_slow_provider_times_out_at_its_deadline() -> None:
    client, sims = make(deadlines={"iceye": 0.6})
    fault(sims, "iceye", delay_ms=3000)
    async with client:
        started = time.perf_counter()
        resp = await search(client)
        elapsed = time.perf_counter() - started
    assert resp.status_code == 200
    body = resp.json()
    assert body["bridge:providers"]["iceye"]["status"] == "timeout"
    assert_others_served(body, "iceye")
    assert elapsed < 2.5


async def test_hanging_provider_times_out() -> None:
    client, sims = make(deadline=0.5)
    fault(sims, "arlula", hang_rate=1.0, hang_s=30)
    async with client:
        resp = await search(client)
    assert resp.status_code == 200
    assert resp.json()["bridge:providers"]["arlula"]["status"] == "timeout"


async def test_rate_limited_provider_is_retried_then_reported() -> None:
    client, sims = make()
    fault(sims, "satellogic", rate_limit_rate=1.0, retry_after_s=0)
    async with client:
        resp = await search(client)
    assert resp.status_code == 200
    status = resp.json()["bridge:providers"]["satellogic"]
    assert status["status"] == "error" and "rate limited" in status["message"]
    route = f"POST {SEARCH_PATHS['satellogic']}"
    assert sims["satellogic"].state.stats.requests[route] == 3


async def test_retry_after_longer_than_the_deadline_is_not_waited_for() -> None:
    client, sims = make(deadline=1.0)
    fault(sims, "satellogic", rate_limit_rate=1.0, retry_after_s=30)
    async with client:
        started = time.perf_counter()
        resp = await search(client)
    assert time.perf_counter() - started < 1.5
    assert resp.json()["bridge:providers"]["satellogic"]["status"] == "error"
    assert sims["satellogic"].state.stats.requests[f"POST {SEARCH_PATHS['satellogic']}"] == 1


async def test_malformed_bodies_are_an_error_not_a_crash() -> None:
    client, sims = make()
    fault(sims, "arlula", malformed_rate=1.0)
    async with client:
        resp = await search(client)
    assert resp.status_code == 200
    status = resp.json()["bridge:providers"]["arlula"]
    assert status["status"] == "error"
    assert_others_served(resp.json(), "arlula")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_all_providers_down_is_a_502_with_detail(method: str) -> None:
    client, sims = make()
    for name in PROVIDERS:
        fault(sims, name, error_rate=1.0, error_status=500)
    async with client:
        if method == "GET":
            resp = await search(client)
        else:
            resp = await client.post("/search", json={"bbox": [24.0, 59.8, 26.0, 60.6]})
    assert resp.status_code == 502
    body = resp.json()
    assert body["code"] == "UpstreamUnavailable"
    assert set(body["providers"]) == set(PROVIDERS)


async def test_all_providers_hanging_is_a_504() -> None:
    client, sims = make(deadline=0.4)
    for name in PROVIDERS:
        fault(sims, name, hang_rate=1.0, hang_s=30)
    async with client:
        resp = await search(client)
    assert resp.status_code == 504
    assert {s["status"] for s in resp.json()["providers"].values()} == {"timeout"}


async def test_a_provider_that_keeps_failing_is_skipped_for_a_while() -> None:
    client, sims = make(breaker_failures=2, retry_attempts=1)
    fault(sims, "capella", error_rate=1.0)
    route = f"POST {SEARCH_PATHS['capella']}"
    async with client:
        for i in range(2):
            resp = await search(client, limit=str(10 + i))  # new searches: no page cache
            assert resp.json()["bridge:providers"]["capella"]["status"] == "error"
        asked = sims["capella"].state.stats.requests[route]
        resp = await search(client, limit="30")
    status = resp.json()["bridge:providers"]["capella"]
    assert status["status"] == "skipped" and "consecutive failures" in status["message"]
    assert sims["capella"].state.stats.requests[route] == asked  # not asked again
    assert resp.headers["X-Bridge-Partial"] == "true"


async def test_late_answer_carries_the_request_out_then_holds_the_answer() -> None:
    """The unknown-outcome fault: the simulator does the work, the caller sees no answer."""
    _, sims = make()
    sim = sims["capella"]
    sim.state.faults.set(FaultSettings(late_rate=1.0, late_s=0.3, paths=["/catalog/search"]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim), base_url="http://sim.test"
    ) as native:
        started = time.monotonic()
        response = await native.post(
            "/catalog/search", json={"limit": 1}, headers={"Authorization": "Apikey x"}
        )
        assert time.monotonic() - started >= 0.3
        assert response.status_code in (200, 401)  # answered in full, only late


async def test_search_deadline_bounds_a_search_whatever_the_provider_deadlines() -> None:
    """Providers may each take 30 s; the search answers at its own deadline, partial."""
    client, sims = make(deadline=30.0, limits=LimitSettings(search_deadline_s=1.0))
    fault(sims, "arlula", hang_rate=1.0, hang_s=30)
    async with client:
        started = time.perf_counter()
        resp = await search(client)
        elapsed = time.perf_counter() - started
    assert resp.status_code == 200 and resp.headers["X-Bridge-Partial"] == "true"
    body = resp.json()
    assert body["bridge:providers"]["arlula"]["status"] == "timeout"
    assert_others_served(body, "arlula")
    assert elapsed < 3.0


async def test_search_deadline_with_every_provider_hanging_is_504() -> None:
    client, sims = make(deadline=30.0, limits=LimitSettings(search_deadline_s=1.0))
    for name in PROVIDERS:
        fault(sims, name, hang_rate=1.0, hang_s=30)
    async with client:
        started = time.perf_counter()
        resp = await search(client)
    assert resp.status_code == 504 and time.perf_counter() - started < 3.0
    body = resp.json()
    assert body["code"] == "UpstreamTimeout"
    assert {s["status"] for s in body["providers"].values()} == {"timeout"}
