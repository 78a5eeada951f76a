"""Lumen (a test fixture): the adapter of the invented optical archive in
``tests/support/extra_provider/simulator/lumen``. Modules: :mod:`.adapter` (search),
:mod:`.mapping` (native scene → STAC item), :mod:`.order_client` (orders, downloads)."""

from bridge.core.contract import Provider
from bridge.providers.base import ProviderContext

from .adapter import LumenProvider


def create_provider(context: ProviderContext) -> Provider:
    """The Lumen adapter for ``context``."""
    return LumenProvider(context)


__all__ = ["LumenProvider", "create_provider"]
