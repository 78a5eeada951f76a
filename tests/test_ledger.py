"""The order ledger on SQLite and a real PostgreSQL: one native order per (tenant, item,
options) under concurrency, across processes and across a crash."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bridge.auth.keys import KeyStore, TenantRef
from bridge.catalog import Catalog
from bridge.core.contract import OrderOptions
from bridge.db.engine import Database
from bridge.errors import Conflict, PaymentRequired, ProviderTimeout
from bridge.orders.ledger import OrderLedger
from bridge.orders.service import OrderService
from bridge.orders.tenants import TenantProviders
from bridge.orders.timing import CheckTiming
from bridge.settings import ProviderSettings, Settings
from tests.support.fake_provider import OrderingFakeProvider, make_items


async def tenant(db: Database, name: str) -> TenantRef:
    return await KeyStore(db).ensure_tenant(f"{name}-{id(db)}")


def service(
    db: Database, fake: OrderingFakeProvider, reconcile_after_s: float = 60
) -> OrderService:
    catalog = Catalog({"fake": {c: {"id": c} for c in fake.collection_ids}})
    tenants = TenantProviders(
        Settings(),
        catalog,
        {"fake": lambda ctx: fake},
        defaults={"fake": ProviderSettings()},
    )
    provider_of = {c: "fake" for c in fake.collection_ids}
    return OrderService(
        OrderLedger(db), tenants, provider_of, CheckTiming(reconcile_after_s=reconcile_after_s)
    )


def fake() -> OrderingFakeProvider:
    return OrderingFakeProvider("fake", make_items("fake", ["fake-a"], 20, seed=3))


async def test_fifty_concurrent_orders_place_one_native_order(db: Database) -> None:
    provider = fake()
    provider.ordering.delay_s = 0.05
    svc = service(db, provider)
    who = await tenant(db, "acme")
    keys = [f"key-{i % 7}" if i % 2 else None for i in range(50)]
    orders = await asyncio.gather(
        *(svc.order(who, "fake-a", "fake-00001", OrderOptions(), key) for key in keys)
    )
    assert len({o.id for o in orders}) == 1
    assert provider.ordering.placed == [("fake-a", "fake-00001")]
    again = await svc.order(who, "fake-a", "fake-00001", OrderOptions(), "key-3")
    assert again.id == orders[0].id


async def test_a_sandbox_start_forgets_orders_its_simulators_never_saw(db: Database) -> None:
    provider = fake()
    svc = service(db, provider)
    who = await tenant(db, "acme")
    first = await svc.order(who, "fake-a", "fake-00009", OrderOptions(), "k-9")
    assert await svc.ledger.forget_all() == 1
    assert await svc.ledger.get(who.id, first.id) is None
    again = await svc.order(who, "fake-a", "fake-00009", OrderOptions(), "k-9")
    assert again.id != first.id and len(provider.ordering.placed) == 2
    assert await svc.ledger.forget_all() == 1


async def test_options_and_tenants_are_separate_orders(db: Database) -> None:
    provider = fake()
    svc = service(db, provider)
    a, b = await tenant(db, "a"), await tenant(db, "b")
    first = await svc.order(a, "fake-a", "fake-00002", OrderOptions())
    other_license = await svc.order(a, "fake-a", "fake-00002", OrderOptions(license="enterprise"))
    other_tenant = await svc.order(b, "fake-a", "fake-00002", OrderOptions())
    assert len({first.id, other_license.id, other_tenant.id}) == 3
    assert len(provider.ordering.placed) == 3
    assert await svc.ledger.get(b.id, first.id) is None  # tenant B cannot see A's order


async def test_idempotency_key_reused_for_another_item_is_a_conflict(db: Database) -> None:
    svc = service(db, fake())
    who = await tenant(db, "acme")
    await svc.order(who, "fake-a", "fake-00003", OrderOptions(), "same-key")
    with pytest.raises(Conflict):
        await svc.order(who, "fake-a", "fake-00004", OrderOptions(), "same-key")


async def test_a_refused_order_fails_and_can_be_placed_again(db: Database) -> None:
    provider = fake()
    svc = service(db, provider)
    who = await tenant(db, "acme")
    provider.ordering.fail_place_with = PaymentRequired("insufficient funds")
    with pytest.raises(PaymentRequired):
        await svc.order(who, "fake-a", "fake-00005", OrderOptions())
    provider.ordering.fail_place_with = None
    retry = await svc.order(who, "fake-a", "fake-00005", OrderOptions())
    assert retry.status == "ordered" and provider.ordering.placed == [("fake-a", "fake-00005")]


async def test_a_crash_after_the_native_call_is_reconciled_not_bought_twice(db: Database) -> None:
    provider = fake()
    svc = service(db, provider, reconcile_after_s=0)
    who = await tenant(db, "acme")
    real_record = svc.ledger.record_native

    async def crash(*args: object, **kwargs: object) -> None:
        raise OSError("process killed before the ledger write")

    svc.ledger.record_native = crash  # type: ignore[method-assign]
    with pytest.raises(OSError):
        await svc.order(who, "fake-a", "fake-00006", OrderOptions())
    svc.ledger.record_native = real_record  # type: ignore[method-assign]
    assert len(provider.ordering.placed) == 1
    pending = await svc.order(who, "fake-a", "fake-00006", OrderOptions())
    assert pending.status == "pending" and pending.native_id is None
    await svc.poll_due()
    done = await svc.ledger.get(who.id, pending.id)
    assert done is not None and done.native_id == "native-1"
    assert len(provider.ordering.placed) == 1


async def test_an_unknown_outcome_stays_pending_then_is_placed_once(db: Database) -> None:
    provider = fake()
    svc = service(db, provider, reconcile_after_s=0)
    who = await tenant(db, "acme")
    provider.ordering.fail_place_with = ProviderTimeout("fake", "no answer")
    record = await svc.order(who, "fake-a", "fake-00007", OrderOptions())
    assert record.status == "pending" and provider.ordering.placed == []
    provider.ordering.fail_place_with = None
    await svc.poll_due()  # finds nothing natively, so places it now
    await svc.poll_due()
    final = await svc.ledger.get(who.id, record.id)
    assert final is not None and final.native_id == "native-1"
    assert provider.ordering.placed == [("fake-a", "fake-00007")]


async def test_polling_moves_orders_to_succeeded_and_cancel(db: Database) -> None:
    provider = fake()
    svc = service(db, provider)
    svc.timing.min_check_s = 0
    who = await tenant(db, "acme")
    record = await svc.order(who, "fake-a", "fake-00008", OrderOptions())
    refreshed = await svc.refresh(who, record)
    assert refreshed.status == "succeeded"
    with pytest.raises(Conflict):
        await svc.cancel(who, refreshed)
    other = await svc.order(who, "fake-a", "fake-00009", OrderOptions())
    canceled = await svc.cancel(who, other)
    assert canceled.status == "canceled"
    again = await svc.order(who, "fake-a", "fake-00009", OrderOptions())
    assert again.id != other.id  # a canceled order does not block a new one


def test_two_processes_sharing_postgresql_place_one_order(postgres_url: str) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from bridge.auth.keys import KeyStore
        from bridge.db.engine import Database
        from bridge.orders.ledger import OrderLedger
        from bridge.core.contract import OrderOptions

        async def main():
            db = Database({postgres_url!r})
            who = await KeyStore(db).ensure_tenant("two-processes")
            ledger = OrderLedger(db)
            results = await asyncio.gather(*(
                ledger.claim(who.id, "fake", "fake-a", "shared-item", OrderOptions())
                for _ in range(25)
            ))
            print(sum(1 for _, mine in results if mine), results[0][0].id)
            await db.close()

        asyncio.run(main())
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(int(o[0]) for o in outputs) == 1
    assert outputs[0][1] == outputs[1][1]
