"""Tasking operations for authenticated tenants: products, opportunities, orders exactly
once, status tracking, cancel and approval, and delivery into the archive ledger."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bridge.auth.keys import TenantRef
from bridge.core.tasking_contract import (
    TERMINAL_STATUSES,
    OpportunityResult,
    TaskingProduct,
    TaskingProvider,
    TaskingRequest,
)
from bridge.errors import (
    PROVIDER_REFUSALS,
    BridgeError,
    Conflict,
    Forbidden,
    NotFound,
    ProviderError,
)
from bridge.orders.ledger import OrderLedger
from bridge.orders.timing import CheckTiming
from bridge.provider_pool import ProviderPool
from bridge.settings import Settings
from bridge.tasking.ledger import TaskingLedger
from bridge.tasking.records import PLACING, TaskingRecord

log = logging.getLogger("bridge.tasking")


class TaskingService:
    """STAPI operations over the providers' tasking adapters, recorded in the ledger."""

    def __init__(
        self,
        ledger: TaskingLedger,
        pool: ProviderPool,
        archive: OrderLedger,
        settings: Settings,
        timing: CheckTiming | None = None,
    ) -> None:
        self.ledger = ledger
        self.pool = pool
        self.archive = archive
        self.settings = settings
        self.timing = timing or CheckTiming()
        self._products: dict[str, tuple[str, TaskingProduct]] | None = None

    @property
    def clock(self) -> Callable[[], datetime]:
        """The ledger's clock (tests pass a manual one)."""
        return self.ledger.clock

    def products(self) -> Mapping[str, tuple[str, TaskingProduct]]:
        """Every product of every provider that can task: (provider, product) by id."""
        if self._products is None:
            found: dict[str, tuple[str, TaskingProduct]] = {}
            for name in self.pool.tasking_names():
                try:
                    offered = self.pool.operator_tasking(name).products()
                except Exception:  # one provider's broken setup must not hide the others
                    log.exception("tasking: %s offers no products (its adapter failed)", name)
                    continue
                for product in offered:
                    found[product.id] = (name, product)
            self._products = found
        return self._products

    def product(self, product_id: str) -> tuple[str, TaskingProduct]:
        """One product and its provider.

        Raises:
            NotFound: no such product.
        """
        found = self.products().get(product_id)
        if found is None:
            raise NotFound(f"no tasking product {product_id!r}")
        return found

    async def opportunities(
        self, tenant: TenantRef, request: TaskingRequest, limit: int
    ) -> OpportunityResult:
        """Acquisition opportunities, where the product's provider answers them."""
        name, product = self.product(request.product_id)
        if not product.opportunities:
            raise NotFound(f"product {product.id!r} offers no opportunity search")
        return await self.pool.tasking(tenant, name).opportunities(request, limit)

    async def order(
        self,
        tenant: TenantRef,
        request: TaskingRequest,
        idempotency_key: str | None,
        webhook_url: str | None,
    ) -> TaskingRecord:
        """One native task per (tenant, product, key), whatever the retries or replicas."""
        name, _ = self.product(request.product_id)
        provider = self.pool.tasking(tenant, name)  # 403 before anything is recorded
        record, mine = await self.ledger.claim(tenant.id, name, request, idempotency_key)
        if not mine:
            return record
        await self._price(tenant, record, provider)
        return await self._create(record, provider, webhook_url)

    async def _price(
        self, tenant: TenantRef, record: TaskingRecord, provider: TaskingProvider
    ) -> None:
        """Quote and record the price before the native call; apply the spending cap.

        The price is recorded on the claimed order before the sum is taken, so concurrent
        orders see each other: the cap may refuse too much, never allow too much.
        """
        try:
            quote = await provider.quote(record.request)
        except PROVIDER_REFUSALS as exc:
            await self.ledger.record_refusal(record.id, exc.description)
            raise
        except (BridgeError, OSError) as exc:
            await self.ledger.record_refusal(record.id, "the price could not be quoted")
            raise ProviderError(record.provider, "the price could not be quoted") from exc
        await self.ledger.record_price(record.id, quote.amount, quote.currency)
        policy = self.settings.tenants.get(tenant.name)
        cap = policy.spending_cap if policy else None
        if policy is None or cap is None:
            return
        why = None
        if quote.amount is None:
            why = "the provider states no price, so the spending cap cannot be checked"
        elif quote.currency != policy.cap_currency:
            why = f"price in {quote.currency}, spending cap in {policy.cap_currency}"
        else:
            spent = await self.ledger.spent(tenant.id, quote.currency)
            spent += await self.archive.spent(tenant.id, quote.currency)
            if spent > cap:
                why = (
                    f"it would take spending past the cap of {cap} "
                    f"(minor units of {quote.currency})"
                )
        if why:
            await self.ledger.record_refusal(record.id, f"spending cap: {why}")
            raise Forbidden(f"tasking order refused: {why}")

    async def _create(
        self, record: TaskingRecord, provider: TaskingProvider, webhook_url: str | None
    ) -> TaskingRecord:
        try:
            task = await provider.create_task(record.request, record.id, webhook_url)
        except PROVIDER_REFUSALS as exc:
            await self.ledger.record_refusal(record.id, exc.description)
            raise
        except (BridgeError, OSError) as exc:
            # The call may or may not have reached the provider: never create blindly
            # again; reconciliation asks the provider first.
            message = exc.description if isinstance(exc, BridgeError) else type(exc).__name__
            log.warning("tasking %s: outcome unknown (%s); will reconcile", record.id, message)
            retry = timedelta(seconds=self.timing.reconcile_after_s)
            return await self.ledger.record_uncertain(record.id, message, retry)
        return await self.ledger.record_task(
            record.id, task, self.timing.next_check(record, self.clock())
        )

    async def refresh(self, tenant: TenantRef, record: TaskingRecord) -> TaskingRecord:
        """Bring an order up to date with the provider (reconciling an unconfirmed one),
        and record its deliveries once it completed."""
        if record.state in TERMINAL_STATUSES and (record.state != "completed" or record.delivered):
            return record
        provider = self.pool.tasking(tenant, record.provider)
        if record.state == PLACING:
            return await self._reconcile(record, provider)
        assert record.native_id is not None
        if record.state != "completed":
            task = await provider.get_task(record.native_id)
            record = await self.ledger.record_task(
                record.id, task, self.timing.next_check(record, self.clock())
            )
        if record.state == "completed" and not record.delivered:
            await self._deliver(record, provider)
            record = await self.ledger.get(record.tenant_id, record.id) or record
        return record

    async def _deliver(self, record: TaskingRecord, provider: TaskingProvider) -> None:
        assert record.native_id is not None
        deliveries = await provider.deliveries(record.native_id)
        if not deliveries:
            return  # completed but not yet delivered: checked again later
        for d in deliveries:
            await self.archive.record_delivered(
                record.tenant_id, record.provider, d.collection_id, d.item_id, d.native_order_id
            )
        items = [(d.collection_id, d.item_id) for d in deliveries]
        await self.ledger.record_delivered(record.id, items)

    async def _reconcile(self, record: TaskingRecord, provider: TaskingProvider) -> TaskingRecord:
        age = (self.clock() - record.updated_at).total_seconds()
        if age < self.timing.reconcile_after_s:
            return record  # its caller may still be creating it
        if not await self.ledger.lease(record, timedelta(seconds=self.timing.reconcile_after_s)):
            return record  # another process is on it
        found = await provider.find_tasks(record.request, record.id)
        claimed = await self.ledger.claimed_native_ids(record.provider, record.product_id)
        mine = [t for t in found if t.reference == record.id] or [
            t for t in found if t.reference is None and t.native_id not in claimed
        ]
        if mine:
            log.info("tasking %s: adopted native task after reconciliation", record.id)
            return await self.ledger.record_task(
                record.id, mine[0], self.timing.next_check(record, self.clock())
            )
        return await self._create(record, provider, None)

    async def cancel(self, tenant: TenantRef, record: TaskingRecord) -> TaskingRecord:
        """Cancel a task where the provider allows it (409 otherwise)."""
        _, product = self.product(record.product_id)
        if not product.cancellable:
            raise Conflict(f"{record.provider} does not let tasks of {product.id} be canceled")
        if record.state in TERMINAL_STATUSES:
            raise Conflict(f"order {record.id} is already {record.state}")
        if record.native_id is None:
            raise Conflict(f"order {record.id} is still being placed; try again shortly")
        task = await self.pool.tasking(tenant, record.provider).cancel_task(record.native_id)
        return await self.ledger.record_task(
            record.id, task, self.timing.next_check(record, self.clock())
        )

    async def approve(self, tenant: TenantRef, record: TaskingRecord) -> TaskingRecord:
        """Approve a task's cost where the provider waits for it (409 otherwise)."""
        _, product = self.product(record.product_id)
        if not product.approval:
            raise Conflict(f"tasks of {product.id} need no approval")
        if record.native_id is None or not record.awaiting_approval:
            raise Conflict(f"order {record.id} is not awaiting approval")
        task = await self.pool.tasking(tenant, record.provider).approve_task(record.native_id)
        return await self.ledger.record_task(
            record.id, task, self.timing.next_check(record, self.clock())
        )

    async def on_webhook(self, provider_name: str, payload: Any) -> int:
        """Refresh the orders a provider's webhook names; returns how many.

        Nothing in the payload is trusted but the task id: each order is re-read from the
        provider with the owning tenant's credentials. Unknown ids are ignored.
        """
        if provider_name not in self.pool.tasking_names():
            raise NotFound(f"unknown tasking provider: {provider_name}")
        native_id = self.pool.operator_tasking(provider_name).task_id_from_webhook(payload)
        if not native_id:
            return 0
        records = await self.ledger.by_native(provider_name, native_id)
        for record in records:
            await self.refresh(await self._tenant_of(record), record)
        return len(records)

    async def _tenant_of(self, record: TaskingRecord) -> TenantRef:
        return TenantRef(record.tenant_id, await self.archive.tenant_name(record.tenant_id))

    async def poll_due(self) -> int:
        """Check every order that is due; returns how many were checked."""
        due = await self.ledger.due()
        for record in due:
            try:
                await self.refresh(await self._tenant_of(record), record)
            except Exception as exc:  # one order's trouble must not starve the others
                code = exc.code if isinstance(exc, BridgeError) else type(exc).__name__
                log.warning("tasking %s: check failed: %s", record.id, code)
                await self.ledger.lease(record, self.timing.next_check(record, self.clock()))
        return len(due)
