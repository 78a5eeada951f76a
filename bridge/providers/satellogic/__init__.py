"""Satellogic (Aleph) adapter: the archive STAC API behind an OAuth token and a contract id.

Search: :mod:`.names` (tables), :mod:`.translate`, :mod:`.mapping`. Ordering: :mod:`.order_mapping`
(pure mapping of Aleph V2 orders, SKUs, prices) and :mod:`.order_client` (the calls: orders,
deliverables, Telluric downloads). :mod:`.adapter` ties them together. Tasking (new
captures, V1 Tasking API): :mod:`.tasking_mapping` (pure) and :mod:`.tasking`.
"""

from __future__ import annotations

from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider
from bridge.providers.base import ProviderContext
from bridge.providers.satellogic.adapter import SatellogicProvider
from bridge.providers.satellogic.tasking import SatellogicTasking

__all__ = ["SatellogicProvider", "SatellogicTasking", "create_provider", "create_tasking"]


def create_provider(context: ProviderContext) -> Provider:
    """The Satellogic provider for ``context``."""
    return SatellogicProvider(context)


def create_tasking(context: ProviderContext) -> TaskingProvider:
    """Satellogic's tasking (point and area) for ``context``."""
    return SatellogicTasking(context)
