"""A bounded, expiring in-memory cache of native results (built on ``cachetools``).

Adapters whose native API cannot page in the bridge's order read a whole (bounded)
result once, sort it and serve later pages from it. Entries are bounded in number and
age (least recently used go first); a cursor always names what was searched, so an
evicted or expired entry is simply fetched again. One adapter instance serves one set
of credentials, so entries are never shared across tenants.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson
from cachetools import TTLCache

V = TypeVar("V")

DEFAULT_ENTRIES = 16
DEFAULT_TTL_S = 300.0


def cache_key(*parts: Any) -> bytes:
    """A canonical key for JSON-safe ``parts`` (dict key order does not matter)."""
    return orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)


class ResultCache(Generic[V]):
    """Values by key, at most ``max_entries`` of them, each for ``ttl_s`` seconds."""

    def __init__(
        self,
        max_entries: int = DEFAULT_ENTRIES,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl_s <= 0:
            raise ValueError("a result cache needs max_entries >= 1 and ttl_s > 0")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: TTLCache[bytes, V] = TTLCache(maxsize=max_entries, ttl=ttl_s, timer=clock)

    def get(self, key: bytes) -> V | None:
        """The value stored for ``key``, or None when absent or expired."""
        return self._entries.get(key)

    def put(self, key: bytes, value: V) -> None:
        """Store ``value`` for ``key``; the least recently used entry goes beyond the bound."""
        self._entries[key] = value

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def __len__(self) -> int:
        self._entries.expire()
        return len(self._entries)
