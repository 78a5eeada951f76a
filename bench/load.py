"""``python -m bench load``: the bridge under a mix of searches from many clients.

``bridge serve --sandbox`` runs as a subprocess on a free loopback port with its own
data folder and API key, every simulator answering after 150 ms. Closed-loop clients
(8, 64 and 256 by default, 60 s each; :mod:`bench.load_gen`, in a process of their own)
send a mix of bbox, two-collection ``limit=100``, unpushable CQL2 ``OR`` + ``sortby`` and
point searches (:mod:`bench.load_mix`), with 1 and 2 workers when ``bridge serve`` takes
``--workers``; then a 64-client soak reads each worker's RSS every minute. It prints
req/s, p50/p95/p99, errors by status, dropped connections, partial answers, the CPU the
generator used, and the figures against the targets of issue 9; it asserts nothing.
``--quick`` is a smoke run of a few seconds per step. Options: ``--help``.

:func:`closed_loop` is the small httpx load helper other benchmarks use.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from bench.load_procs import machine
from bench.load_report import HEAD, describe_tree, generator_cost, row, rss_lines, targets
from bench.load_run import LoadPlan, Measured, Soak, measure, soak
from bench.load_server import accepts_workers, bridge_server
from bench.util import header, p50


async def _closed_loop(
    url: str,
    params: Callable[[int], dict[str, Any]],
    concurrency: int,
    min_requests: int,
    min_seconds: float,
    max_seconds: float,
) -> dict[str, float]:
    counter = itertools.count()
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Accept-Encoding": "gzip"}
    async with httpx.AsyncClient(timeout=300, limits=limits, headers=headers) as client:
        started = time.perf_counter()

        def more() -> bool:
            elapsed = time.perf_counter() - started
            done = len(latencies) + len(errors)
            return elapsed < max_seconds and (done < min_requests or elapsed < min_seconds)

        async def worker() -> None:
            while more():
                sent = time.perf_counter()
                try:
                    resp = await client.get(url, params=params(next(counter)))
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                if resp.status_code == 200 and not resp.headers.get("X-Bridge-Partial"):
                    latencies.append((time.perf_counter() - sent) * 1000)
                    sizes.append(len(resp.content))
                else:
                    errors.append(f"{resp.status_code} {resp.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if not latencies:
        raise RuntimeError(f"no successful request to {url}: {errors[:3]}")
    return {
        "p50_ms": p50(latencies),
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "errors": len(errors),
        "bytes": p50([float(s) for s in sizes]),
    }


def closed_loop(
    url: str,
    params: Callable[[int], dict[str, Any]],
    concurrency: int,
    min_requests: int = 5,
    min_seconds: float = 5.0,
    max_seconds: float = 120.0,
) -> dict[str, float]:
    """Load ``url`` with ``params(k)`` for the k-th request; p50 latency and requests/s."""
    return asyncio.run(
        _closed_loop(url, params, concurrency, min_requests, min_seconds, max_seconds)
    )


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options of ``python -m bench load``."""
    p = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.split("\n")[0])
    p.add_argument("--levels", type=_ints, default=[8, 64, 256], help="concurrent clients")
    p.add_argument("--duration", type=float, help="seconds per level (60; quick: 3)")
    p.add_argument("--workers", type=_ints, default=[1, 2], help="bridge worker counts")
    p.add_argument("--soak", type=float, help="soak seconds, 0: none (300; quick: 5)")
    p.add_argument("--soak-clients", type=int, default=64)
    p.add_argument("--warmup", type=float, help="seconds of 8 clients first (10; quick: 1)")
    p.add_argument("--delay-ms", type=float, default=150.0, help="simulator latency")
    p.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    p.add_argument("--generators", type=int, default=1, help="load generator processes")
    p.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="extra server setting"
    )
    p.add_argument("--quick", action="store_true", help="smoke run: a few seconds per step")
    opts = p.parse_args(argv)
    # --quick changes the defaults only: explicit options still win.
    for name, full, quick in (("duration", 60.0, 3.0), ("soak", 300.0, 5.0), ("warmup", 10.0, 1.0)):
        if getattr(opts, name) is None:
            setattr(opts, name, quick if opts.quick else full)
    if min([*opts.levels, *opts.workers, opts.generators, opts.soak_clients], default=0) < 1:
        p.error("levels, workers, generators and soak clients must be >= 1")
    if min(opts.duration, opts.timeout) <= 0 or min(opts.soak, opts.warmup, opts.delay_ms) < 0:
        p.error("duration and timeout must be > 0; soak, warmup and delay >= 0")
    if any("=" not in e for e in opts.env):
        p.error("--env takes NAME=VALUE")
    opts.env = [tuple(e.split("=", 1)) for e in opts.env]
    return opts


def _with_workers(
    opts: argparse.Namespace,
    plan: LoadPlan,
    workers: int | None,
    soak_s: float,
    results: dict[tuple[int, int], Measured],
) -> Soak | None:
    """Every level against one server (``workers=None``: without ``--workers``), then the
    soak when ``soak_s`` > 0; figures go into ``results`` as they come."""
    shown = workers or 1
    with bridge_server(workers, opts.delay_ms, plan.api_key, dict(opts.env)) as server:
        tree = server.tree()
        print(f"\n  workers={shown}: processes\n{describe_tree(tree)}")
        if len(tree.workers) != shown:
            # The simulator process is told apart by its command line only.
            print(f"  !! {len(tree.workers)} worker processes found for {shown} requested")
        if opts.warmup > 0:
            measure(server, plan, 8, opts.warmup)
        print(HEAD, flush=True)
        for clients in opts.levels:
            results[(shown, clients)] = measure(server, plan, clients, opts.duration)
            print(row(shown, results[(shown, clients)]), flush=True)
        if soak_s <= 0:
            return None
        print(f"  soak: {opts.soak_clients} clients for {soak_s:g} s", flush=True)
        soaked = soak(server, plan, opts.soak_clients, soak_s)
        assert soaked.measured is not None
        print(row(shown, soaked.measured))
        print("\n".join(rss_lines(soaked)), flush=True)
        return soaked


def run(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Measure and print the load figures (``argv``: the options, see :func:`parse`)."""
    opts = parse(argv)
    header(f"load: bridge serve --sandbox, simulators at {opts.delay_ms:g} ms, mixed searches")
    print(f"  machine: {machine()}")
    takes_workers = accepts_workers()
    counts = sorted(set(opts.workers))
    if not takes_workers:
        print("  bridge serve does not accept --workers in this checkout: workers=1 only")
        counts = [1]
    plan = LoadPlan(opts.timeout, opts.generators, secrets.token_urlsafe(24))
    print(
        f"  {opts.duration:g} s per level after {opts.warmup:g} s of warm-up; request timeout"
        f" {opts.timeout:g} s; {opts.generators} generator process(es) (asyncio, raw HTTP/1.1"
        " keep-alive); CPU columns in % of one core"
    )
    results: dict[tuple[int, int], Measured] = {}
    soaked: Soak | None = None
    failed: list[int] = []
    for workers in counts:
        soak_s = opts.soak if workers == counts[-1] else 0.0
        try:
            soaked = _with_workers(opts, plan, workers if takes_workers else None, soak_s, results)
        except RuntimeError as exc:  # e.g. the server did not start: the others still run
            print(f"  !! workers={workers} failed: {exc}", flush=True)
            failed.append(workers)
    measured = [*results.values(), *([soaked.measured] if soaked and soaked.measured else [])]
    print(generator_cost(measured))
    print("  targets:")
    print("\n".join(targets(results, soaked)), flush=True)
    if failed:
        raise RuntimeError(f"no figures for workers={failed} (see above)")
    return {f"w{w}_c{c}_rps": m.stats.ok_rps for (w, c), m in results.items()}


if __name__ == "__main__":
    run()
