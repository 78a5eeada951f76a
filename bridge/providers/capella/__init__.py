"""Capella Space: the archive catalog (``POST /catalog/search``) behind STAC."""

from bridge.core.contract import Provider
from bridge.providers.base import ProviderContext
from bridge.providers.capella.adapter import CapellaProvider


def create_provider(context: ProviderContext) -> Provider:
    """The Capella adapter for ``context``."""
    return CapellaProvider(context)


__all__ = ["CapellaProvider", "create_provider"]
