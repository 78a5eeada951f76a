"""The native page cache stays bounded in items, whatever clients page through."""

from __future__ import annotations

from bridge.core.contract import ProviderPage
from bridge.core.page_cache import PageCache


def page(n: int) -> ProviderPage:
    return ProviderPage([{"id": str(i)} for i in range(n)])


def test_bounded_by_items_and_ttl() -> None:
    now = [0.0]
    cache = PageCache(max_entries=100, ttl_s=10, clock=lambda: now[0], max_items=10)
    for key in range(3):
        cache.put(key, page(4))
    assert cache.get(0) is None  # evicted: 12 items > 10
    assert cache.get(1) is not None and cache.get(2) is not None
    cache.put(2, page(4))  # replacing does not count twice
    assert cache.get(1) is not None
    now[0] = 11
    assert cache.get(1) is None
