"""Simulator of Satellogic's Aleph APIs: OAuth, the archive STAC API, V2 orders, Telluric.

Modules: :mod:`.auth` (token endpoint, gateway checks), :mod:`.contracts` (the contract
listings), :mod:`.archive` and :mod:`.search` (the archive), :mod:`.paging` (its next
links), :mod:`.products` (SKUs, prices, clipping), :mod:`.orders` (the order state
machine), :mod:`.orders_api` (``/v2/orders/``...), :mod:`.downloads` (the object stores),
:mod:`.telluric` (the scene listing) and :mod:`.app` (wiring). Sources: ``SOURCES.md``.
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
