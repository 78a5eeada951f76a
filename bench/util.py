"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p50(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def header(title: str) -> None:
    """Print a benchmark's title line."""
    print(f"\n== {title}", flush=True)
