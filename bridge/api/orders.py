"""Quotes, orders, asset redirects and provider webhooks: the endpoints that need a tenant."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from bridge.api.asset_proxy import deliver
from bridge.api.client import ORJSONResponse
from bridge.api.links import base_url
from bridge.api.order_views import item_href, order_json, quote_json
from bridge.auth.keys import TenantRef
from bridge.auth.request import Authenticator
from bridge.core.contract import OrderOptions
from bridge.core.federation import Federation
from bridge.errors import BadRequest, Forbidden, NotFound
from bridge.orders.ledger import OrderRecord
from bridge.orders.service import OrderService
from bridge.orders.signed_urls import SignedUrlCache
from bridge.settings import Settings

# Assets with these roles are free to look at: no order needed.
FREE_ROLES = frozenset({"thumbnail", "overview"})
PENDING_RETRY_AFTER_S = 5
# The signed-URL cache's tenant slot for the operator's own credentials (tenant ids are > 0).
OPERATOR = 0


class OrderBody(BaseModel):
    """The options of an order; all optional (the provider's standard choice)."""

    model_config = ConfigDict(extra="forbid")

    license: str | None = Field(default=None, max_length=500)
    bundle: str | None = Field(default=None, max_length=200)
    seats: int | None = Field(default=None, ge=1, le=1000)

    def options(self) -> OrderOptions:
        """As :class:`OrderOptions`."""
        return OrderOptions(license=self.license, bundle=self.bundle, seats=self.seats)


class OrdersAPI:
    """Endpoint handlers over the order service."""

    def __init__(
        self,
        settings: Settings,
        auth: Authenticator,
        service: OrderService,
        federation: Federation,
    ) -> None:
        self.settings = settings
        self.auth = auth
        self.service = service
        self.federation = federation
        self.urls = SignedUrlCache()

    def _base(self, request: Request) -> str:
        return base_url(request, self.settings.public_url)

    async def _tenant(self, request: Request) -> TenantRef:
        tenant = await self.auth.tenant(request, required=True)
        assert tenant is not None
        return tenant

    async def quote(
        self,
        request: Request,
        collection_id: str,
        item_id: str,
        # The bounds of OrderBody, checked (a 400) and documented by FastAPI.
        license: str | None = Query(default=None, max_length=500),
        bundle: str | None = Query(default=None, max_length=200),
        seats: int | None = Query(default=None, ge=1, le=1000),
    ) -> Response:
        """GET ``/collections/{c}/items/{i}/quote``: what the item costs with the options."""
        tenant = await self._tenant(request)
        options = OrderBody(license=license, bundle=bundle, seats=seats).options()
        q = await self.service.quote(tenant, collection_id, item_id, options)
        return ORJSONResponse(quote_json(self._base(request), collection_id, item_id, q))

    async def order(
        self,
        request: Request,
        collection_id: str,
        item_id: str,
        idempotency_key: str | None = Header(default=None, max_length=255),
    ) -> Response:
        """POST ``/collections/{c}/items/{i}/order``: order once, whatever the retries."""
        tenant = await self._tenant(request)
        options = (await _order_body(request)).options()
        base = self._base(request)
        await self.federation.get_item(collection_id, item_id)  # 404 for what does not exist
        record = await self.service.order(
            tenant,
            collection_id,
            item_id,
            options,
            idempotency_key,
            webhook_url=f"{base}webhooks/{self.service.provider_of[collection_id]}",
        )
        return ORJSONResponse(
            order_json(base, record),
            status_code=201,
            headers={"Location": f"{base}orders/{record.id}"},
        )

    async def list_orders(
        self, request: Request, limit: int = 50, token: str | None = None
    ) -> Response:
        """GET ``/orders``: the tenant's own orders, newest first, paged."""
        tenant = await self._tenant(request)
        if not 1 <= limit <= 1000:
            raise BadRequest("limit must be between 1 and 1000")
        try:
            offset = int(token or 0)
        except ValueError as exc:
            raise BadRequest("invalid paging token") from exc
        base = self._base(request)
        page = await self.service.ledger.page(tenant.id, limit + 1, offset)
        links: list[dict[str, Any]] = [{"rel": "self", "href": str(request.url)}]
        if len(page) > limit:
            links.append(
                {
                    "rel": "next",
                    "type": "application/json",
                    "method": "GET",
                    "href": f"{base}orders?limit={limit}&token={offset + limit}",
                }
            )
        return ORJSONResponse(
            {"orders": [order_json(base, r) for r in page[:limit]], "links": links}
        )

    async def _own(self, tenant: TenantRef, order_id: str) -> OrderRecord:
        record = await self.service.ledger.get(tenant.id, order_id)
        if record is None:
            raise NotFound(f"no order {order_id}")
        return record

    async def get_order(self, request: Request, order_id: str) -> Response:
        """GET ``/orders/{id}``: one of the tenant's orders, checked with the provider."""
        tenant = await self._tenant(request)
        record = await self.service.refresh(tenant, await self._own(tenant, order_id))
        return ORJSONResponse(order_json(self._base(request), record))

    async def cancel(self, request: Request, order_id: str) -> Response:
        """POST ``/orders/{id}/cancel``: cancel where the provider allows it."""
        tenant = await self._tenant(request)
        record = await self.service.cancel(tenant, await self._own(tenant, order_id))
        return ORJSONResponse(order_json(self._base(request), record))

    async def asset(self, request: Request, collection_id: str, item_id: str, key: str) -> Response:
        """GET/HEAD an item's asset: a redirect to a freshly signed provider URL, or its
        content fetched for the client where the URL needs the provider's credentials.

        Thumbnails and overviews are part of browsing: whoever may search may see them, so
        without a key (and with search open) they are fetched with the operator's own
        credentials. An ``<img>`` tag in a browser cannot send an API key header.
        """
        # A presented key is checked first (401 if unknown), as is a closed search.
        tenant = await self.auth.tenant(request, required=self.settings.search_requires_key)
        provider_name = self.federation.provider_of.get(collection_id)
        if provider_name is None:
            raise NotFound(f"unknown collection: {collection_id}")
        item = await self.federation.get_item(collection_id, item_id)
        asset = (item.get("assets") or {}).get(key)
        if asset is None:
            raise NotFound(f"item {item_id} has no asset {key!r}")
        free = bool(FREE_ROLES.intersection(asset.get("roles") or []))
        if tenant is None and not free:
            tenant = await self._tenant(request)  # the 401 that says how to send a key
        if tenant is None:
            operator = self.federation.providers[provider_name]
            location = await self.urls.get(
                (OPERATOR, collection_id, item_id, key, None),
                lambda: operator.asset_location(collection_id, item_id, key, None),
            )
            return await deliver(request, provider_name, location)
        provider = self.service.tenants.get(tenant, provider_name)  # 403 without a contract
        native_order: str | None = None
        if not free:
            record = await self._entitlement(request, tenant, collection_id, item_id)
            if not isinstance(record, OrderRecord):
                return record
            native_order = record.native_id
        location = await self.urls.get(
            (tenant.id, collection_id, item_id, key, native_order),
            lambda: provider.asset_location(collection_id, item_id, key, native_order),
        )
        return await deliver(request, provider_name, location)

    async def _entitlement(
        self, request: Request, tenant: TenantRef, collection_id: str, item_id: str
    ) -> OrderRecord | Response:
        """The tenant's delivered order of the item, or the response that explains why not."""
        base = self._base(request)
        href = item_href(base, collection_id, item_id)
        orders = await self.service.ledger.for_items(tenant.id, [(collection_id, item_id)])
        record = orders.get((collection_id, item_id))
        if record is None or not record.live:
            record = await self._auto_order(request, tenant, collection_id, item_id)
            if record is None:
                return _not_ordered(href, "this data asset needs an order")
        if record.status != "succeeded":
            record = await self.service.refresh(tenant, record)
        if record.status == "succeeded":
            return record
        if not record.live:
            return _not_ordered(href, f"the order of this item {record.status}")
        return ORJSONResponse(
            {
                "code": "OrderPending",
                "description": f"the order is {record.status}; retry later",
                "order": order_json(base, record),
            },
            status_code=202,
            headers={"Retry-After": str(PENDING_RETRY_AFTER_S)},
        )

    async def _auto_order(
        self, request: Request, tenant: TenantRef, collection_id: str, item_id: str
    ) -> OrderRecord | None:
        policy = self.settings.tenants.get(tenant.name)
        if policy is None or not policy.auto_order:
            return None
        quote = await self.service.quote(tenant, collection_id, item_id, OrderOptions())
        if policy.spending_cap is not None and quote.currency != policy.cap_currency:
            raise Forbidden(f"auto-order: price in {quote.currency}, cap in {policy.cap_currency}")
        return await self.service.order_within_cap(
            tenant,
            collection_id,
            item_id,
            quote,
            policy.spending_cap,
            webhook_url=f"{self._base(request)}webhooks/{self.service.provider_of[collection_id]}",
        )

    async def webhook(self, request: Request, provider: str) -> Response:
        """POST ``/webhooks/{provider}``: a provider says an order changed; re-read it."""
        if provider not in self.federation.providers:
            raise NotFound(f"unknown provider: {provider}")
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequest("webhook body is not JSON") from exc
        count = await self.service.on_webhook(
            provider, self.federation.providers[provider], payload
        )
        return ORJSONResponse({"refreshed": count}, status_code=202)


async def _order_body(request: Request) -> OrderBody:
    raw = await request.body()
    if not raw.strip():
        return OrderBody()
    try:
        return OrderBody.model_validate_json(raw)
    except ValueError as exc:
        raise BadRequest(f"invalid order options: {exc}") from exc


def _not_ordered(item: str, why: str) -> Response:
    return ORJSONResponse(
        {
            "code": "NotOrdered",
            "description": f"{why}: order it first (POST the order link), then retry",
            "links": [
                {
                    "rel": "order",
                    "method": "POST",
                    "type": "application/json",
                    "href": f"{item}/order",
                },
                {"rel": "quote", "type": "application/json", "href": f"{item}/quote"},
            ],
        },
        status_code=403,
    )


def add_order_routes(app: FastAPI, api: OrdersAPI) -> None:
    """Mount the tenant endpoints."""
    item = "/collections/{collection_id}/items/{item_id}"
    routes: list[tuple[str, Any, list[str], str]] = [
        (f"{item}/quote", api.quote, ["GET"], "Quote"),
        (f"{item}/order", api.order, ["POST"], "Order an item"),
        ("/orders", api.list_orders, ["GET"], "List orders"),
        ("/orders/{order_id}", api.get_order, ["GET"], "Get an order"),
        ("/orders/{order_id}/cancel", api.cancel, ["POST"], "Cancel an order"),
        # One route per method: a shared route would give GET and HEAD one operationId.
        (f"{item}/assets/{{key}}", api.asset, ["GET"], "Download an asset"),
        (f"{item}/assets/{{key}}", api.asset, ["HEAD"], "Check an asset"),
        ("/webhooks/{provider}", api.webhook, ["POST"], "Provider webhook"),
    ]
    for path, endpoint, methods, name in routes:
        app.add_api_route(path, endpoint, methods=methods, name=name, tags=["Orders"])
