"""Asset access and auto-order (bridge/orders/access.py) without HTTP: whose contract fetches
an asset, when an order is needed, and which errors (hence statuses) say why not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.auth.keys import KeyStore, TenantRef
from bridge.catalog import Catalog
from bridge.core.contract import OrderOptions
from bridge.db.engine import Database
from bridge.errors import (
    Forbidden,
    NotFound,
    NotOrdered,
    OrderPending,
    Unauthorized,
    status_for,
)
from bridge.orders.access import PENDING_RETRY_AFTER_S, AssetAccess
from bridge.orders.ledger import OrderLedger
from bridge.orders.service import OrderService
from bridge.orders.tenants import TenantProviders
from bridge.settings import ProviderSettings, Settings, TenantSettings
from tests.support.fake_provider import OrderingFakeProvider, make_items

ITEM = ("fake-a", "fake-00001")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    await database.ready()
    yield database
    await database.close()


class World:
    """An access service over one fake provider whose operator and tenant adapters differ
    (so tests can tell whose contract fetched a URL)."""

    def __init__(self, db: Database, **policies: TenantSettings) -> None:
        self.operator = OrderingFakeProvider("fake", make_items("fake", ["fake-a"], 5, seed=3))
        self.tenant = OrderingFakeProvider("fake", make_items("fake", ["fake-a"], 5, seed=3))
        catalog = Catalog({"fake": {"fake-a": {"id": "fake-a"}}})
        settings = Settings(tenants=policies)
        tenants = TenantProviders(
            settings,
            catalog,
            {"fake": lambda ctx: self.tenant},
            defaults={"fake": ProviderSettings()},
        )
        self.orders = OrderService(OrderLedger(db), tenants, {"fake-a": "fake"})
        self.access = AssetAccess(self.orders, self._operator, self._get_item, settings.tenants)
        self.db = db

    def _operator(self, name: str) -> OrderingFakeProvider:
        if name != "fake":
            raise NotFound(f"unknown provider: {name}")
        return self.operator

    async def _get_item(self, collection_id: str, item_id: str) -> dict[str, object]:
        item = await self.operator.get_item(collection_id, item_id)
        if item is None:
            raise NotFound(f"no item {item_id}")
        return item

    async def who(self, name: str) -> TenantRef:
        return await KeyStore(self.db).ensure_tenant(name)


async def test_a_free_asset_without_a_key_uses_the_operators_contract(db: Database) -> None:
    world = World(db)
    thumb = await world.access.find(*ITEM, "thumbnail")
    assert thumb.free and thumb.provider == "fake"
    first = await world.access.location(thumb, None)
    again = await world.access.location(thumb, None)
    assert first.href == again.href and world.operator.locations == 1  # reused early in life
    # A tenant's URL is its own: never the operator's cached one.
    await world.access.location(thumb, await world.who("acme"))
    assert world.tenant.locations == 1 and world.operator.locations == 1


async def test_unknown_collection_item_or_asset_is_not_found(db: Database) -> None:
    world = World(db)
    for collection, item, key in [
        ("nope", "fake-00001", "data"),
        ("fake-a", "nope", "data"),
        ("fake-a", "fake-00001", "nope"),
    ]:
        with pytest.raises(NotFound):
            await world.access.find(collection, item, key)


async def test_a_data_asset_needs_a_tenant_and_an_order(db: Database) -> None:
    world = World(db)
    data = await world.access.find(*ITEM, "data")
    assert not data.free
    with pytest.raises(Unauthorized):
        await world.access.location(data, None)
    with pytest.raises(NotOrdered) as caught:
        await world.access.location(data, await world.who("acme"))
    assert status_for(caught.value) == 403
    assert caught.value.detail["item"] == ITEM
    assert world.tenant.ordering.placed == [] and world.tenant.locations == 0


async def test_a_delivered_order_opens_the_asset_with_its_native_order(db: Database) -> None:
    world = World(db)
    acme = await world.who("acme")
    record = await world.orders.order(acme, *ITEM, options=OrderOptions())
    data = await world.access.find(*ITEM, "data")
    location = await world.access.location(data, acme)
    assert f"order={record.native_id}" in location.href


async def test_auto_order_places_one_order_and_answers_pending(db: Database) -> None:
    world = World(db, acme=TenantSettings(auto_order=True))
    world.tenant.ordering.next_state = "running"
    acme = await world.who("acme")
    data = await world.access.find(*ITEM, "data")
    for _ in range(2):
        with pytest.raises(OrderPending) as caught:
            await world.access.location(data, acme, webhook_url="http://b.test/webhooks/fake")
        assert status_for(caught.value) == 202
        assert caught.value.detail["retry_after"] == PENDING_RETRY_AFTER_S
        assert caught.value.detail["order"].status == "running"
    assert world.tenant.ordering.placed == [ITEM]  # the second access found the first order
    world.tenant.ordering.next_state = "succeeded"
    assert (await world.access.location(data, acme)).href.startswith("http://storage.test/")


async def test_auto_order_respects_the_cap_and_its_currency(db: Database) -> None:
    world = World(
        db,
        small=TenantSettings(auto_order=True, spending_cap=100),
        euro=TenantSettings(auto_order=True, spending_cap=10**6, cap_currency="EUR"),
    )
    data = await world.access.find(*ITEM, "data")
    with pytest.raises(Forbidden, match="spending past the cap"):
        await world.access.location(data, await world.who("small"))
    with pytest.raises(Forbidden, match="price in USD, cap in EUR"):
        await world.access.location(data, await world.who("euro"))
    assert world.tenant.ordering.placed == []


async def test_an_ended_order_is_not_an_entitlement(db: Database) -> None:
    world = World(db)
    acme = await world.who("acme")
    await world.orders.order(acme, *ITEM, options=OrderOptions())
    world.tenant.ordering.next_state = "failed"
    data = await world.access.find(*ITEM, "data")
    with pytest.raises(NotOrdered, match="the order of this item failed"):
        await world.access.location(data, acme)
    with pytest.raises(NotOrdered, match="this data asset needs an order"):
        await world.access.location(data, acme)


async def test_no_contract_with_the_provider_is_forbidden(db: Database) -> None:
    world = World(db, nofake=TenantSettings(providers={"fake": ProviderSettings(enabled=False)}))
    thumb = await world.access.find(*ITEM, "thumbnail")
    with pytest.raises(Forbidden, match="no contract"):
        await world.access.location(thumb, await world.who("nofake"))
