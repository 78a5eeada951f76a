"""A Capella order whose outcome is unknown is reconciled with Capella's records, not re-placed.

The simulator's ``late_rate`` fault carries ``POST /orders`` out in full (the order exists)
and holds the answer back past the adapter's deadline. Capella keeps no client reference,
so the bridge must find the order by listing the user's orders for that product
(``GET /orders?customerId=``) before it places anything again.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bridge.auth.keys import KeyStore, TenantRef
from bridge.catalog import load_catalog
from bridge.core.contract import OrderOptions
from bridge.db.engine import Database
from bridge.orders.ledger import OrderLedger
from bridge.orders.service import OrderService
from bridge.orders.tenants import TenantProviders
from bridge.orders.timing import CheckTiming
from bridge.providers import capella as capella_provider
from bridge.settings import ProviderSettings, Settings
from bridge.simulators.capella import DEMO_API_KEY, create_app
from bridge.simulators.capella.archive import build_archive
from bridge.simulators.common.faults import FaultSettings
from tests.support.clock import ManualClock
from tests.support.wiring import COLLECTIONS, TEST_SCENES, TEST_SEED, simulator_config

STEP_S = 5.0
DEADLINE_S = 0.3
LATE_S = 3.0
LATE_RATE = 0.5


def late_on_second_roll() -> int:
    """A fault seed whose first roll answers and second is late.

    Both ``POST /orders/review`` and ``POST /orders`` fall under the ``/orders`` prefix and
    each rolls the dice once, in that order: the review must answer, the order be late.
    """
    for seed in range(1000):
        rng = random.Random(seed)
        if rng.random() >= LATE_RATE and rng.random() < LATE_RATE:
            return seed
    raise AssertionError("no seed")


@dataclass
class World:
    sim: Starlette
    clock: ManualClock
    service: OrderService
    tenant: TenantRef

    def native_orders(self) -> int:
        return sum(self.sim.state.stats.orders.values())


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = ManualClock(1_800_000_000.0)
    sim = create_app(simulator_config(extra={"capella_order_step_s": STEP_S}, clock=clock))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    await db.ready()
    catalog = load_catalog(COLLECTIONS, providers=["capella"])
    contract = ProviderSettings(
        base_url="http://capella.simulator", api_key=DEMO_API_KEY, timeout_s=DEADLINE_S
    )
    tenants = TenantProviders(
        Settings(),
        catalog,
        {"capella": capella_provider.create_provider},
        defaults={"capella": contract},
        transports={"capella": httpx.ASGITransport(app=sim)},
    )
    service = OrderService(
        OrderLedger(db),
        tenants,
        {c: "capella" for c in catalog.by_provider["capella"]},
        CheckTiming(reconcile_after_s=0),
    )
    tenant = await KeyStore(db).ensure_tenant("acme")
    try:
        yield World(sim, clock, service, tenant)
    finally:
        await tenants.aclose()
        await db.close()


async def test_late_order_is_adopted_not_placed_twice(world: World) -> None:
    geo = next(
        i for i in build_archive(TEST_SEED, TEST_SCENES).items if i["collection"] == "capella-geo"
    )
    faults = FaultSettings(
        late_rate=LATE_RATE, late_s=LATE_S, paths=["/orders"], seed=late_on_second_roll()
    )
    world.sim.state.faults.set(faults)
    record = await world.service.order(world.tenant, "capella-geo", geo["id"], OrderOptions())
    assert record.status == "pending" and record.native_id is None, "outcome unknown"
    assert world.native_orders() == 1, "Capella did place it"
    world.sim.state.faults.clear()

    ledger = world.service.ledger
    current = await ledger.get(world.tenant.id, record.id)
    assert current is not None
    adopted = await world.service.refresh(world.tenant, current)
    assert adopted.native_id is not None and world.native_orders() == 1
    [native] = world.sim.state.orders.orders.values()
    assert adopted.native_id == native.order_id

    world.clock.now += 2 * STEP_S  # submitted -> pending -> completed
    done = await world.service.refresh(world.tenant, adopted)
    assert done.status == "succeeded" and world.native_orders() == 1
