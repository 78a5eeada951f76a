"""Figures of one load level from what the generators saw (pure functions)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from bench.load_gen import GenResult
from bench.load_mix import KINDS


def nearest_rank(values: list[float], q: float) -> float:
    """The ``q`` quantile (0 < q <= 1) by nearest rank: the smallest value with at least a
    share ``q`` of all values at or below it; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class LevelStats:
    """The figures of one level: throughput, latency of 2xx answers, errors, cost."""

    clients: int
    duration_s: float
    ok_rps: float = 0.0
    answers: int = 0
    ok: int = 0
    p50_ms: float = math.nan
    p95_ms: float = math.nan
    p99_ms: float = math.nan
    kind_p50_ms: dict[str, float] = field(default_factory=dict)
    partial: int = 0
    errors: Counter[int] = field(default_factory=Counter)  # non-2xx status -> count
    dropped: Counter[str] = field(default_factory=Counter)  # transport error -> count
    timeouts: int = 0
    samples: dict[int, str] = field(default_factory=dict)  # status -> an error body
    gen_cpu_s: float = 0.0

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status."""
        return sum(n for status, n in self.errors.items() if status >= 500)

    @property
    def dropped_total(self) -> int:
        """Requests lost to a transport error (reset, refused, cut short)."""
        return sum(self.dropped.values())


def summarize(results: list[GenResult], clients: int, duration_s: float) -> LevelStats:
    """Merge the generators' results of one level into its figures.

    Throughput is 2xx answers per second from the start to the last answer (requests
    still in flight at the end of the duration are waited for, and counted: dropping
    them would flatter the tail); latencies cover every 2xx answer.
    """
    stats = LevelStats(clients, duration_s)
    latencies: list[float] = []
    by_kind: dict[int, list[float]] = {}
    last_s = duration_s
    for result in results:
        stats.dropped.update(result.transport)
        stats.timeouts += result.timeouts
        stats.gen_cpu_s += result.cpu_s
        stats.samples = {**result.samples, **stats.samples}
        for a in result.answers:
            stats.answers += 1
            if not 200 <= a.status < 300:
                stats.errors[a.status] += 1
                continue
            latencies.append(a.latency_ms)
            by_kind.setdefault(a.kind, []).append(a.latency_ms)
            stats.partial += a.partial
            last_s = max(last_s, a.done_s)
    stats.ok = len(latencies)
    stats.ok_rps = len(latencies) / last_s if last_s > 0 else math.nan
    stats.p50_ms = nearest_rank(latencies, 0.50)
    stats.p95_ms = nearest_rank(latencies, 0.95)
    stats.p99_ms = nearest_rank(latencies, 0.99)
    stats.kind_p50_ms = {KINDS[k]: nearest_rank(v, 0.5) for k, v in sorted(by_kind.items())}
    return stats
