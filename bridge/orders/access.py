"""Who may download an asset, with whose provider contract, and ordering it on first access.

The rules, in the order they apply:

1. Thumbnails and overviews (:data:`FREE_ROLES`) are part of browsing: whoever may search
   may see them. Without a key they are fetched with the operator's own contract (an
   ``<img>`` tag in a browser cannot send an API key header).
2. Any other asset needs a tenant and the tenant's contract with the provider
   (:class:`~bridge.errors.Forbidden` without one), and a delivered order of the item.
3. No live order: tenants whose policy says ``auto_order`` get one placed for them, within
   their spending cap; others get :class:`~bridge.errors.NotOrdered`.
4. An order not delivered yet raises :class:`~bridge.errors.OrderPending` (a 202 with the
   order); an ended one :class:`~bridge.errors.NotOrdered`.

Signed URLs are reused per contract (:class:`OperatorContract` / :class:`TenantContract`):
a URL fetched with one tenant's credentials never reaches another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bridge.auth.keys import TenantRef
from bridge.core.contract import AssetLocation, Item, OrderOptions, Provider
from bridge.errors import Forbidden, NotFound, NotOrdered, OrderPending, Unauthorized
from bridge.orders.ledger import OrderRecord
from bridge.orders.service import OrderService
from bridge.orders.signed_urls import SignedUrlCache
from bridge.settings import TenantSettings

FREE_ROLES = frozenset({"thumbnail", "overview"})
"""Asset roles that are free to look at: no order needed."""
PENDING_RETRY_AFTER_S = 5
"""How long a client waiting for an order is asked to wait before asking again."""

ItemLookup = Callable[[str, str], Awaitable[Item]]
"""``(collection_id, item_id) -> item``: the federation's item lookup (NotFound if none)."""


@dataclass(frozen=True)
class OperatorContract:
    """The operator's own provider contract: free previews for callers without a key."""


@dataclass(frozen=True)
class TenantContract:
    """A tenant's provider contract."""

    tenant_id: int


Contract = OperatorContract | TenantContract


@dataclass(frozen=True)
class AssetRef:
    """An asset the bridge knows: its provider and whether it is free to look at."""

    provider: str
    collection_id: str
    item_id: str
    key: str
    free: bool


class AssetAccess:
    """Finds assets, decides whose contract fetches them and orders them on first access.

    Args:
        orders: the order service (tenants' adapters, the ledger).
        operator: the operator's adapter per provider name.
        get_item: the federation's item lookup.
        policies: tenants' auto-order policies by tenant name.
        urls: the signed-URL cache (a fresh one when None).
    """

    def __init__(
        self,
        orders: OrderService,
        operator: Callable[[str], Provider],
        get_item: ItemLookup,
        policies: Mapping[str, TenantSettings],
        urls: SignedUrlCache | None = None,
    ) -> None:
        self.orders = orders
        self.operator = operator
        self.get_item = get_item
        self.policies = policies
        self.urls = urls or SignedUrlCache()

    async def find(self, collection_id: str, item_id: str, key: str) -> AssetRef:
        """The asset ``key`` of the item.

        Raises:
            NotFound: no such collection, item or asset.
        """
        provider = self.orders.provider_name(collection_id)
        item = await self.get_item(collection_id, item_id)
        asset = (item.get("assets") or {}).get(key)
        if asset is None:
            raise NotFound(f"item {item_id} has no asset {key!r}")
        free = bool(FREE_ROLES.intersection(asset.get("roles") or []))
        return AssetRef(provider, collection_id, item_id, key, free)

    async def location(
        self, asset: AssetRef, tenant: TenantRef | None, webhook_url: str | None = None
    ) -> AssetLocation:
        """Where to fetch ``asset`` for ``tenant`` (None: a free asset, operator's contract).

        Args:
            asset: from :meth:`find`.
            tenant: the caller; None only for free assets.
            webhook_url: where the provider reports an order placed on the tenant's behalf.

        Raises:
            Unauthorized: no tenant, and the asset is not free.
            Forbidden: no contract with the provider, or an auto-order refused.
            NotOrdered: the tenant has no live order of the item.
            OrderPending: the order is not delivered yet.
        """
        if tenant is None:
            if not asset.free:  # the HTTP layer asks for a key first; this is the backstop
                raise Unauthorized("an API key is required: send Authorization: Bearer <key>")
            return await self._fetch(OperatorContract(), self.operator(asset.provider), asset)
        provider = self.orders.adapter(tenant, asset.provider)  # 403 without a contract
        native_order = None
        if not asset.free:
            native_order = (await self.entitlement(tenant, asset, webhook_url)).native_id
        return await self._fetch(TenantContract(tenant.id), provider, asset, native_order)

    async def _fetch(
        self,
        contract: Contract,
        provider: Provider,
        asset: AssetRef,
        native_order: str | None = None,
    ) -> AssetLocation:
        c, i, k = asset.collection_id, asset.item_id, asset.key
        return await self.urls.get(
            (contract, c, i, k, native_order),
            lambda: provider.asset_location(c, i, k, native_order),
        )

    async def entitlement(
        self, tenant: TenantRef, asset: AssetRef, webhook_url: str | None = None
    ) -> OrderRecord:
        """The tenant's delivered order of the asset's item (auto-ordered if its policy
        says so).

        Raises:
            NotOrdered: no live order (and no auto-order), or the order ended undelivered.
            OrderPending: the order is not delivered yet.
        """
        c, i = asset.collection_id, asset.item_id
        record = await self.orders.current(tenant, c, i)
        if record is None or not record.live:
            record = await self.auto_order(tenant, c, i, webhook_url)
            if record is None:
                raise NotOrdered("this data asset needs an order", c, i)
        if record.status != "succeeded":
            record = await self.orders.refresh(tenant, record)
        if record.status == "succeeded":
            return record
        if not record.live:
            raise NotOrdered(f"the order of this item {record.status}", c, i)
        raise OrderPending(record.status, record, PENDING_RETRY_AFTER_S)

    async def auto_order(
        self, tenant: TenantRef, collection_id: str, item_id: str, webhook_url: str | None
    ) -> OrderRecord | None:
        """Order the item for a tenant whose policy says so, within its spending cap;
        None when its policy does not auto-order.

        Raises:
            Forbidden: the price is in another currency than the cap, or past the cap.
        """
        policy = self.policies.get(tenant.name)
        if policy is None or not policy.auto_order:
            return None
        quote = await self.orders.quote(tenant, collection_id, item_id, OrderOptions())
        if policy.spending_cap is not None and quote.currency != policy.cap_currency:
            raise Forbidden(f"auto-order: price in {quote.currency}, cap in {policy.cap_currency}")
        return await self.orders.order_within_cap(
            tenant, collection_id, item_id, quote, policy.spending_cap, webhook_url=webhook_url
        )
