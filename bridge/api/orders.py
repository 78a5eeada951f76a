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
from bridge.api.normalize import offset_token
from bridge.api.order_views import order_json, quote_json
from bridge.auth.keys import TenantRef
from bridge.auth.request import Authenticator
from bridge.core.contract import OrderOptions
from bridge.errors import BadRequest
from bridge.orders.access import AssetAccess
from bridge.orders.service import OrderService
from bridge.settings import Settings


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
        access: AssetAccess,
    ) -> None:
        self.settings = settings
        self.auth = auth
        self.service = service
        self.access = access

    def _base(self, request: Request) -> str:
        return base_url(request, self.settings.public_url)

    def _webhook(self, request: Request, provider: str) -> str:
        """Where ``provider`` reports changes to orders placed through this request."""
        return f"{self._base(request)}webhooks/{provider}"

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
        await self.access.get_item(collection_id, item_id)  # 404 for what does not exist
        record = await self.service.order(
            tenant,
            collection_id,
            item_id,
            options,
            idempotency_key,
            webhook_url=self._webhook(request, self.service.provider_name(collection_id)),
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
        offset = offset_token(token)
        base = self._base(request)
        page = await self.service.page(tenant, limit + 1, offset)
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

    async def get_order(self, request: Request, order_id: str) -> Response:
        """GET ``/orders/{id}``: one of the tenant's orders, checked with the provider."""
        tenant = await self._tenant(request)
        record = await self.service.refresh(tenant, await self.service.own(tenant, order_id))
        return ORJSONResponse(order_json(self._base(request), record))

    async def cancel(self, request: Request, order_id: str) -> Response:
        """POST ``/orders/{id}/cancel``: cancel where the provider allows it."""
        tenant = await self._tenant(request)
        record = await self.service.cancel(tenant, await self.service.own(tenant, order_id))
        return ORJSONResponse(order_json(self._base(request), record))

    async def asset(self, request: Request, collection_id: str, item_id: str, key: str) -> Response:
        """GET/HEAD an item's asset: a redirect to a freshly signed provider URL, or its
        content fetched for the client where the URL needs the provider's credentials.

        Who may fetch what is :mod:`bridge.orders.access`'s business; a pending or missing
        order is an error the status table maps (202 / 403).
        """
        # A presented key is checked first (401 if unknown), as is a closed search.
        tenant = await self.auth.tenant(request, required=self.settings.search_requires_key)
        asset = await self.access.find(collection_id, item_id, key)
        if tenant is None and not asset.free:
            tenant = await self._tenant(request)  # the 401 that says how to send a key
        location = await self.access.location(asset, tenant, self._webhook(request, asset.provider))
        return await deliver(request, asset.provider, location)

    async def webhook(self, request: Request, provider: str) -> Response:
        """POST ``/webhooks/{provider}``: a provider says an order changed; re-read it."""
        adapter = self.access.operator(provider)  # 404 for an unknown provider
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequest("webhook body is not JSON") from exc
        count = await self.service.on_webhook(provider, adapter, payload)
        return ORJSONResponse({"refreshed": count}, status_code=202)


async def _order_body(request: Request) -> OrderBody:
    raw = await request.body()
    if not raw.strip():
        return OrderBody()
    try:
        return OrderBody.model_validate_json(raw)
    except ValueError as exc:
        raise BadRequest(f"invalid order options: {exc}") from exc


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
