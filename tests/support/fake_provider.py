"""An in-memory provider for testing the federation core in isolation.

It evaluates only ``collections`` natively (like a provider with a poor search API), so
every other constraint is left to the core; it pages with an offset cursor and can be
told to fail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.core.query import SearchQuery
from bridge.core.sorting import sort_key_function
from bridge.errors import ProviderError
from bridge.providers.base import Item, ProviderPage


def make_items(provider: str, collections: list[str], count: int, seed: int) -> list[Item]:
    """``count`` point-ish items spread over a small area and 2020-2024."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    items = []
    for i in range(count):
        lon, lat = rng.uniform(0, 10), rng.uniform(40, 50)
        # Some items share a datetime, to exercise the tie-break.
        when = start + timedelta(hours=rng.randrange(0, 4 * 365 * 24 // 7) * 7)
        items.append(
            {
                "type": "Feature",
                "stac_version": "1.1.0",
                "id": f"{provider}-{i:05d}",
                "collection": collections[i % len(collections)],
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [lon, lat],
                            [lon + 0.1, lat],
                            [lon + 0.1, lat + 0.1],
                            [lon, lat + 0.1],
                            [lon, lat],
                        ]
                    ],
                },
                "bbox": [lon, lat, lon + 0.1, lat + 0.1],
                "properties": {"datetime": when.isoformat().replace("+00:00", "Z"), "gsd": i % 7},
                "links": [],
                "assets": {},
            }
        )
    return items


@dataclass
class FakeProvider:
    """A provider over a list of items."""

    name: str
    items: list[Item]
    native_page: int = 13
    fail_with: Exception | None = None
    calls: list[tuple[str | None, int]] = field(default_factory=list)
    property_aliases: dict[str, str] = field(default_factory=lambda: {"ground_sample": "gsd"})

    @property
    def collection_ids(self) -> frozenset[str]:
        return frozenset(i["collection"] for i in self.items)

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        self.calls.append((cursor, page_size))
        if self.fail_with is not None:
            raise self.fail_with
        wanted = set(query.collections or self.collection_ids)
        hits = sorted(
            (i for i in self.items if i["collection"] in wanted),
            key=sort_key_function(query.sortby),
        )
        offset = int(cursor or 0)
        chunk = hits[offset : offset + self.native_page]
        nxt = offset + self.native_page
        return ProviderPage(chunk, str(nxt) if nxt < len(hits) else None, None)

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        for item in self.items:
            if item["id"] == item_id and item["collection"] == collection_id:
                return item
        return None

    async def aclose(self) -> None:
        return None


def fake_providers(counts: dict[str, int] | None = None) -> dict[str, FakeProvider]:
    """Three fake providers with two collections each."""
    counts = counts or {"alpha": 120, "beta": 75, "gamma": 40}
    return {
        name: FakeProvider(name, make_items(name, [f"{name}-a", f"{name}-b"], n, seed=k))
        for k, (name, n) in enumerate(counts.items())
    }


def fails(provider: str) -> Exception:
    """A provider failure to inject."""
    return ProviderError(provider, "injected failure")


def all_items(providers: dict[str, FakeProvider]) -> list[dict[str, Any]]:
    """Every item of every fake provider."""
    return [i for p in providers.values() for i in p.items]
