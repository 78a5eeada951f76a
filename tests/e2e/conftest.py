"""A real ``bridge serve`` in sandbox mode on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
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
import pytest

DEMO_KEY = "e2e-demo-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveBridge:
    root: str
    sandbox: dict[str, Any]
    log: Path

    def simulator(self, name: str) -> str:
        return str(self.sandbox["providers"][name]["base_url"])


# Sandbox orders progress in fractions of a second in tests (default: seconds).
FAST_ORDERS = {
    f"BRIDGE_SIMULATORS__EXTRA__{name.upper()}_ORDER_STEP_S": "0.2"
    for name in ("arlula", "capella", "iceye", "satellogic")
}


@contextmanager
def start_bridge(log: Path, env: dict[str, str], *args: str) -> Iterator[LiveBridge]:
    """Run `bridge serve` on a free port with ``env`` until the block ends."""
    port = free_port()
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    exe = Path(sys.executable).with_name("bridge")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bridge.cli"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    root = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
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
        yield LiveBridge(root, sandbox.json() if sandbox.status_code == 200 else {}, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def live_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    log = tmp_path_factory.mktemp("bridge") / "serve.log"
    env = {"BRIDGE_SANDBOX_API_KEY": DEMO_KEY, **FAST_ORDERS}
    os.environ.pop("BRIDGE_SANDBOX", None)
    with start_bridge(log, env) as bridge:
        yield bridge
