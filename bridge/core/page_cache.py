"""A small per-process cache of native pages, so paging does not refetch what it has.

Consecutive result pages usually resume inside a native page the previous request
already fetched; keyed by (provider, search fingerprint, cursor), it is served from
here instead. Entries expire after a short TTL (providers' archives change, and signed
URLs inside them expire).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from bridge.core.contract import ProviderPage


class PageCache:
    """An LRU of native pages with a time-to-live."""

    def __init__(
        self,
        max_entries: int = 512,
        ttl_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_items: int = 8_000,
    ) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, ProviderPage]] = OrderedDict()
        self._max = max_entries
        self._max_items = max_items
        self._items = 0
        self._ttl = ttl_s
        self._clock = clock

    def get(self, key: Hashable) -> ProviderPage | None:
        """The cached page for ``key``, if still fresh."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, page = entry
        if self._clock() - stored_at > self._ttl:
            self._evict(key)
            return None
        self._entries.move_to_end(key)
        return page

    def put(self, key: Hashable, page: ProviderPage) -> None:
        """Remember ``page`` under ``key``, evicting the least recently used; bounded in
        entries and in items, so memory stays flat however far clients page."""
        if key in self._entries:
            self._evict(key)
        self._entries[key] = (self._clock(), page)
        self._items += len(page.items)
        while len(self._entries) > self._max or (
            self._items > self._max_items and len(self._entries) > 1
        ):
            self._evict(next(iter(self._entries)))

    def _evict(self, key: Hashable) -> None:
        _, page = self._entries.pop(key)
        self._items -= len(page.items)
