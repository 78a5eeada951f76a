"""Start and stop the ``bridge serve`` sandbox under load: N workers, slow simulators.

The server runs in a session of its own, so stopping it (SIGTERM, then SIGKILL after a
grace period) reaches its workers and simulator process too, also when the benchmark is
interrupted.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.live import free_port, wait_until_up
from bench.load_procs import Tree, all_procs, classify

ROOT = Path(__file__).resolve().parent.parent
SIMULATORS = ("CAPELLA", "ICEYE", "SATELLOGIC", "ARLULA")
STOP_GRACE_S = 20.0
# The last line of a Python traceback: "package.module.SomeError: message".
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b(?::.*)?$")


def exception_lines(text: str, width: int = 140) -> Counter[str]:
    """How often each exception (the last line of a traceback) appears in a log."""
    return Counter(line[:width] for line in text.splitlines() if _EXCEPTION_LINE.match(line))


def bridge_cmd() -> list[str]:
    """How to run the ``bridge`` command of this environment."""
    exe = Path(sys.executable).with_name("bridge")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "bridge.cli"]


def accepts_workers() -> bool:
    """True when ``bridge serve`` takes ``--workers`` in this checkout."""
    out = subprocess.run(
        [*bridge_cmd(), "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    return "--workers" in out.stdout


@dataclass
class Server:
    """A running ``bridge serve``: its process, address and log file."""

    proc: subprocess.Popen[bytes]
    host: str
    port: int
    log: Path

    @property
    def root(self) -> str:
        """The bridge's root URL."""
        return f"http://{self.host}:{self.port}/"

    def tree(self) -> Tree:
        """Its processes now, by role."""
        return classify(all_procs(), self.proc.pid)

    def log_size(self) -> int:
        """The log's size in bytes so far."""
        try:
            return self.log.stat().st_size
        except OSError:
            return 0

    def exceptions_since(self, offset: int) -> Counter[str]:
        """The exceptions the server logged after byte ``offset`` of its log."""
        try:
            with self.log.open("rb") as f:
                f.seek(offset)
                return exception_lines(f.read().decode(errors="replace"))
        except OSError:
            return Counter()

    def log_tail(self, lines: int = 15) -> str:
        """The end of its log (for a failure message)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            break
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)  # the session started for it: its pid is the group id
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait_s)
    with suppress(ProcessLookupError):  # workers or simulators that outlived the root
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def bridge_server(
    workers: int | None, delay_ms: float, api_key: str, extra_env: dict[str, str]
) -> Iterator[Server]:
    """A ``bridge serve --sandbox`` on a free loopback port with its own data folder;
    ``workers=None`` leaves out ``--workers`` (a checkout without the flag)."""
    host, port = "127.0.0.1", free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = {**os.environ, **extra_env}
    env["BRIDGE_DATA_DIR"] = str(data_dir)
    env["BRIDGE_SANDBOX_API_KEY"] = api_key
    # One key stands for all the clients: its limit is raised (the counting still runs).
    env.setdefault("BRIDGE_RATE_LIMITS__PER_KEY", "100000000/minute")
    for name in SIMULATORS:
        env[f"BRIDGE_SIMULATORS__FAULTS__{name}__DELAY_MS"] = f"{delay_ms:g}"
    cmd = [*bridge_cmd(), "serve", "--host", host, "--port", str(port), "--sandbox"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True
        )
    server = Server(proc, host, port, log)
    try:
        try:
            wait_until_up(server.root, proc, timeout_s=180)
            _wait_for_workers(server, workers or 1, timeout_s=60)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; log:\n{server.log_tail()}") from exc
        yield server
    finally:
        _stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_for_workers(server: Server, workers: int, timeout_s: float) -> None:
    """The root answering does not mean every worker is up: wait until all exist."""
    deadline = time.monotonic() + timeout_s
    while len(server.tree().workers) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {workers} worker processes after {timeout_s:g} s")
        time.sleep(0.5)
