"""Arlula simulator: the imagery marketplace's native archive search API over a synthetic archive.

Speaks both generations the adapter supports: 2023-01 (``POST /api/archive/search``, the
current ``arlulacore`` 4.x SDK) and 2020-12 (``GET /api/search``, seed 002), with HTTP
Basic ``key:secret`` on every request and ``GET /api/test`` to check credentials.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from bridge.simulators.arlula.app import DEMO_KEY, DEMO_SECRET, routes
from bridge.simulators.arlula.archive import build_archive
from bridge.simulators.common.app import SimulatorConfig, simulator_app

__all__ = ["DEMO_KEY", "DEMO_SECRET", "create_app", "sandbox_settings"]


def create_app(config: SimulatorConfig) -> Starlette:
    """The simulator app for ``config`` (archive built once per ``(seed, scenes)``)."""
    credentials = (
        str(config.extra.get("api_key", DEMO_KEY)),
        str(config.extra.get("api_secret", DEMO_SECRET)),
    )
    return simulator_app(
        "arlula",
        routes(),
        config,
        archive=build_archive(config.seed, config.scenes),
        credentials=credentials,
    )


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Provider settings a native client needs against the simulator at ``base_url``."""
    return {"api_key": DEMO_KEY, "api_secret": DEMO_SECRET}
