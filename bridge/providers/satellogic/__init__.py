"""Satellogic (Aleph) adapter: the archive STAC API behind an OAuth token and a contract id.

Search: :mod:`.names` (tables), :mod:`.translate`, :mod:`.mapping`. Ordering: :mod:`.order_mapping`
(pure mapping of Aleph V2 orders, SKUs, prices) and :mod:`.order_client` (the calls: orders,
deliverables, Telluric downloads). :mod:`.adapter` ties them together.
"""

from __future__ import annotations

from bridge.core.contract import Provider
from bridge.providers.base import ProviderContext
from bridge.providers.satellogic.adapter import SatellogicProvider

__all__ = ["SatellogicProvider", "create_provider"]


def create_provider(context: ProviderContext) -> Provider:
    """The Satellogic provider for ``context``."""
    return SatellogicProvider(context)
