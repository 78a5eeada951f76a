"""Start and stop a real ``bridge serve`` (sandbox mode) for benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_bridge(env: dict[str, str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (root URL, /sandbox document) of a sandbox bridge on a free port."""
    port = free_port()
    exe = Path(sys.executable).with_name("bridge")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bridge.cli"]
    proc = subprocess.Popen(
        [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), "--sandbox"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    root = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(root, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("bridge serve did not start")
            time.sleep(0.2)
        yield root, httpx.get(root + "sandbox", timeout=5).json()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
