"""Fan-out: a federated /search over four providers with 100 ms injected latency each,
against single-provider searches under the same latency.

A sequential fan-out would take >= 4x a single search; a concurrent one about as long
as the slowest provider. Every search has its own datetime end (one day apart), so no
native page comes from the bridge's page cache or an adapter's result cache (checked
with the simulators' request counters). Federated and single-provider searches are
interleaved, so drift hits both alike. Two set-ups: ``bridge serve --sandbox`` (as ``make run``:
the simulators in a process of their own), and a second bridge without sandbox mode,
configured as for real providers and pointed at those simulators.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx

from bench.live import Live, live_bridge
from bench.util import header, p50, percentile

ROUNDS = 25
WARMUP = 3
DELAY_MS = 100
BBOX = [0.0, 45.0, 15.0, 55.0]  # central Europe: scenes in every archive (Arlula: ~270)


def _native_requests(client: httpx.Client, live: Live) -> int:
    total = 0
    for name in live.sandbox["providers"]:
        stats = client.get(live.simulator(name)["stats"]).json()
        total += sum(n for route, n in stats["requests"].items() if "token" not in route)
    return total


def _search(client: httpx.Client, root: str, k: int, collections: list[str] | None) -> float:
    end = date(2026, 6, 30) - timedelta(days=k)
    body: dict[str, Any] = {"bbox": BBOX, "datetime": f"2020-01-01T00:00:00Z/{end}T23:59:59Z"}
    body["limit"] = 10
    if collections:
        body["collections"] = collections
    started = time.perf_counter()
    resp = client.post(root + "search", json=body)
    elapsed = (time.perf_counter() - started) * 1000
    resp.raise_for_status()
    if resp.headers.get("X-Bridge-Partial"):
        raise RuntimeError(f"partial answer: {resp.json()['bridge:providers']}")
    return elapsed


def measure(live: Live) -> dict[str, Any]:
    """Federated and per-provider single searches, interleaved; timings in ms."""
    with httpx.Client(timeout=30) as client:
        names = list(live.sandbox["providers"])
        all_ids = [c["id"] for c in client.get(live.root + "collections").json()["collections"]]
        own = {n: [c for c in all_ids if c.startswith(n + "-")] for n in names}
        for name in names:
            client.post(live.simulator(name)["faults"], json={"delay_ms": DELAY_MS})
        k = 0
        federated: list[float] = []
        single: dict[str, list[float]] = {n: [] for n in names}
        before = 0
        for r in range(WARMUP + ROUNDS):
            if r == WARMUP:
                before = _native_requests(client, live)
            k += 1
            t = _search(client, live.root, k, None)
            if r >= WARMUP:
                federated.append(t)
            for name in names[r % 4 :] + names[: r % 4]:
                k += 1
                t = _search(client, live.root, k, own[name])
                if r >= WARMUP:
                    single[name].append(t)
        native = _native_requests(client, live) - before
    return {"federated": federated, "single": single, "native": native}


def _report(m: dict[str, Any], label: str) -> dict[str, float]:
    fed, single = m["federated"], m["single"]
    pooled = [t for ts in single.values() for t in ts]
    slowest = max(p50(ts) for ts in single.values())
    figures = {
        "federated_p50_ms": p50(fed),
        "federated_p95_ms": percentile(fed, 0.95),
        "single_p50_ms": p50(pooled),
        "single_p95_ms": percentile(pooled, 0.95),
        "ratio_p50": p50(fed) / p50(pooled),
        "ratio_p50_vs_slowest": p50(fed) / slowest,
    }
    print(f"  [{label}]")
    print(
        f"    federated /search (4 providers)  p50 {figures['federated_p50_ms']:6.1f} ms"
        f"   p95 {figures['federated_p95_ms']:6.1f} ms"
    )
    per = "  ".join(f"{n} {p50(ts):.1f}" for n, ts in single.items())
    print(
        f"    single-provider /search          p50 {figures['single_p50_ms']:6.1f} ms"
        f"   p95 {figures['single_p95_ms']:6.1f} ms   ({per})"
    )
    expected = 4 * len(fed) + len(pooled)
    print(f"    native search requests: {m['native']} (a cache-free run needs {expected})")
    print(
        f"    ratio federated/single p50: {figures['ratio_p50']:.2f}"
        f"   (vs slowest provider {figures['ratio_p50_vs_slowest']:.2f}; target <= 1.3)"
    )
    return figures


def keepalive_rtt_ms(live: Live) -> float:
    """p50 of ``GET /`` on a kept-alive connection (the floor under every request)."""
    with httpx.Client(timeout=10) as client:
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            client.get(live.root).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return p50(timings[1:])


def run() -> dict[str, float]:
    """Measure and print the fan-out figures in both topologies."""
    header(f"fan-out: 4 providers, {DELAY_MS} ms injected latency each, {ROUNDS} rounds, limit 10")
    with live_bridge() as sandbox:
        figures = _report(measure(sandbox), "make run: bridge; 4 simulators in their own process")
        with live_bridge(upstream=sandbox) as alone:
            remote = _report(measure(alone), "bridge configured as for real providers")
        shipped = keepalive_rtt_ms(sandbox)
    with live_bridge(nodelay=True) as fixed:
        nodelay = keepalive_rtt_ms(fixed)
    figures.update({f"remote_{k}": v for k, v in remote.items()})
    figures.update({"keepalive_get_ms": shipped, "keepalive_get_nodelay_ms": nodelay})
    print(
        f"  GET / on a kept-alive connection: p50 {shipped:.1f} ms as shipped,"
        f" {nodelay:.1f} ms with TCP_NODELAY (bench/nodelay_serve.py)"
    )
    return figures


if __name__ == "__main__":
    run()
