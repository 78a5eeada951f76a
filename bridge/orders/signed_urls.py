"""Provider download URLs, reused only early in their life and never across tenants.

A signed URL handed to a client must stay valid for as long as the client needs it, so
one is reused only within the first part of its lifetime; after that the provider is
asked for a fresh one. Keys include the tenant: a URL fetched with one tenant's
credentials is never given to another.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from bridge.core.contract import AssetLocation

Key = tuple[Hashable, str, str, str, str | None]
"""(whose contract, collection, item, asset, native order)."""
REUSE_SHARE = 0.25
"""Reuse a URL only during this share of its lifetime."""
NO_EXPIRY_REUSE_S = 60.0


class SignedUrlCache:
    """A small LRU of asset locations per (tenant, collection, item, asset, order)."""

    def __init__(self, max_entries: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self._entries: OrderedDict[Key, tuple[float, AssetLocation]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    def _fresh(self, fetched_at: float, location: AssetLocation) -> bool:
        now = self._clock()
        if location.expires_at is None:
            return now - fetched_at < NO_EXPIRY_REUSE_S
        lifetime = location.expires_at.timestamp() - fetched_at
        return now < fetched_at + lifetime * REUSE_SHARE

    async def get(self, key: Key, fetch: Callable[[], Awaitable[AssetLocation]]) -> AssetLocation:
        """A cached location still early in its life, or a freshly fetched one."""
        entry = self._entries.get(key)
        if entry is not None and self._fresh(*entry):
            self._entries.move_to_end(key)
            return entry[1]
        location = await fetch()
        self._entries[key] = (self._clock(), location)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return location
