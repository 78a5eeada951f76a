"""``python -m bridge.simulators``: the sandbox's provider simulators, in a process of their own.

``bridge serve`` binds one loopback socket per simulator (so every port is known before
anything starts), passes them here by file descriptor and keeps serving the bridge in its
own processes: the simulators' work never lands on the bridge's event loop. Settings come
from the same ``BRIDGE_*`` environment. The process exits when its parent does.

Usage: ``python -m bridge.simulators NAME=FD [NAME=FD ...]``
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import socket
import sys
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette

from bridge.settings import Settings
from bridge.simulators.common.app import SimulatorConfig
from bridge.simulators.common.faults import FaultSettings

PARENT_CHECK_S = 1.0


def build(name: str, settings: Settings) -> Starlette:
    """The simulator app of provider ``name``, configured from the settings."""
    sims = settings.simulators
    config = SimulatorConfig(
        seed=sims.seed,
        scenes=sims.scenes,
        faults=FaultSettings.model_validate(sims.faults.get(name) or {}),
        extra=dict(sims.extra),
    )
    module = importlib.import_module(f"bridge.simulators.{name}")
    app: Starlette = module.create_app(config)
    return app


async def serve(apps: dict[str, tuple[Starlette, socket.socket]]) -> None:
    """Serve every simulator until SIGTERM/SIGINT or until the parent process is gone."""
    servers = [
        uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        for app, _ in apps.values()
    ]

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
    parent = os.getppid()

    async def orphaned() -> None:
        while os.getppid() == parent:
            await asyncio.sleep(PARENT_CHECK_S)
        stop()

    watcher = asyncio.create_task(orphaned())
    # Server._serve skips uvicorn's own signal capture, which assumes one server per process.
    await asyncio.gather(
        *(s._serve(sockets=[sock]) for s, (_, sock) in zip(servers, apps.values(), strict=True))
    )
    watcher.cancel()


def main(argv: Sequence[str]) -> int:
    """Build each named simulator and serve it on its inherited socket."""
    settings = Settings()
    apps: dict[str, tuple[Starlette, socket.socket]] = {}
    for arg in argv:
        name, _, fd = arg.partition("=")
        if not name.isidentifier() or not fd.isdigit():
            print(f"usage: python -m bridge.simulators NAME=FD ...; not {arg!r}", file=sys.stderr)
            return 2
        apps[name] = (build(name, settings), socket.socket(fileno=int(fd)))
    asyncio.run(serve(apps))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
