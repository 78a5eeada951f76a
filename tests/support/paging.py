"""Paging a provider adapter to the end, as the federation does."""

from __future__ import annotations

from bridge.core.contract import Item, Provider
from bridge.core.query import SearchQuery


async def drain(
    provider: Provider, query: SearchQuery, page_size: int, max_pages: int = 10_000
) -> list[Item]:
    """Every item ``provider`` returns for ``query``, following its cursors."""
    items: list[Item] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = await provider.search(query, cursor, page_size)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items
    raise AssertionError("cursor never ended")
