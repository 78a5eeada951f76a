"""The STAPI endpoints under ``/tasking/``: thin handlers over :class:`TaskingService`,
with the archive's API keys and tenants and the bridge's one error table.

Idempotent order creation (not in STAPI v0.1.0; its issue #283): ``Idempotency-Key``
names the order; without it the request's digest does. A repeat answers 201 with the same
order and ``Location`` (the first answer replayed, as in the IETF Idempotency-Key draft);
the same key with a different request is a 409 naming the header.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import Response

from bridge.api.client import ORJSONResponse
from bridge.api.links import base_url
from bridge.api.normalize import offset_token
from bridge.auth.keys import TenantRef
from bridge.auth.request import Authenticator
from bridge.errors import BadRequest, NotFound
from bridge.settings import Settings
from bridge.tasking.records import TaskingRecord
from bridge.tasking.requests import opportunity_request, order_request
from bridge.tasking.service import TaskingService
from bridge.tasking.views import (
    CORE,
    GEOJSON,
    OPPORTUNITIES,
    ORDER_STATUSES,
    link,
    opportunity_json,
    order_json,
    product_json,
    status_json,
)

MAX_PAGE = 100
LIMIT = Query(default=10, ge=1, le=MAX_PAGE)
NEXT = Query(default=None, max_length=20, pattern=r"^[0-9]+$")


class TaskingAPI:
    """Endpoint handlers."""

    def __init__(self, settings: Settings, auth: Authenticator, service: TaskingService) -> None:
        self.settings = settings
        self.auth = auth
        self.service = service

    def _base(self, request: Request) -> str:
        return base_url(request, self.settings.public_url)

    async def _tenant(self, request: Request) -> TenantRef:
        tenant = await self.auth.tenant(request, required=True)
        assert tenant is not None
        return tenant

    async def _own(self, tenant: TenantRef, order_id: str) -> TaskingRecord:
        record = await self.service.ledger.get(tenant.id, order_id)
        if record is None:
            raise NotFound(f"no tasking order {order_id}")
        return record

    async def _order_body(self, base: str, record: TaskingRecord, tenant: TenantRef) -> Any:
        events = await self.service.ledger.events(record.id)
        return order_json(base, record, events[-1] if events else None, tenant.name)

    async def root(self, request: Request) -> Response:
        """GET ``/tasking/``: the STAPI landing page."""
        base = self._base(request)
        t = f"{base}tasking/"
        return ORJSONResponse(
            {
                "id": "bridge-tasking",
                "title": f"{self.settings.title}: tasking",
                "description": "Order new acquisitions from every provider (STAPI v0.1.0).",
                "conformsTo": self._classes(),
                "links": [
                    link("self", t),
                    link("root", t),
                    link("conformance", f"{t}conformance"),
                    link("products", f"{t}products"),
                    link("orders", f"{t}orders", GEOJSON),
                    link(
                        "service-desc", f"{base}api", "application/vnd.oai.openapi+json;version=3.0"
                    ),
                    link("service-doc", f"{base}api.html", "text/html"),
                    link("parent", base, title="The STAC API (archive)"),
                ],
            }
        )

    def _classes(self) -> list[str]:
        products = [p for _, p in self.service.products().values()]
        return [
            CORE,
            ORDER_STATUSES,
            *([OPPORTUNITIES] if any(p.opportunities for p in products) else []),
        ]

    async def conformance(self, request: Request) -> Response:
        """GET ``/tasking/conformance``."""
        return ORJSONResponse({"conformsTo": self._classes()})

    async def products(
        self, request: Request, limit: int = LIMIT, next: str | None = NEXT
    ) -> Response:
        """GET ``/tasking/products``: every provider's products, paged."""
        base = self._base(request)
        offset = offset_token(next)
        every = [p for _, p in self.service.products().values()]
        page = every[offset : offset + limit]
        links = [link("self", str(request.url))]
        if offset + limit < len(every):
            links.append(
                link("next", f"{base}tasking/products?limit={limit}&next={offset + limit}")
            )
        return ORJSONResponse({"products": [product_json(base, p) for p in page], "links": links})

    async def product(self, request: Request, product_id: str) -> Response:
        """GET ``/tasking/products/{id}``."""
        _, product = self.service.product(product_id)
        return ORJSONResponse(product_json(self._base(request), product))

    async def queryables(self, request: Request, product_id: str) -> Response:
        """GET ``/tasking/products/{id}/queryables``: what a ``filter`` may constrain."""
        _, product = self.service.product(product_id)
        return ORJSONResponse(product.queryables, media_type="application/schema+json")

    async def order_parameters(self, request: Request, product_id: str) -> Response:
        """GET ``/tasking/products/{id}/order-parameters``: the JSON Schema of the options."""
        _, product = self.service.product(product_id)
        return ORJSONResponse(product.order_parameters, media_type="application/schema+json")

    async def opportunities(self, request: Request, product_id: str) -> Response:
        """POST ``/tasking/products/{id}/opportunities``: windows the product could be
        acquired in (only for products that advertise opportunities)."""
        _, product = self.service.product(product_id)
        if not product.opportunities:
            raise NotFound(f"product {product_id!r} offers no opportunity search")
        tenant = await self._tenant(request)
        req, limit = opportunity_request(await request.body(), product)
        result = await self.service.opportunities(tenant, req, limit)
        base = self._base(request)
        body: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [opportunity_json(base, product, o) for o in result.opportunities[:limit]],
            "links": [
                link("self", f"{base}tasking/products/{product_id}/opportunities", method="POST")
            ],
        }
        if result.errors:
            body["bridge:errors"] = result.errors
        return ORJSONResponse(body, media_type=GEOJSON)

    async def create_order(
        self,
        request: Request,
        product_id: str,
        idempotency_key: str | None = Header(default=None, max_length=255),
    ) -> Response:
        """POST ``/tasking/products/{id}/orders``: one native task per (tenant, product,
        key), whatever the retries: 201 and ``Location``."""
        name, product = self.service.product(product_id)
        tenant = await self._tenant(request)
        req = order_request(await request.body(), product)
        base = self._base(request)
        record = await self.service.order(
            tenant, req, idempotency_key or None, webhook_url=f"{base}tasking/webhooks/{name}"
        )
        return ORJSONResponse(
            await self._order_body(base, record, tenant),
            status_code=201,
            media_type=GEOJSON,
            headers={"Location": f"{base}tasking/orders/{record.id}"},
        )

    async def _order_list(
        self, request: Request, limit: int, next: str | None, product_id: str | None
    ) -> Response:
        tenant = await self._tenant(request)
        base = self._base(request)
        offset = offset_token(next)
        page = await self.service.ledger.page(tenant.id, limit + 1, offset, product_id)
        links = [link("self", str(request.url), GEOJSON)]
        if len(page) > limit:
            path = f"products/{product_id}/orders" if product_id else "orders"
            links.append(
                link("next", f"{base}tasking/{path}?limit={limit}&next={offset + limit}", GEOJSON)
            )
        features = [await self._order_body(base, r, tenant) for r in page[:limit]]
        body = {"type": "FeatureCollection", "features": features, "links": links}
        return ORJSONResponse(body, media_type=GEOJSON)

    async def orders(
        self, request: Request, limit: int = LIMIT, next: str | None = NEXT
    ) -> Response:
        """GET ``/tasking/orders``: the tenant's tasking orders, newest first, paged."""
        return await self._order_list(request, limit, next, None)

    async def product_orders(
        self, request: Request, product_id: str, limit: int = LIMIT, next: str | None = NEXT
    ) -> Response:
        """GET ``/tasking/products/{id}/orders``: the tenant's orders of one product."""
        self.service.product(product_id)
        return await self._order_list(request, limit, next, product_id)

    async def order(self, request: Request, order_id: str) -> Response:
        """GET ``/tasking/orders/{id}``: one of the tenant's orders, checked with the provider."""
        tenant = await self._tenant(request)
        record = await self.service.refresh(tenant, await self._own(tenant, order_id))
        body = await self._order_body(self._base(request), record, tenant)
        return ORJSONResponse(body, media_type=GEOJSON)

    async def statuses(
        self, request: Request, order_id: str, limit: int = LIMIT, next: str | None = NEXT
    ) -> Response:
        """GET ``/tasking/orders/{id}/statuses``: the history, oldest first, paged."""
        tenant = await self._tenant(request)
        record = await self._own(tenant, order_id)
        base = self._base(request)
        offset = offset_token(next)
        events = await self.service.ledger.events(record.id)
        href = f"{base}tasking/orders/{order_id}/statuses"
        links = [
            link("self", str(request.url)),
            link("order", f"{base}tasking/orders/{order_id}", GEOJSON),
        ]
        if offset + limit < len(events):
            links.append(link("next", f"{href}?limit={limit}&next={offset + limit}"))
        statuses = [status_json(base, record, e) for e in events[offset : offset + limit]]
        return ORJSONResponse({"statuses": statuses, "links": links})

    async def cancel(self, request: Request, order_id: str) -> Response:
        """POST ``/tasking/orders/{id}/cancel``: where the provider allows it, else 409."""
        tenant = await self._tenant(request)
        record = await self.service.cancel(tenant, await self._own(tenant, order_id))
        body = await self._order_body(self._base(request), record, tenant)
        return ORJSONResponse(body, media_type=GEOJSON)

    async def approve(self, request: Request, order_id: str) -> Response:
        """POST ``/tasking/orders/{id}/approve``: approve the cost where the provider waits
        for it (Capella), else 409."""
        tenant = await self._tenant(request)
        record = await self.service.approve(tenant, await self._own(tenant, order_id))
        body = await self._order_body(self._base(request), record, tenant)
        return ORJSONResponse(body, media_type=GEOJSON)

    async def webhook(self, request: Request, provider: str) -> Response:
        """POST ``/tasking/webhooks/{provider}``: a task changed; re-read it natively."""
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequest("webhook body is not JSON") from exc
        count = await self.service.on_webhook(provider, payload)
        return ORJSONResponse({"refreshed": count}, status_code=202)


def add_tasking_routes(app: FastAPI, api: TaskingAPI) -> None:
    """Mount the STAPI endpoints under ``/tasking/``."""
    p = "/tasking/products/{product_id}"
    o = "/tasking/orders/{order_id}"
    routes: list[tuple[str, Any, str, str]] = [
        ("/tasking/", api.root, "GET", "STAPI landing page"),
        ("/tasking/conformance", api.conformance, "GET", "STAPI conformance"),
        ("/tasking/products", api.products, "GET", "List tasking products"),
        (p, api.product, "GET", "Get a tasking product"),
        (f"{p}/queryables", api.queryables, "GET", "Tasking product queryables"),
        (f"{p}/order-parameters", api.order_parameters, "GET", "Tasking order parameters"),
        (f"{p}/opportunities", api.opportunities, "POST", "Search opportunities"),
        (f"{p}/orders", api.create_order, "POST", "Create a tasking order"),
        (f"{p}/orders", api.product_orders, "GET", "List a product's tasking orders"),
        ("/tasking/orders", api.orders, "GET", "List tasking orders"),
        (o, api.order, "GET", "Get a tasking order"),
        (f"{o}/statuses", api.statuses, "GET", "Tasking order statuses"),
        (f"{o}/cancel", api.cancel, "POST", "Cancel a tasking order"),
        (f"{o}/approve", api.approve, "POST", "Approve a tasking order"),
        ("/tasking/webhooks/{provider}", api.webhook, "POST", "Tasking webhook"),
    ]
    for path, endpoint, method, name in routes:
        app.add_api_route(path, endpoint, methods=[method], name=name, tags=["Tasking"])
