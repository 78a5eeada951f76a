"""``bridge serve``: the bridge in one or more worker processes, and in sandbox mode every
provider simulator in a process of its own.

Sockets are bound before anything is built, so ports are known up front and a busy port
fails at once. Each simulator gets its own loopback port (provider SDKs assume an API at
the root of a host); they are passed by file descriptor to ``python -m bridge.simulators``.
With ``--workers N`` (N > 1), uvicorn's process supervisor runs N workers on the bridge's
socket and replaces any that dies; each worker builds its app from the environment
(:func:`bridge.app.create_app_from_env`, or in sandbox mode
:func:`bridge.sandbox.create_app_from_env`), where this process has put the simulators'
URLs and the demo key. State the workers must agree on lives in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

import orjson
import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.supervisors import Multiprocess

from bridge import registry
from bridge.api import browser
from bridge.db.engine import Database
from bridge.orders.ledger import OrderLedger
from bridge.settings import Settings
from bridge.tasking.ledger import TaskingLedger

APP_FACTORY = "bridge.app:create_app_from_env"
# Sandbox workers wire their adapters to the simulators: production code never does.
SANDBOX_APP_FACTORY = "bridge.sandbox:create_app_from_env"
log = logging.getLogger("bridge.server")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without, every response after the first on a
    # kept-alive connection waits ~40 ms for Nagle's algorithm.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(host: str, sock: socket.socket) -> str:
    """The http URL of a bound socket."""
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@dataclass
class Plan:
    """What one ``bridge serve`` runs, and what to tell the user."""

    sock: socket.socket
    root: str
    workers: int = 1
    simulators: dict[str, str] = field(default_factory=dict)
    simulator_sockets: dict[str, socket.socket] = field(default_factory=dict)
    api_key: str | None = None
    browser_built: bool = False


def plan(settings: Settings, host: str, port: int) -> Plan:
    """Bind every socket ``bridge serve`` needs."""
    sock = bind(host, port)
    p = Plan(sock=sock, root=url_of(host, sock) + "/", workers=settings.workers)
    p.browser_built = browser.is_built(settings)
    if settings.sandbox_enabled() and settings.simulators.urls:
        # Simulators someone else runs (e.g. a second replica of one sandbox).
        p.simulators = dict(settings.simulators.urls)
    elif settings.sandbox_enabled():
        base = settings.simulators.base_port
        for i, name in enumerate(registry.simulator_names()):
            sim = bind(settings.simulators.host, base + i if base else 0)
            p.simulator_sockets[name] = sim
            p.simulators[name] = url_of(settings.simulators.host, sim)
    if p.simulators:
        key = settings.sandbox_api_key
        p.api_key = key.get_secret_value() if key else secrets.token_urlsafe(24)
    return p


def worker_environment(p: Plan) -> dict[str, str]:
    """The ``BRIDGE_*`` variables that make a worker's app match this plan."""
    env = {"BRIDGE_SANDBOX": "true" if p.simulators else "false"}
    if p.simulators:
        env["BRIDGE_SIMULATORS__URLS"] = orjson.dumps(p.simulators).decode()
        assert p.api_key is not None
        env["BRIDGE_SANDBOX_API_KEY"] = p.api_key
    return env


@contextlib.contextmanager
def simulator_process(p: Plan) -> Iterator[subprocess.Popen[bytes] | None]:
    """Run the sandbox's simulators in a process of their own while the block runs."""
    if not p.simulator_sockets:
        yield None
        return
    fds = {name: s.fileno() for name, s in p.simulator_sockets.items()}
    cmd = [sys.executable, "-m", "bridge.simulators", *(f"{n}={fd}" for n, fd in fds.items())]
    proc = subprocess.Popen(cmd, pass_fds=list(fds.values()))
    for s in p.simulator_sockets.values():
        s.close()  # the simulator process has its own copies; the kernel queues meanwhile
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def forget_sandbox_orders(settings: Settings) -> None:
    """Simulators start empty: orders an earlier sandbox left cannot be fulfilled.

    Done once here, before any worker starts (a worker replaced later must not wipe the
    orders of the running sandbox).
    """
    db = Database(settings.database())
    try:
        if forgotten := await OrderLedger(db).forget_all():
            log.warning("sandbox: cleared %d orders left by an earlier sandbox run", forgotten)
        if tasked := await TaskingLedger(db).forget_all():
            log.warning("sandbox: cleared %d tasking orders of an earlier sandbox run", tasked)
    finally:
        await db.close()


@contextlib.contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, a folder where they all keep their Prometheus values, so
    ``/metrics`` (answered by any one of them) counts for all of them."""
    if workers == 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="bridge-metrics-") as folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        try:
            yield
        finally:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def banner(p: Plan, out: TextIO) -> None:
    """Tell the user where everything is."""
    print(f"bridge STAC API      {p.root}", file=out)
    print(f"API docs             {p.root}api.html", file=out)
    print(f"OpenAPI              {p.root}api", file=out)
    shown = "" if p.browser_built else "  (not built: open it to see how)"
    print(f"stac-browser         {p.root}browser/{shown}", file=out)
    if p.workers > 1:
        print(f"workers              {p.workers}", file=out)
    if p.simulators:
        print(f"sandbox details      {p.root}sandbox", file=out)
        for name, url in p.simulators.items():
            print(f"simulator {name:<10} {url}", file=out)
        print(f"demo API key         {p.api_key}", file=out)
    out.flush()


def app_factory(p: Plan) -> str:
    """The ``module:function`` that builds a worker's app for this plan."""
    return SANDBOX_APP_FACTORY if p.simulators else APP_FACTORY


def _serve_workers(p: Plan) -> None:
    """N workers under uvicorn's supervisor, which replaces any worker that dies."""
    config = uvicorn.Config(
        app_factory(p), factory=True, workers=p.workers, log_level="info", access_log=False
    )
    Multiprocess(config, sockets=[p.sock]).run()


async def _serve_one(p: Plan) -> None:
    """One worker, in this process."""
    create_app_from_env = import_from_string(app_factory(p))
    config = uvicorn.Config(create_app_from_env(), log_level="info", access_log=False)
    server = uvicorn.Server(config)

    def stop() -> None:
        server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
    await server._serve(sockets=[p.sock])


def serve(settings: Settings, host: str, port: int, out: TextIO = sys.stdout) -> None:
    """Plan, print the banner, and serve until SIGINT/SIGTERM."""
    p = plan(settings, host, port)
    # Workers (spawned, or this process) read their settings from the environment.
    os.environ.update(worker_environment(p))
    with simulator_process(p), _shared_metrics(p.workers):
        if p.simulator_sockets:
            asyncio.run(forget_sandbox_orders(settings))
        banner(p, out)
        if p.workers > 1:
            _serve_workers(p)
        else:
            asyncio.run(_serve_one(p))
