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

from bridge.core.contract import Item, ProviderPage
from bridge.core.query import SearchQuery
from bridge.core.sorting import sort_key_function
from bridge.errors import ProviderError


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


@dataclass
class FakeOrdering:
    """In-memory native orders for :class:`FakeProvider`, counting what was bought."""

    placed: list[tuple[str, str]] = field(default_factory=list)
    orders: dict[str, Any] = field(default_factory=dict)
    fail_place_with: Exception | None = None
    delay_s: float = 0.0
    next_state: str = "succeeded"
    """What a placed order becomes when it is next read."""


class OrderingFakeProvider(FakeProvider):
    """A fake provider that also sells its items."""

    ordering: FakeOrdering

    def __init__(self, name: str, items: list[Item], ordering: FakeOrdering | None = None) -> None:
        for item in items:
            item["assets"] = {
                "thumbnail": {"href": "x", "type": "image/png", "roles": ["thumbnail"]},
                "data": {"href": "x", "type": "image/tiff", "roles": ["data"]},
            }
        super().__init__(name, items)
        self.ordering = ordering or FakeOrdering()
        self.locations = 0

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> Any:
        from datetime import UTC, datetime, timedelta

        from bridge.core.contract import AssetLocation

        self.locations += 1
        expires = datetime.now(UTC) + timedelta(hours=1)
        href = (
            f"http://storage.test/{item_id}/{asset_key}?order={native_order_id}&n={self.locations}"
        )
        return AssetLocation(href, expires)

    async def quote(self, collection_id: str, item_id: str, options: Any) -> Any:
        from bridge.core.contract import OrderOptions, Quote

        if await self.get_item(collection_id, item_id) is None:
            from bridge.errors import NotFound

            raise NotFound(f"no item {item_id}")
        return Quote(12500, "USD", "one scene", OrderOptions(license=options.license or "standard"))

    async def place_order(
        self,
        collection_id: str,
        item_id: str,
        options: Any,
        reference: str,
        webhook_url: Any = None,
    ) -> Any:
        import asyncio

        from bridge.core.contract import NativeOrder

        if self.ordering.delay_s:
            await asyncio.sleep(self.ordering.delay_s)
        if self.ordering.fail_place_with is not None:
            raise self.ordering.fail_place_with
        native_id = f"native-{len(self.ordering.orders) + 1}"
        order = NativeOrder(native_id, "ordered", "accepted", 12500, "USD", reference=reference)
        self.ordering.orders[native_id] = (collection_id, item_id, order)
        self.ordering.placed.append((collection_id, item_id))
        return order

    async def find_orders(self, collection_id: str, item_id: str, reference: str) -> list[Any]:
        return [
            o for c, i, o in self.ordering.orders.values() if (c, i) == (collection_id, item_id)
        ]

    async def get_order(self, native_id: str) -> Any:
        from dataclasses import replace

        c, i, order = self.ordering.orders[native_id]
        if order.state in ("canceled", "failed"):
            return order
        done = replace(
            order, state=self.ordering.next_state, native_status=self.ordering.next_state
        )
        self.ordering.orders[native_id] = (c, i, done)
        return done

    async def cancel_order(self, native_id: str) -> Any:
        from dataclasses import replace

        c, i, order = self.ordering.orders[native_id]
        canceled = replace(order, state="canceled", native_status="canceled")
        self.ordering.orders[native_id] = (c, i, canceled)
        return canceled

    def order_id_from_webhook(self, payload: Any) -> str | None:
        return payload.get("order") if isinstance(payload, dict) else None
