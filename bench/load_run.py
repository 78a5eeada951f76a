"""One load level, and the RSS soak, against a running ``bridge serve``."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.load_gen import GenConfig, GenResult, Running, start
from bench.load_procs import all_procs, cpu_s, rss_kib
from bench.load_server import Server
from bench.load_stats import LevelStats, summarize

RESULT_GRACE_S = 60.0  # beyond duration + request timeout, for the result to come back
_RUNS = itertools.count()  # each run starts elsewhere in the mix: no cache hits across runs


@dataclass(frozen=True)
class LoadPlan:
    """How to load: request timeout, generator processes, and the server's API key."""

    timeout_s: float
    generators: int
    api_key: str


@dataclass
class Measured:
    """A level's figures, and the CPU the bridge's workers and simulators used meanwhile."""

    stats: LevelStats
    wall_s: float
    worker_cpu_s: float
    simulator_cpu_s: float
    rss_kib: dict[int, int | None] = field(default_factory=dict)  # per worker, at the end
    exceptions: Counter[str] = field(default_factory=Counter)  # in the server's log


def split(clients: int, parts: int) -> list[int]:
    """``clients`` spread over at most ``parts`` generators, none empty."""
    parts = max(1, min(parts, clients))
    return [clients // parts + (i < clients % parts) for i in range(parts)]


def _start(server: Server, plan: LoadPlan, clients: int, duration_s: float) -> list[Running]:
    base = next(_RUNS) * 10_000_000
    running: list[Running] = []
    try:
        for i, n in enumerate(split(clients, plan.generators)):
            first_k = base + i * 1_000_000
            cfg = GenConfig(
                server.host, server.port, plan.api_key, n, duration_s, plan.timeout_s, first_k
            )
            running.append(start(cfg))
    except BaseException:
        for r in running:
            r.stop()
        raise
    return running


def _collect(running: list[Running], duration_s: float, timeout_s: float) -> list[GenResult]:
    deadline = time.monotonic() + duration_s + timeout_s + RESULT_GRACE_S
    try:
        return [r.result(max(1.0, deadline - time.monotonic())) for r in running]
    finally:
        for r in running:
            r.stop()


def measure(server: Server, plan: LoadPlan, clients: int, duration_s: float) -> Measured:
    """Load ``server`` with ``clients`` closed-loop clients for ``duration_s``."""
    tree = server.tree()
    before, log_at = all_procs(), server.log_size()
    t0 = time.perf_counter()
    results = _collect(_start(server, plan, clients, duration_s), duration_s, plan.timeout_s)
    wall = time.perf_counter() - t0
    after = all_procs()
    if server.proc.poll() is not None:
        raise RuntimeError(f"bridge serve exited ({server.proc.returncode}):\n{server.log_tail()}")
    return Measured(
        summarize(results, clients, duration_s),
        wall,
        cpu_s(after, tree.workers) - cpu_s(before, tree.workers),
        cpu_s(after, tree.simulators) - cpu_s(before, tree.simulators),
        {pid: rss_kib(pid) for pid in tree.workers},
        server.exceptions_since(log_at),
    )


@dataclass
class Soak:
    """RSS per worker (KiB) at each mark of a soak, and the level's figures."""

    marks_s: list[float]
    rss_kib: dict[int, list[int | None]] = field(default_factory=dict)
    measured: Measured | None = None


def soak(server: Server, plan: LoadPlan, clients: int, soak_s: float, marks: int = 5) -> Soak:
    """Load ``server`` for ``soak_s`` and read each worker's RSS ``marks`` times, evenly
    spaced, the last at ``soak_s`` (1, 2, ... 5 minutes of a 5-minute soak)."""
    result = Soak([soak_s * (i + 1) / marks for i in range(marks)])
    workers = server.tree().workers
    result.rss_kib = {pid: [] for pid in workers}
    before, log_at = all_procs(), server.log_size()
    t0 = time.perf_counter()
    # One second more than the last mark, so the last reading is taken under load.
    running = _start(server, plan, clients, soak_s + 1.0)
    try:
        for mark in result.marks_s:
            time.sleep(max(0.0, t0 + mark - time.perf_counter()))
            for pid in workers:
                result.rss_kib[pid].append(rss_kib(pid))
    except BaseException:
        for r in running:
            r.stop()
        raise
    results = _collect(running, soak_s + 1.0, plan.timeout_s)
    after = all_procs()
    sims = server.tree().simulators
    result.measured = Measured(
        summarize(results, clients, soak_s + 1.0),
        time.perf_counter() - t0,
        cpu_s(after, workers) - cpu_s(before, workers),
        cpu_s(after, sims) - cpu_s(before, sims),
        exceptions=server.exceptions_since(log_at),
    )
    return result
