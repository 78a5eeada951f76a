"""``bridge serve``: the bridge, and in sandbox mode every provider simulator, in one process.

Each simulator gets its own loopback port (provider SDKs assume an API at the root of a
host). Sockets are bound before anything is built, so ports are known up front and a
busy port fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import uvicorn
from starlette.types import ASGIApp

from bridge import registry
from bridge.api import browser
from bridge.app import create_app
from bridge.catalog import load_catalog
from bridge.sandbox import build_providers, sandbox_provider_settings, simulator_config
from bridge.settings import ProviderSettings, Settings


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
    """What one ``bridge serve`` runs: apps on sockets, and what to tell the user."""

    servers: list[tuple[str, ASGIApp, socket.socket]] = field(default_factory=list)
    simulators: dict[str, str] = field(default_factory=dict)
    root: str = ""
    api_key: str | None = None
    browser_built: bool = False


def plan(settings: Settings, host: str, port: int) -> Plan:
    """Bind sockets and build every app ``bridge serve`` runs."""
    catalog = load_catalog(settings.collections_dir)
    result = Plan()
    providers = None
    sandbox_info: dict[str, Any] | None = None
    provider_settings: dict[str, ProviderSettings] = {}
    if settings.sandbox_enabled():
        sandbox_info = {"mode": "sandbox", "providers": {}}
        base = settings.simulators.base_port
        for i, name in enumerate(registry.simulator_names()):
            sock = bind(settings.simulators.host, base + i if base else 0)
            url = url_of(settings.simulators.host, sock)
            result.servers.append(
                (
                    f"simulator:{name}",
                    registry.create_simulator(name, simulator_config(settings, name)),
                    sock,
                )
            )
            result.simulators[name] = url
            provider_settings[name] = sandbox_provider_settings(
                name, url, settings.providers.get(name)
            )
            sandbox_info["providers"][name] = {
                "base_url": url,
                "credentials": registry.simulator_sandbox_settings(name, url),
                "stats": f"{url}/_simulator/stats",
                "faults": f"{url}/_simulator/faults",
            }
        providers = build_providers(settings, catalog, provider_settings)
        key = settings.sandbox_api_key
        result.api_key = key.get_secret_value() if key else secrets.token_urlsafe(24)
    app = create_app(
        settings,
        catalog=catalog,
        providers=providers,
        sandbox_info=sandbox_info,
        demo_key=result.api_key,
        tenant_defaults=provider_settings,
    )
    sock = bind(host, port)
    result.root = url_of(host, sock) + "/"
    result.browser_built = browser.is_built(settings)
    result.servers.insert(0, ("bridge", app, sock))
    return result


def banner(p: Plan, out: TextIO) -> None:
    """Tell the user where everything is."""
    print(f"bridge STAC API      {p.root}", file=out)
    print(f"API docs             {p.root}api.html", file=out)
    print(f"OpenAPI              {p.root}api", file=out)
    browser = "" if p.browser_built else "  (not built: open it to see how)"
    print(f"stac-browser         {p.root}browser/{browser}", file=out)
    if p.simulators:
        print(f"sandbox details      {p.root}sandbox", file=out)
        for name, url in p.simulators.items():
            print(f"simulator {name:<10} {url}", file=out)
        print(f"demo API key         {p.api_key}", file=out)
    out.flush()


async def run(p: Plan) -> None:
    """Serve every planned app until SIGINT/SIGTERM."""
    servers = []
    for name, app, _ in p.servers:
        level = "info" if name == "bridge" else "warning"
        config = uvicorn.Config(app, log_level=level, lifespan="on" if name == "bridge" else "off")
        servers.append(uvicorn.Server(config))

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
    # Server._serve skips uvicorn's own signal capture, which assumes one server per process.
    await asyncio.gather(
        *(
            server._serve(sockets=[sock])
            for server, (_, _, sock) in zip(servers, p.servers, strict=True)
        )
    )


def serve(settings: Settings, host: str, port: int, out: TextIO = sys.stdout) -> None:
    """Plan, print the banner, and serve."""
    p = plan(settings, host, port)
    # Archives, collection documents and code built at start-up live for the whole
    # process: take them out of the collector's view, and collect young objects less
    # often, so full collections stop rescanning millions of long-lived objects.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    banner(p, out)
    asyncio.run(run(p))
