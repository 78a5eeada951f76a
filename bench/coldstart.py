"""Sandbox cold start: ``bridge serve --sandbox`` from process start to the first 200 of
``GET /``, on a fresh data directory (migrations included), best and median of a few runs.

The client polls every 10 ms, so the figure is within 10 ms of the moment the bridge
could first answer. Also: when ``GET /sandbox`` first shows every simulator answering
(the simulators run in their own process and may come up later than the bridge).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.live import OUTPUT, free_port
from bench.util import header, p50

TARGET_S = 2.0
RUNS = 5
POLL_S = 0.01


def _first_200(url: str, proc: subprocess.Popen[bytes], started: float) -> float:
    with httpx.Client(timeout=2) as client:
        while True:
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"bridge serve exited with {proc.returncode}")
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"{url} did not answer 200 within 60 s")
            time.sleep(POLL_S)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (its children not included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _simulators_up(root: str, started: float) -> float:
    """Seconds until every simulator in ``/sandbox`` answers at its base URL."""
    with httpx.Client(timeout=2) as client:
        sims = client.get(root + "sandbox").json()["providers"]
        for sim in sims.values():
            while True:
                try:
                    client.get(sim["base_url"])
                    break
                except httpx.TransportError:
                    time.sleep(POLL_S)
    return time.perf_counter() - started


def once() -> tuple[float, float, float]:
    """One cold start: seconds to the first 200 of GET /, the bridge process's CPU seconds
    by then (steadier than wall time on a shared machine), seconds until simulators answer."""
    port = free_port()
    exe = Path(sys.executable).with_name("bridge")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bridge.cli"]
    data_dir = OUTPUT / "coldstart-data" / str(port)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), "--sandbox"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "BRIDGE_DATA_DIR": str(data_dir)},
    )
    root = f"http://127.0.0.1:{port}/"
    try:
        first = _first_200(root, proc, started)
        cpu = _cpu_s(proc.pid)
        sims = _simulators_up(root, started)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(data_dir, ignore_errors=True)
    return first, cpu, sims


def run() -> dict[str, float]:
    """Measure and print the cold-start figures."""
    header(f"sandbox cold start: bridge serve --sandbox to the first 200 of GET /, {RUNS} runs")
    runs = [once() for _ in range(RUNS)]
    firsts = [f for f, _, _ in runs]
    figures = {
        "coldstart_best_s": min(firsts),
        "coldstart_p50_s": p50(firsts),
        "coldstart_cpu_p50_s": p50([c for _, c, _ in runs]),
        "simulators_up_p50_s": p50([s for _, _, s in runs]),
    }
    verdict = "met" if figures["coldstart_p50_s"] <= TARGET_S else "missed"
    print(
        f"  first 200 of GET /: median {figures['coldstart_p50_s']:.2f} s,"
        f" best {figures['coldstart_best_s']:.2f} s (target <= {TARGET_S:g} s: {verdict})"
    )
    print(f"  bridge process CPU by then: median {figures['coldstart_cpu_p50_s']:.2f} s")
    print(f"  every simulator answering: median {figures['simulators_up_p50_s']:.2f} s")
    return figures


if __name__ == "__main__":
    run()
