"""A small in-memory LRU of whole native results, with a time to live.

Arlula answers a search with its whole result at once (no native paging), so the adapter
keeps the mapped, sorted result and serves later pages from it. Entries are bounded in
number and age; a cursor carries the native request(s), so an evicted or expired entry
is simply fetched again. One adapter instance serves one set of credentials, so entries
are never shared across tenants.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

Item = dict[str, Any]


class ResultCache:
    """Native results by request key; least recently used entries go first."""

    def __init__(
        self,
        max_entries: int = 16,
        ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: OrderedDict[bytes, tuple[float, list[Item]]] = OrderedDict()

    def get(self, key: bytes) -> list[Item] | None:
        """The cached items for ``key``, or None when absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, items = entry
        if self.clock() - stored_at > self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return items

    def put(self, key: bytes, items: list[Item]) -> None:
        """Store ``items`` for ``key``, evicting the least recently used beyond the bound."""
        self._entries[key] = (self.clock(), items)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
