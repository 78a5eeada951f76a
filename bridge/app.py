"""The app factory: every collaborator is a parameter; tests and ``bridge serve`` share it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from importlib import resources
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from limits.aio.storage import Storage
from stac_fastapi.api.app import StacApi
from stac_fastapi.api.models import create_get_request_model, create_post_request_model
from stac_fastapi.types.config import ApiSettings
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request

from bridge import __version__, registry
from bridge.api.browser import add_browser_routes
from bridge.api.client import PARTIAL_HEADER, BridgeClient, JSONSchemaResponse, ORJSONResponse
from bridge.api.conformance import conformance_classes
from bridge.api.decorate import ItemDecorator
from bridge.api.errors import add_error_handlers
from bridge.api.guard import RequestGuard
from bridge.api.links import base_url
from bridge.api.models import (
    CollectionsGetRequest,
    ItemsGetRequest,
    SearchGetRequest,
    SearchPostRequest,
)
from bridge.api.openapi import install_openapi
from bridge.api.order_views import PRICE_EXTENSION_PATH
from bridge.api.orders import OrdersAPI, add_order_routes
from bridge.api.ratelimit import RateLimit, rate_storage
from bridge.api.telemetry import RequestTelemetry, add_operator_routes
from bridge.auth.keys import KeyStore
from bridge.auth.request import Authenticator
from bridge.catalog import Catalog, load_catalog
from bridge.core.contract import Provider
from bridge.core.federation import Federation
from bridge.core.resilience import Resilience, RetryPolicy
from bridge.core.tokens import TokenSigner
from bridge.core.vocabulary import Vocabulary
from bridge.db.engine import Database
from bridge.db.shared import DatabaseLease, shared_secret
from bridge.orders.ledger import OrderLedger
from bridge.orders.service import OrderService, OrderTiming
from bridge.orders.tenants import Factory, TaskingFactory, TenantProviders
from bridge.sandbox import build_providers, running_sandbox
from bridge.settings import ProviderSettings, Settings
from bridge.tasking.wiring import add_tasking, default_tasking_factories
from bridge.telemetry import REQUEST_ID_HEADER, configure_logging

DEMO_TENANT = "demo"
TOKEN_SECRET_NAME = "paging-token"
POLLER_LEASE = "order-poller"
# How long the poller lease outlives its holder's last renewal (renewed every round).
POLLER_LEASE_S = 15.0

# httpx logs every request URL at INFO; signed URLs and tokens must not reach logs.
logging.getLogger("httpx").setLevel(logging.WARNING)


def _middlewares(settings: Settings, rate_limits: Storage) -> list[Middleware]:
    return [
        # Outermost: it times and logs everything, errors from the others included.
        Middleware(RequestTelemetry),
        # Level 4: about half the time of the default 9 for output ~14% larger.
        Middleware(
            GZipMiddleware,
            minimum_size=1024,
            compresslevel=4,
            # Raster bytes streamed through (ranged reads included) stay as they are.
            exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "image/tiff"),
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors.allow_origins,
            allow_methods=["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
            # stac-browser and QGIS send the key in these; the default allows none of them.
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Accept"],
            expose_headers=[
                PARTIAL_HEADER,
                "Retry-After",
                REQUEST_ID_HEADER,
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
            max_age=settings.cors.max_age_s,
        ),
        Middleware(RateLimit, settings=settings.rate_limits, storage=rate_limits),
        Middleware(RequestGuard, limits=settings.limits),
    ]


def create_app(
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    providers: Mapping[str, Provider] | None = None,
    sandbox_info: dict[str, Any] | None = None,
    database: Database | None = None,
    demo_key: str | None = None,
    tenant_defaults: Mapping[str, ProviderSettings] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    provider_factories: Mapping[str, Factory] | None = None,
    tasking_factories: Mapping[str, TaskingFactory] | None = None,
) -> FastAPI:
    """Build the bridge's FastAPI app.

    Args:
        settings: configuration; read from the environment when None.
        catalog: collection documents; loaded from ``settings.collections_dir`` when None.
        providers: adapters by name; built from ``settings`` when None.
        sandbox_info: what ``GET /sandbox`` shows (simulator URLs and demo credentials);
            the route exists only in sandbox mode.
        database: the tenants / keys / orders database; ``settings.database()`` when None.
        demo_key: registered for the ``demo`` tenant at start-up (sandbox mode).
        tenant_defaults: provider contracts every tenant has unless configured otherwise
            (sandbox mode: the simulators' demo contracts).
        transports: injected HTTP transports per provider for tenants' adapters (tests).
        provider_factories: how to build a tenant's adapter per provider; by default the
            providers' ``create_provider``.
        tasking_factories: how to build a tenant's tasking adapter per provider; by
            default the providers' ``create_tasking`` where they have one.
    """
    settings = settings or Settings()
    catalog = catalog or load_catalog(settings.collections_dir)
    if providers is None:
        providers = build_providers(settings, catalog)
    deadlines = {name: settings.provider(name).timeout_s for name in providers}
    resilience = Resilience(
        RetryPolicy(attempts=settings.retry_attempts),
        breaker_threshold=settings.breaker_failures,
        breaker_reset_s=settings.breaker_reset_s,
    )
    aliases: dict[str, str] = {}
    for provider in providers.values():
        aliases.update(provider.property_aliases)
    vocabulary = Vocabulary(catalog.all(), aliases)
    federation = Federation(
        providers,
        deadlines=deadlines,
        resilience=resilience,
        collection_properties={c: set(p) for c, p in vocabulary.by_collection.items()},
        search_deadline_s=settings.limits.search_deadline_s,
    )
    secret = settings.token_secret.get_secret_value().encode() if settings.token_secret else None
    signer = TokenSigner(secret or secrets.token_bytes(32))

    db = database or Database(settings.database())
    keys = KeyStore(db)
    ledger = OrderLedger(db)
    tenants = TenantProviders(
        settings,
        catalog,
        provider_factories
        or {n: registry.provider_factory(n) for n in providers if n in registry.provider_names()},
        defaults=tenant_defaults,
        transports=transports,
        tasking_factories=(
            default_tasking_factories(providers) if tasking_factories is None else tasking_factories
        ),
    )
    timing = OrderTiming(
        min_check_s=settings.order_check_min_s,
        reconcile_after_s=settings.order_reconcile_after_s,
    )
    orders = OrderService(ledger, tenants, federation.provider_of, timing)
    auth = Authenticator(keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.ready()  # fail at start-up, not at the first request
        if not settings.token_secret:
            # One key for every worker and replica on this database: a token minted by
            # one process is honoured by all of them.
            signer.rekey((await shared_secret(db, TOKEN_SECRET_NAME)).encode())
        if demo_key:
            await keys.add_key(DEMO_TENANT, demo_key)
        term = max(POLLER_LEASE_S, 3 * settings.order_check_min_s)
        lease = DatabaseLease(db, POLLER_LEASE, timedelta(seconds=term))
        poller = asyncio.create_task(
            _poll_orders(orders, settings.order_check_min_s, lease, app.state.tasking.poll_due)
        )
        yield
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        with contextlib.suppress(Exception):  # the lease expires by itself anyway
            await lease.release()
        for provider in federation.providers.values():
            await provider.aclose()
        await tenants.aclose()
        await db.close()

    # Paging tokens are part of the bridge's own request models; the Filter, Query, Sort
    # and Fields extensions plug in here.
    extensions: list[Any] = []
    api_settings = ApiSettings(
        stac_fastapi_title=settings.title,
        stac_fastapi_description=settings.description,
        stac_fastapi_landing_id=settings.landing_page_id,
        stac_fastapi_version=__version__,
    )
    client = BridgeClient(
        federation=federation,
        vocabulary=vocabulary,
        authenticator=auth,
        decorator=ItemDecorator(ledger),
        catalog=catalog,
        signer=signer,
        settings=settings,
        extensions=extensions,
        base_conformance_classes=conformance_classes(),
        landing_page_id=settings.landing_page_id,
        stac_version="1.1.0",
        title=settings.title,
        description=settings.description,
    )
    api = StacApi(
        settings=api_settings,
        client=client,
        extensions=extensions,
        app=FastAPI(
            title=settings.title,
            description=settings.description,
            lifespan=lifespan,
            openapi_url=api_settings.openapi_url,
            docs_url=api_settings.docs_url,
            redoc_url=None,
        ),
        search_get_request_model=create_get_request_model([], base_model=SearchGetRequest),
        search_post_request_model=create_post_request_model([], base_model=SearchPostRequest),
        items_get_request_model=ItemsGetRequest,
        collections_get_request_model=CollectionsGetRequest,
        response_class=ORJSONResponse,
        middlewares=_middlewares(settings, rate_storage(settings.rate_limits, db)),
    )
    app = api.app
    app.state.settings = settings
    app.state.federation = federation
    app.state.db = db
    app.state.keys = keys
    add_error_handlers(app)
    add_operator_routes(app, db, federation)
    _add_schema_routes(app, client)
    add_browser_routes(app, settings)
    add_order_routes(app, OrdersAPI(settings, auth, orders, federation))
    app.state.orders = orders
    app.state.tasking = add_tasking(app, settings, auth, ledger, tenants)
    if sandbox_info is not None:
        _add_sandbox_route(app, sandbox_info)
    install_openapi(app)  # after every route: /api describes what they really answer
    return app


def _add_schema_routes(app: FastAPI, client: BridgeClient) -> None:
    """Queryables and sortables, for all collections and per collection; the price
    extension's JSON Schema."""
    schema = orjson.loads(
        resources.files("bridge.api").joinpath("schemas/price-v1.0.0.json").read_bytes()
    )

    async def price_schema(request: Request) -> JSONSchemaResponse:
        """The JSON Schema of the bridge's price extension."""
        base = base_url(request, client.settings.public_url)
        return JSONSchemaResponse({**schema, "$id": f"{base}{PRICE_EXTENSION_PATH}"})

    app.add_api_route(f"/{PRICE_EXTENSION_PATH}", price_schema, methods=["GET"], tags=["Schemas"])
    for kind, endpoint in (("queryables", client.queryables), ("sortables", client.sortables)):
        app.add_api_route(f"/{kind}", endpoint, methods=["GET"], tags=[kind.title()])
        app.add_api_route(
            f"/collections/{{collection_id}}/{kind}", endpoint, methods=["GET"], tags=[kind.title()]
        )


async def _poll_orders(
    orders: OrderService,
    every_s: float,
    lease: DatabaseLease,
    *also: Callable[[], Awaitable[int]],
) -> None:
    """Keep order states current in the background (webhooks only speed this up).

    Exactly one process per database polls: the one holding the poller lease. The others
    keep trying, and one takes over within the lease's term if the holder dies.
    """
    while True:
        try:
            if await lease.acquire():
                await orders.poll_due()
                for poll in also:  # tasking: the same lease, the same rounds
                    await poll()
        except Exception:  # one bad round must not stop polling; it is logged
            logging.getLogger("bridge.orders").exception("order polling round failed")
        await asyncio.sleep(every_s)


def _add_sandbox_route(app: FastAPI, info: dict[str, Any]) -> None:
    async def sandbox(request: Request) -> ORJSONResponse:
        """Where the built-in simulators run and the demo credentials a native client needs."""
        return ORJSONResponse(info)

    app.add_api_route("/sandbox", sandbox, methods=["GET"], tags=["Sandbox"])


def create_app_from_env() -> FastAPI:
    """``uvicorn --factory bridge.app:create_app_from_env``: the app of one worker process.

    Settings come from the environment; in sandbox mode ``bridge serve`` has put the URLs
    of its running simulators and the demo key there.
    """
    settings = Settings()
    if settings.sandbox_enabled() and settings.simulators.urls:
        catalog = load_catalog(settings.collections_dir)
        app = create_app(settings, **running_sandbox(settings, catalog))
    else:
        app = create_app(settings)
    configure_logging()
    # Archives of collection documents and code built at start-up live for the whole
    # process: take them out of the collector's view and collect young objects less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return app
