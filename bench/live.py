"""Start and stop a real ``bridge serve`` (sandbox mode) for benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

OUTPUT = Path(__file__).resolve().parent / "output"


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[Any], timeout_s: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; raise if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up within {timeout_s:g} s")
        time.sleep(0.2)


def wait_for_simulators(sandbox: dict[str, Any], timeout_s: float = 120.0) -> None:
    """Wait until every simulator of a ``/sandbox`` document answers (any HTTP status).

    They run in a process of their own and build their archives at start, so they may
    come up after the bridge answers ``GET /``.
    """
    deadline = time.monotonic() + timeout_s
    for sim in sandbox["providers"].values():
        while True:
            try:
                httpx.get(sim["base_url"], timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{sim['base_url']} did not come up") from None
                time.sleep(0.2)


@dataclass
class Live:
    """A running ``bridge serve``: its root URL, ``/sandbox`` document and process id."""

    root: str
    sandbox: dict[str, Any]
    pid: int

    def simulator(self, name: str) -> dict[str, Any]:
        """The ``/sandbox`` entry of one simulator (base_url, credentials, ...)."""
        return dict(self.sandbox["providers"][name])


def provider_env(sandbox: dict[str, Any]) -> dict[str, str]:
    """``BRIDGE_PROVIDERS__*`` variables pointing a bridge at another bridge's simulators."""
    env = {}
    for name, sim in sandbox["providers"].items():
        fields = {"base_url": sim["base_url"], **sim["credentials"]}
        for field, value in fields.items():
            env[f"BRIDGE_PROVIDERS__{name.upper()}__{field.upper()}"] = str(value)
    return env


@contextmanager
def live_bridge(
    env: dict[str, str] | None = None, nodelay: bool = False, upstream: Live | None = None
) -> Iterator[Live]:
    """A ``bridge serve`` on a free port, stopped on exit.

    Sandbox mode (the simulators in a process of their own) unless ``upstream`` is given:
    then the bridge runs without sandbox mode, with real-provider settings aimed at
    ``upstream``'s simulators. ``nodelay=True`` runs it through
    :mod:`bench.nodelay_serve` (TCP_NODELAY on the listening sockets, the suggested fix).
    """
    port = free_port()
    exe = Path(sys.executable).with_name("bridge")
    if nodelay:
        cmd = [sys.executable, "-m", "bench.nodelay_serve"]
    else:
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bridge.cli"]
    data_dir = OUTPUT / "bridge-data" / str(port)  # its own SQLite file, removed on exit
    data_dir.mkdir(parents=True, exist_ok=True)
    mode = "--sandbox" if upstream is None else "--no-sandbox"
    extra = provider_env(upstream.sandbox) if upstream is not None else {}
    proc = subprocess.Popen(
        [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), mode],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "BRIDGE_DATA_DIR": str(data_dir), **extra, **(env or {})},
        cwd=Path(__file__).resolve().parent.parent,
    )
    root = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(root, proc, timeout_s=120)
        if upstream is None:
            sandbox = httpx.get(root + "sandbox", timeout=5).json()
            wait_for_simulators(sandbox)
            yield Live(root, sandbox, proc.pid)
        else:
            yield Live(root, upstream.sandbox, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a loaded machine: do not leave it running
            proc.kill()
            proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
