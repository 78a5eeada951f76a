"""Operator signals: /health, /ready, /metrics, X-Request-ID and the per-request log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bridge.app import create_app
from bridge.db.engine import Database
from bridge.settings import Settings
from tests.api.conftest import fake_catalog
from tests.support.fake_provider import fake_providers
from tests.support.wiring import fixed_wiring, sandbox_app


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    app, _ = sandbox_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bridge.test"
    ) as client:
        yield client


def fields_of(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, object]]:
    return [r.fields for r in caplog.records if r.name == logger and hasattr(r, "fields")]


async def test_health_is_liveness_without_io(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_reports_database_and_breakers(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["database"] == {"status": "ok"}
    assert set(body["providers"]) == {"arlula", "capella", "iceye", "satellogic"}
    assert {p["breaker"] for p in body["providers"].values()} == {"closed"}


async def test_ready_is_503_when_the_database_is_gone() -> None:
    providers = fake_providers()
    gone = Database("postgresql://bridge@127.0.0.1:9/nowhere")  # nothing listens on port 9
    wiring = fixed_wiring(providers, fake_catalog(providers))
    app = create_app(Settings(), wiring=wiring, database=gone)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bridge.test"
    ) as client:
        response = await client.get("/ready")
        assert (await client.get("/health")).status_code == 200  # alive, not ready
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["database"]["status"] == "error"
    await gone.close()


async def test_metrics_count_requests_and_native_calls(sandbox: httpx.AsyncClient) -> None:
    assert (await sandbox.get("/search", params={"limit": 2})).status_code == 200
    response = await sandbox.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'bridge_http_requests_total{method="GET",route="/search",status="200"}' in text
    assert 'bridge_provider_calls_total{operation="POST /catalog/search",provider="capella"' in text
    assert "bridge_http_request_duration_seconds_bucket" in text
    assert 'bridge_provider_breaker_open{provider="iceye"} 0.0' in text
    assert "bridge_page_cache_lookups_total" in text


async def test_request_id_is_echoed_logged_and_carried_into_native_calls(
    sandbox: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge")
    response = await sandbox.get(
        "/search", params={"limit": 2}, headers={"X-Request-ID": "trace-42"}
    )
    assert response.headers["X-Request-ID"] == "trace-42"
    [line] = [f for f in fields_of(caplog, "bridge.access") if f["request_id"] == "trace-42"]
    assert line["route"] == "/search" and line["status"] == 200 and line["method"] == "GET"
    assert isinstance(line["duration_ms"], float) and line["tenant_id"] is None
    assert line["providers"] == {n: "ok" for n in ("arlula", "capella", "iceye", "satellogic")}
    native = [f for f in fields_of(caplog, "bridge.native") if f["request_id"] == "trace-42"]
    assert {f["provider"] for f in native} == {"arlula", "capella", "iceye", "satellogic"}


async def test_request_id_is_generated_when_absent_or_unfit(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/")).headers["X-Request-ID"]
    assert len(generated) == 32
    unfit = (await client.get("/", headers={"X-Request-ID": "no spaces\tor tabs"})).headers
    assert unfit["X-Request-ID"] != "no spaces\tor tabs" and len(unfit["X-Request-ID"]) == 32


async def test_log_line_names_the_tenant_never_the_key(
    sandbox: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = sandbox._transport.app  # type: ignore[attr-defined]
    key = await app.state.keys.add_key("acme")
    caplog.set_level(logging.INFO, logger="bridge")
    response = await sandbox.get("/search", params={"limit": 1}, headers={"X-API-Key": key})
    rid = response.headers["X-Request-ID"]
    [line] = [f for f in fields_of(caplog, "bridge.access") if f["request_id"] == rid]
    assert isinstance(line["tenant_id"], int)
    assert key not in repr(caplog.records)
