"""Arlula adapter: the imagery marketplace's archive (API generations 2023-01 and 2020-12)."""

from __future__ import annotations

from bridge.core.contract import Provider
from bridge.providers.arlula.adapter import ArlulaProvider
from bridge.providers.base import ProviderContext

__all__ = ["ArlulaProvider", "create_provider"]


def create_provider(context: ProviderContext) -> Provider:
    """Build the Arlula provider from its context."""
    return ArlulaProvider(context)
