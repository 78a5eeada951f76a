"""Quoting, ordering, tracking and cancelling through the providers, recorded in the ledger."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bridge.auth.keys import TenantRef
from bridge.core.contract import OrderOptions, Provider, Quote
from bridge.errors import (
    PROVIDER_REFUSALS,
    BridgeError,
    Conflict,
    Forbidden,
    NotFound,
    ProviderError,
)
from bridge.orders.ledger import PLACING, TERMINAL, OrderLedger, OrderRecord, utcnow
from bridge.orders.tenants import TenantProviders
from bridge.orders.timing import CheckTiming
from bridge.telemetry import ORDER_CHECKS

log = logging.getLogger("bridge.orders")


class OrderService:
    """The bridge's order operations for authenticated tenants."""

    def __init__(
        self,
        ledger: OrderLedger,
        tenants: TenantProviders,
        provider_of: Mapping[str, str],
        timing: CheckTiming | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenants = tenants
        self.provider_of = dict(provider_of)
        self.timing = timing or CheckTiming()

    def provider_name(self, collection_id: str) -> str:
        """The provider serving ``collection_id``.

        Raises:
            NotFound: no provider serves it.
        """
        name = self.provider_of.get(collection_id)
        if name is None:
            raise NotFound(f"unknown collection: {collection_id}")
        return name

    def adapter(self, tenant: TenantRef, provider_name: str) -> Provider:
        """The tenant's adapter for the provider.

        Raises:
            Forbidden: the tenant has no contract with it.
        """
        return self.tenants.get(tenant, provider_name)

    def _provider(self, tenant: TenantRef, collection_id: str) -> tuple[str, Provider]:
        name = self.provider_name(collection_id)
        return name, self.tenants.get(tenant, name)

    async def current(
        self, tenant: TenantRef, collection_id: str, item_id: str
    ) -> OrderRecord | None:
        """The tenant's most relevant order of the item (live before ended), if any."""
        orders = await self.ledger.for_items(tenant.id, [(collection_id, item_id)])
        return orders.get((collection_id, item_id))

    async def own(self, tenant: TenantRef, order_id: str) -> OrderRecord:
        """One of the tenant's orders.

        Raises:
            NotFound: the tenant has no such order (another tenant's is not shown).
        """
        record = await self.ledger.get(tenant.id, order_id)
        if record is None:
            raise NotFound(f"no order {order_id}")
        return record

    async def page(self, tenant: TenantRef, limit: int, offset: int) -> list[OrderRecord]:
        """The tenant's orders, newest first."""
        return await self.ledger.page(tenant.id, limit, offset)

    async def quote(
        self, tenant: TenantRef, collection_id: str, item_id: str, options: OrderOptions
    ) -> Quote:
        """What the item costs this tenant with ``options``."""
        _, provider = self._provider(tenant, collection_id)
        return await provider.quote(collection_id, item_id, options)

    async def order(
        self,
        tenant: TenantRef,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        idempotency_key: str | None = None,
        webhook_url: str | None = None,
    ) -> OrderRecord:
        """Order an item at most once per (tenant, item, options); return the Order."""
        name, provider = self._provider(tenant, collection_id)
        record, mine = await self.ledger.claim(
            tenant.id, name, collection_id, item_id, options, idempotency_key
        )
        if not mine:
            return record
        return await self._place(record, provider, webhook_url)

    async def order_within_cap(
        self,
        tenant: TenantRef,
        collection_id: str,
        item_id: str,
        quote: Quote,
        cap: int | None,
        webhook_url: str | None = None,
    ) -> OrderRecord:
        """Auto-order: like :meth:`order` with the standard options, but never past ``cap``.

        The price is recorded on the claimed order before the sum is taken, so concurrent
        auto-orders see each other: the cap may refuse too much, never allow too much.
        """
        name, provider = self._provider(tenant, collection_id)
        record, mine = await self.ledger.claim(
            tenant.id, name, collection_id, item_id, OrderOptions()
        )
        if not mine:
            return record
        if cap is not None:
            if quote.amount is None:  # a price the provider does not state cannot be capped
                await self.ledger.record_failure(record.id, "price unavailable")
                raise Forbidden("auto-order refused: price unavailable; order it explicitly")
            await self.ledger.record_price(record.id, quote.amount, quote.currency)
            if await self.ledger.spent(tenant.id, quote.currency) > cap:
                await self.ledger.record_failure(record.id, "spending cap reached")
                raise Forbidden(
                    f"auto-order refused: it would take spending past the cap of {cap} "
                    f"(minor units of {quote.currency}); order it explicitly instead"
                )
        return await self._place(record, provider, webhook_url)

    async def _place(
        self, record: OrderRecord, provider: Provider, webhook_url: str | None
    ) -> OrderRecord:
        try:
            native = await provider.place_order(
                record.collection_id,
                record.item_id,
                record.options,
                reference=record.id,
                webhook_url=webhook_url,
            )
        except PROVIDER_REFUSALS as exc:
            await self.ledger.record_failure(record.id, exc.description)
            raise
        except (ProviderError, BridgeError, OSError) as exc:
            # The call may or may not have reached the provider: never place blindly
            # again; reconciliation asks the provider first.
            message = exc.description if isinstance(exc, BridgeError) else type(exc).__name__
            log.warning("order %s: outcome unknown (%s); will reconcile", record.id, message)
            retry = timedelta(seconds=self.timing.reconcile_after_s)
            return await self.ledger.record_uncertain(record.id, message, retry)
        updated = await self.ledger.record_native(record.id, native, None)
        return (
            await self.ledger.record_native(record.id, native, self.timing.next_check(updated))
            if native.state not in TERMINAL
            else updated
        )

    async def refresh(self, tenant: TenantRef, record: OrderRecord) -> OrderRecord:
        """Bring an order up to date with the provider (reconciling an unconfirmed one)."""
        if record.state in TERMINAL:
            return record
        provider = self.tenants.get(tenant, record.provider)
        if record.state == PLACING:
            return await self._reconcile(record, provider)
        assert record.native_id is not None
        native = await provider.get_order(record.native_id)
        return await self.ledger.record_native(record.id, native, self.timing.next_check(record))

    async def _reconcile(self, record: OrderRecord, provider: Provider) -> OrderRecord:
        age = (utcnow() - record.updated_at).total_seconds()
        if age < self.timing.reconcile_after_s:
            return record  # its caller may still be placing it
        if not await self.ledger.lease(record, timedelta(seconds=self.timing.reconcile_after_s)):
            return record  # another process is on it
        found = await provider.find_orders(record.collection_id, record.item_id, record.id)
        claimed = {r.native_id for r in await self._siblings(record)}
        mine = [o for o in found if o.reference == record.id] or [
            o for o in found if o.reference is None and o.native_id not in claimed
        ]
        if mine:
            log.info("order %s: adopted native order after reconciliation", record.id)
            return await self.ledger.record_native(
                record.id, mine[0], self.timing.next_check(record)
            )
        return await self._place(record, provider, None)

    async def _siblings(self, record: OrderRecord) -> list[OrderRecord]:
        orders = await self.ledger.for_items(
            record.tenant_id, [(record.collection_id, record.item_id)]
        )
        return [o for o in orders.values() if o.id != record.id and o.native_id]

    async def cancel(self, tenant: TenantRef, record: OrderRecord) -> OrderRecord:
        """Cancel an order where the provider allows it."""
        if record.state in TERMINAL:
            raise Conflict(f"order {record.id} is already {record.state}")
        if record.native_id is None:
            raise Conflict(f"order {record.id} is still being placed; try again shortly")
        provider = self.tenants.get(tenant, record.provider)
        native = await provider.cancel_order(record.native_id)
        return await self.ledger.record_native(record.id, native, self.timing.next_check(record))

    async def on_webhook(self, provider_name: str, provider: Provider, payload: Any) -> int:
        """Refresh the orders a provider's webhook names; returns how many.

        Nothing in the payload is trusted but the order id: each order is re-read from
        the provider with the owning tenant's credentials. Unknown ids are ignored.
        """
        native_id = provider.order_id_from_webhook(payload)
        if not native_id:
            return 0
        records = await self.ledger.by_native(provider_name, native_id)
        for record in records:
            tenant = await self._tenant_of(record)
            await self.refresh(tenant, record)
        return len(records)

    async def _tenant_of(self, record: OrderRecord) -> TenantRef:
        return TenantRef(record.tenant_id, await self.ledger.tenant_name(record.tenant_id))

    async def poll_due(self) -> int:
        """Check every order that is due; returns how many were checked."""
        due = await self.ledger.due()
        for record in due:
            ORDER_CHECKS.labels(record.provider).inc()
            try:
                await self.refresh(await self._tenant_of(record), record)
            except Exception as exc:  # one order's trouble must not starve the others
                code = exc.code if isinstance(exc, BridgeError) else type(exc).__name__
                log.warning("order %s: check failed: %s", record.id, code)
                await self.ledger.lease(record, self.timing.next_check(record))
        return len(due)
