"""Satellogic (Aleph) adapter: the archive STAC API behind an OAuth token and a contract id.

Orders (``/v2/orders``) and Telluric downloads will come in their own modules; this
package holds the archive search side: :mod:`.names` (tables), :mod:`.translate`,
:mod:`.mapping` and :mod:`.adapter`.
"""

from __future__ import annotations

from bridge.providers.base import Provider, ProviderContext
from bridge.providers.satellogic.adapter import SatellogicProvider

__all__ = ["SatellogicProvider", "create_provider"]


def create_provider(context: ProviderContext) -> Provider:
    """The Satellogic provider for ``context``."""
    return SatellogicProvider(context)
