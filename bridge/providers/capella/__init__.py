"""Capella Space: the archive catalog (``POST /catalog/search``) behind STAC, and tasking."""

from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider
from bridge.providers.base import ProviderContext
from bridge.providers.capella.adapter import CapellaProvider
from bridge.providers.capella.tasking import CapellaTasking


def create_provider(context: ProviderContext) -> Provider:
    """The Capella adapter for ``context``."""
    return CapellaProvider(context)


def create_tasking(context: ProviderContext) -> TaskingProvider:
    """Capella's tasking adapter for ``context`` (same credentials as the archive)."""
    return CapellaTasking(context)


__all__ = ["CapellaProvider", "CapellaTasking", "create_provider", "create_tasking"]
