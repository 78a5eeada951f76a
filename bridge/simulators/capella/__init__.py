"""Capella Space simulator: the native catalog API over a deterministic synthetic archive."""

from bridge.simulators.capella.app import DEMO_API_KEY, create_app, sandbox_settings

__all__ = ["DEMO_API_KEY", "create_app", "sandbox_settings"]
