"""Printing the load figures, and comparing them with the targets of issue 9.

Targets: 0 5xx and 0 dropped connections at every level; 2 workers >= 1.7x the
throughput of 1; p99 <= 3x p50 at 64 clients; RSS at the end of the soak (5 minutes)
within 15 % of RSS at its first mark (1 minute).
"""

from __future__ import annotations

import math
import os

from bench.load_procs import Tree, all_procs
from bench.load_run import Measured, Soak

SPEEDUP_TARGET = 1.7
TAIL_TARGET = 3.0
TAIL_CLIENTS = 64
RSS_DRIFT_TARGET = 0.15

HEAD = (
    "  workers clients  req/s   p50 ms   p95 ms   p99 ms  partial  non-2xx  5xx  dropped"
    "  timeouts  gen CPU  bridge CPU  sim CPU"
)


def _pct(cpu: float, wall: float) -> str:
    return f"{100 * cpu / wall:.1f}%" if wall > 0 else "-"


def describe_tree(tree: Tree) -> str:
    """One line per process of the tree, with its role."""
    procs = all_procs()
    roles = [(tree.root, "bridge serve" + (" (supervisor)" if tree.supervised else ""))]
    roles += [(p, "worker") for p in tree.workers if p != tree.root]
    roles += [(p, "simulators") for p in tree.simulators]
    roles += [(p, "helper") for p in tree.helpers]
    lines = []
    for pid, role in roles:
        cmd = procs[pid].cmdline if pid in procs else "(gone)"
        lines.append(f"    pid {pid:<7} {role:<25} {cmd[:90]}")
    if not tree.simulators:
        lines.append("    (no simulator process: the simulators run inside the bridge process)")
    return "\n".join(lines)


def row(workers: int, m: Measured) -> str:
    """The table row of one level, and a line of per-kind medians and errors."""
    s = m.stats
    line = (
        f"  {workers:>7} {s.clients:>7} {s.ok_rps:>6.1f} {s.p50_ms:>8.0f} {s.p95_ms:>8.0f}"
        f" {s.p99_ms:>8.0f} {s.partial:>8} {sum(s.errors.values()):>8} {s.server_errors:>4}"
        f" {s.dropped_total:>8} {s.timeouts:>9} {_pct(s.gen_cpu_s, m.wall_s):>8}"
        f" {_pct(m.worker_cpu_s, m.wall_s):>11} {_pct(m.simulator_cpu_s, m.wall_s):>8}"
    )
    kinds = ", ".join(f"{k} {v:.0f}" for k, v in s.kind_p50_ms.items())
    detail = f"\n{'':18}p50 ms by kind: {kinds}; {s.ok} 2xx of {s.answers} answers"
    if s.errors:
        detail += f"; by status {dict(sorted(s.errors.items()))}"
    if s.dropped:
        detail += f"; transport errors {dict(s.dropped)}"
    if m.rss_kib:
        rss = ", ".join("gone" if v is None else f"{v / 1024:.0f}" for v in m.rss_kib.values())
        detail += f"; RSS MiB per worker at the end: {rss}"
    for status, text in sorted(s.samples.items()):
        detail += f"\n{'':18}first {status}: {' '.join(text.split())[:160]}"
    for text, n in m.exceptions.most_common(5):
        detail += f"\n{'':18}server log: {n}x {text}"
    return line + detail


def generator_cost(results: list[Measured]) -> str:
    """How much CPU the load generator took: it must not be the bottleneck."""
    shares = [m.stats.gen_cpu_s / m.wall_s for m in results if m.wall_s > 0]
    if not shares:
        return "  load generator: no level measured"
    cores = len(os.sched_getaffinity(0))
    return (
        f"  load generator CPU: at most {max(shares):.1%} of one core at any level"
        f" ({max(shares) / cores:.1%} of this machine's {cores} cores)"
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def rss_lines(result: Soak) -> list[str]:
    """RSS per worker at each soak mark, and the drift from the first mark to the last."""
    lines = []
    marks = ", ".join(f"{m:.3g} s" for m in result.marks_s)
    for pid, values in result.rss_kib.items():
        shown = ", ".join("gone" if v is None else f"{v / 1024:.0f}" for v in values)
        lines.append(f"    worker {pid}: RSS MiB at {marks}: {shown}")
    return lines


def targets(results: dict[tuple[int, int], Measured], soak: Soak | None) -> list[str]:
    """One line per target: the figures against it and the verdict."""
    levels = list(results.values())
    if soak is not None and soak.measured is not None:
        levels.append(soak.measured)
    if not levels:
        return ["  n/a: no level was measured", _rss_target(soak)]
    return [
        _errors_target(levels),
        _speedup_target(results),
        _tail_target(results),
        _rss_target(soak),
    ]


def _errors_target(levels: list[Measured]) -> str:
    five = sum(m.stats.server_errors for m in levels)
    dropped = sum(m.stats.dropped_total + m.stats.timeouts for m in levels)
    return (
        f"  0 5xx and 0 dropped at every level (soak included): {five} 5xx,"
        f" {dropped} dropped or timed out => {_verdict(five == 0 and dropped == 0)}"
    )


def _speedup_target(results: dict[tuple[int, int], Measured]) -> str:
    label = f"  2 workers >= {SPEEDUP_TARGET}x the throughput of 1"
    ratios = []
    for (workers, clients), two in sorted(results.items()):
        one = results.get((1, clients))
        if workers == 2 and one is not None:
            rps = one.stats.ok_rps
            ratios.append((clients, two.stats.ok_rps / rps if rps else math.nan))
    if not ratios:
        return f"{label}: n/a (2 workers not measured)"
    shown = ", ".join(f"{c} clients {r:.2f}x" for c, r in ratios)
    return f"{label}: {shown} => {_verdict(all(r >= SPEEDUP_TARGET for _, r in ratios))}"


def _tail_target(results: dict[tuple[int, int], Measured]) -> str:
    label = f"  p99 <= {TAIL_TARGET:g}x p50 at {TAIL_CLIENTS} clients"
    tails = [
        (w, m.stats.p99_ms / m.stats.p50_ms)
        for (w, c), m in sorted(results.items())
        if c == TAIL_CLIENTS
    ]
    if not tails:
        return f"{label}: n/a (level not run)"
    shown = ", ".join(f"{w} worker(s) {r:.2f}x" for w, r in tails)
    return f"{label}: {shown} => {_verdict(all(r <= TAIL_TARGET for _, r in tails))}"


def _rss_target(soak: Soak | None) -> str:
    if soak is None:
        return f"  RSS drift within {RSS_DRIFT_TARGET:.0%} in the soak: n/a (no soak)"
    first_s, last_s = soak.marks_s[0], soak.marks_s[-1]
    label = f"  RSS at {last_s:g} s within {RSS_DRIFT_TARGET:.0%} of RSS at {first_s:g} s"
    drifts = []
    for pid, values in soak.rss_kib.items():
        first, last = values[0], values[-1]
        if first is None or last is None:
            return f"{label}: worker {pid} was replaced during the soak => NOT met"
        drifts.append((pid, (last - first) / first))
    shown = ", ".join(f"worker {pid} {d:+.1%}" for pid, d in drifts)
    return f"{label}: {shown} => {_verdict(all(abs(d) <= RSS_DRIFT_TARGET for _, d in drifts))}"
