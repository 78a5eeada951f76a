"""Fan-out: a federated /search over four providers with 100 ms injected latency each,
against a single-provider search under the same latency.

A sequential fan-out would take >= 400 ms; a concurrent one about as long as the
slowest provider.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from bench.live import live_bridge

ROUNDS = 30
DELAY_MS = 100


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time_searches(client: httpx.Client, root: str, collections: list[str] | None) -> list[float]:
    timings = []
    for i in range(ROUNDS):
        # A new bbox each round, so no native page comes from the bridge's page cache.
        west = -170 + i * 10
        body: dict[str, Any] = {"bbox": [west, -60, west + 9, 70], "limit": 10}
        if collections:
            body["collections"] = collections
        started = time.perf_counter()
        resp = client.post(root + "search", json=body)
        timings.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
    return timings


def run() -> dict[str, float]:
    """Measure and print the fan-out figures."""
    with live_bridge() as (root, sandbox), httpx.Client(timeout=30) as client:
        sims = [p["base_url"] for p in sandbox["providers"].values()]
        one = client.get(root + "collections").json()["collections"][0]["id"]
        client.post(root + "search", json={"limit": 1})  # warm up tokens and connections
        for url in sims:
            client.post(url + "/_simulator/faults", json={"delay_ms": DELAY_MS})
        federated = _time_searches(client, root, None)
        single = _time_searches(client, root, [one])
    fed50, fed95 = statistics.median(federated), _percentile(federated, 0.95)
    one50 = statistics.median(single)
    figures = {
        "federated_p50_ms": fed50,
        "federated_p95_ms": fed95,
        "single_p50_ms": one50,
        "ratio_p50": fed50 / one50,
    }
    print(f"fan-out ({len(sims)} providers, {DELAY_MS} ms injected latency each, {ROUNDS} rounds)")
    print(f"  federated /search   p50 {fed50:7.1f} ms   p95 {fed95:7.1f} ms")
    print(f"  single provider     p50 {one50:7.1f} ms")
    print(f"  ratio federated/single (p50) {fed50 / one50:.2f}   (sequential would be >= 4)")
    return figures


if __name__ == "__main__":
    run()
