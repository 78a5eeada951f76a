"""The four targets ``make bench`` reports on (GitHub issue 11), judged from the figures
the benchmarks return, and printed together: the bridge's CPU per item first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Figures = Mapping[str, float]


@dataclass(frozen=True)
class Target:
    """One target: which benchmark measures it, and how its figure reads."""

    bench: str
    label: str
    figure: Callable[[Figures], float]
    limit: float
    unit: str
    met: Callable[[float, float], bool] = lambda value, limit: value <= limit


def _memory_growth(f: Figures) -> float:
    # Flat: once the bounded caches are full, the last pages' RSS within 10 % of the RSS
    # then (as bench/memory.py says).
    return abs(f["rss_last_mib"] - f["rss_warm_mib"]) / f["rss_warm_mib"] * 100


TARGETS = [
    Target(
        "cpu",
        "bridge CPU per item as served",
        lambda f: f["cpu_us_per_item_gc-tuned"],
        50.0,
        "us",
    ),
    Target("fanout", "fan-out ratio federated/single p50", lambda f: f["ratio_p50"], 1.3, ""),
    Target(
        "coldstart",
        "sandbox cold start to the first 200 (median)",
        lambda f: f["coldstart_p50_s"],
        2.0,
        "s",
    ),
    Target("memory", "memory growth while paging (caches full)", _memory_growth, 10.0, "%"),
]


def summary(results: Mapping[str, Figures]) -> list[str]:
    """One line per target, the CPU-per-item headline first; a target whose benchmark did
    not run (or failed) says so."""
    lines = []
    for t in TARGETS:
        figures = results.get(t.bench)
        if figures is None:
            lines.append(f"  {t.label:<46} not measured (python -m bench {t.bench})")
            continue
        value = t.figure(figures)
        verdict = "met" if t.met(value, t.limit) else "MISSED"
        lines.append(
            f"  {t.label:<46} {value:8.2f} {t.unit:<2} (target <= {t.limit:g} {t.unit}): {verdict}"
        )
    return lines
