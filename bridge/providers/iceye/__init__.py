"""ICEYE Constellation API adapter (Catalog API v2, or v1 for accounts still on it)."""

from __future__ import annotations

from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider
from bridge.providers.base import ProviderContext
from bridge.providers.iceye.adapter import IceyeProvider
from bridge.providers.iceye.names import V1_TO_V2
from bridge.providers.iceye.tasking import IceyeTasking

__all__ = ["V1_TO_V2", "IceyeProvider", "IceyeTasking", "create_provider", "create_tasking"]


def create_provider(context: ProviderContext) -> Provider:
    """The ICEYE adapter for ``context``."""
    return IceyeProvider(context)


def create_tasking(context: ProviderContext) -> TaskingProvider:
    """ICEYE tasking (Tasking API v2) for ``context``."""
    return IceyeTasking(context)
