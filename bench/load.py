"""A closed-loop HTTP load generator: N workers, each sending its next request when the
previous one is answered, over kept-alive connections."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.util import p50


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
