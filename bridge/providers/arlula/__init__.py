"""Arlula adapter: the imagery marketplace's archive (API generations 2023-01 and 2020-12)
and its tasking (:mod:`.tasking`)."""

from __future__ import annotations

from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider
from bridge.providers.arlula.adapter import ArlulaProvider
from bridge.providers.arlula.tasking import ArlulaTasking
from bridge.providers.base import ProviderContext

__all__ = ["ArlulaProvider", "ArlulaTasking", "create_provider", "create_tasking"]


def create_provider(context: ProviderContext) -> Provider:
    """Build the Arlula provider from its context."""
    return ArlulaProvider(context)


def create_tasking(context: ProviderContext) -> TaskingProvider:
    """Build Arlula's tasking adapter from the same context (same credentials)."""
    return ArlulaTasking(context)
