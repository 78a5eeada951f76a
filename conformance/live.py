"""A real ``bridge serve`` on a free loopback port: for the conformance checks, the
end-to-end tests and the benchmarks (one implementation for all three)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DEMO_KEY = "conformance-demo-key"
START_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveBridge:
    """A running bridge: its root URL (ending in ``/``), demo key and ``/sandbox`` document."""

    root: str
    api_key: str
    sandbox: dict[str, Any]
    log: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    """The ``BRIDGE_*`` settings it runs with (e.g. for a CLI call on the same database)."""
    pid: int | None = None
    """The ``bridge serve`` process (its workers and simulators are its children)."""

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def simulator(self, name: str) -> str:
        """Base URL of a sandbox simulator."""
        return str(self.sandbox["providers"][name]["base_url"])


def _bridge_command() -> list[str]:
    exe = Path(sys.executable).with_name("bridge")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "bridge.cli"]


@contextmanager
def running_bridge(
    log: Path,
    api_key: str = DEMO_KEY,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = ("--sandbox",),
) -> Iterator[LiveBridge]:
    """Start ``bridge serve`` (sandbox by default) on a free loopback port; stop it on exit.

    ``env`` adds ``BRIDGE_*`` settings (e.g. a smaller ``BRIDGE_SIMULATORS__SCENES``);
    ``args`` are further ``bridge serve`` options (e.g. ``--no-sandbox``).
    """
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    # A database of its own: the sandbox's simulators keep orders in memory, so orders left
    # in a shared database by an earlier run would name native orders that no longer exist.
    data_dir = Path(tempfile.mkdtemp(prefix="bridge-data-", dir=log.parent))
    full_env = {
        **os.environ,
        "BRIDGE_SANDBOX_API_KEY": api_key,
        "BRIDGE_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }
    full_env.pop("BRIDGE_SANDBOX", None)
    full_env.update(env or {})
    cmd = [*_bridge_command(), "serve", *args, "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env)
    root = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"bridge serve exited: {log.read_text()}")
            try:
                if httpx.get(root, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bridge serve did not start: {log.read_text()}")
            time.sleep(0.2)
        sandbox = httpx.get(root + "sandbox", timeout=5)
        settings = {k: v for k, v in full_env.items() if k.startswith("BRIDGE_")}
        yield LiveBridge(
            root,
            api_key,
            sandbox.json() if sandbox.status_code == 200 else {},
            log,
            settings,
            proc.pid,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
