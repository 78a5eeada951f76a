"""The transport every adapter goes through: a cap on native calls in flight, metrics."""

from __future__ import annotations

import asyncio

import httpx

from bridge.providers.transport import ProviderTransport, operation_of
from bridge.telemetry import PROVIDER_CALLS


async def test_native_calls_in_flight_are_capped() -> None:
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return httpx.Response(200, json={})

    transport = ProviderTransport("capped", httpx.MockTransport(slow), max_concurrency=2)
    async with httpx.AsyncClient(transport=transport, base_url="http://p.test") as client:
        answers = await asyncio.gather(*(client.get(f"/items/{i}") for i in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert peak == 2
    counted = PROVIDER_CALLS.labels("capped", "GET /items/{id}", "200")._value.get()
    assert counted == 8


def test_operations_fold_ids_and_drop_queries() -> None:
    request = httpx.Request("GET", "https://api.test/orders/7f3a9c2e-1d/download?sig=SECRET")
    assert operation_of(request) == "GET /orders/{id}/download"
    assert "SECRET" not in operation_of(request)
