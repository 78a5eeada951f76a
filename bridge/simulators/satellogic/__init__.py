"""Simulator of Satellogic's Aleph APIs: OAuth token endpoint and the archive STAC API.

Orders (``/v2/orders``) and Telluric downloads are not simulated yet; they belong in
their own modules next to :mod:`.app` (archive routes) and :mod:`.auth`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from bridge.simulators.common.app import SimulatorConfig
from bridge.simulators.satellogic.app import create_app as _create_app
from bridge.simulators.satellogic.auth import demo_settings

__all__ = ["create_app", "sandbox_settings"]


def create_app(config: SimulatorConfig) -> Starlette:
    """The Satellogic simulator app."""
    return _create_app(config)


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Demo credentials, token URL and contract id for the simulator served at ``base_url``."""
    return demo_settings(base_url)
