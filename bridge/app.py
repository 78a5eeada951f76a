"""The app factory, ``create_app(settings, *, wiring, database)``, shared by tests and
``bridge serve``, and the small builders it is made of. Production wiring by default;
sandbox wiring comes from :mod:`bridge.sandbox`, which production code never imports."""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from typing import Any

import orjson
from fastapi import FastAPI
from stac_fastapi.api.app import StacApi
from stac_fastapi.api.models import create_get_request_model, create_post_request_model
from stac_fastapi.types.config import ApiSettings
from starlette.requests import Request

from bridge import __version__
from bridge.api.browser import add_browser_routes
from bridge.api.client import BridgeClient, JSONSchemaResponse, ORJSONResponse
from bridge.api.conformance import conformance_classes
from bridge.api.decorate import ItemDecorator
from bridge.api.errors import add_error_handlers
from bridge.api.links import base_url
from bridge.api.middleware import middleware_stack
from bridge.api.models import (
    CollectionsGetRequest,
    ItemsGetRequest,
    SearchGetRequest,
    SearchPostRequest,
)
from bridge.api.openapi import install_openapi
from bridge.api.order_views import PRICE_EXTENSION_PATH
from bridge.api.orders import OrdersAPI, add_order_routes
from bridge.api.ratelimit import rate_storage
from bridge.api.telemetry import add_operator_routes
from bridge.auth.keys import KeyStore
from bridge.auth.request import Authenticator
from bridge.catalog import Catalog
from bridge.core.federation import Federation
from bridge.core.resilience import Resilience, RetryPolicy
from bridge.core.tokens import TokenSigner
from bridge.core.vocabulary import Vocabulary
from bridge.db.engine import Database
from bridge.db.shared import shared_secret
from bridge.orders.access import AssetAccess
from bridge.orders.ledger import OrderLedger
from bridge.orders.poller import OrderPoller
from bridge.orders.service import OrderService
from bridge.orders.timing import CheckTiming
from bridge.provider_pool import ProviderPool, ProviderWiring
from bridge.settings import Settings
from bridge.tasking.wiring import add_tasking
from bridge.telemetry import configure_logging

DEMO_TENANT = "demo"
TOKEN_SECRET_NAME = "paging-token"

# httpx logs every request URL at INFO; signed URLs and tokens must not reach logs.
logging.getLogger("httpx").setLevel(logging.WARNING)


def create_app(
    settings: Settings | None = None,
    *,
    wiring: ProviderWiring | None = None,
    database: Database | None = None,
) -> FastAPI:
    """Build the bridge's FastAPI app.

    Args:
        settings: configuration; read from the environment when None.
        wiring: where provider adapters come from (catalog, endpoints, transports,
            factories, the sandbox front); production defaults when None. Sandbox mode and
            tests build theirs in :mod:`bridge.sandbox`.
        database: the tenants / keys / orders database; ``settings.database()`` when None.
    """
    settings = settings or Settings()
    # Built here, not in the lifespan: the federation and the vocabulary are made from the
    # operator's adapters. Building one does no I/O (clients connect on first use); the
    # lifespan closes the whole pool.
    pool = ProviderPool(settings, wiring)
    federation, vocabulary = _federation(settings, pool)
    signer = _signer(settings)
    db = database or Database(settings.database())
    keys = KeyStore(db)
    ledger = OrderLedger(db)
    auth = Authenticator(keys)
    orders = OrderService(ledger, pool.tenants, federation.provider_of, _timing(settings))
    access = AssetAccess(orders, pool.operator, federation.get_item, settings.tenants)
    sandbox = pool.wiring.sandbox
    lifespan = _lifespan(
        settings, db, signer, keys, orders, pool, sandbox.demo_key if sandbox else None
    )
    client = _client(settings, federation, vocabulary, auth, ledger, pool.catalog, signer)
    app = _stac_app(settings, client, lifespan, db)
    app.state.settings = settings
    app.state.federation = federation
    app.state.db = db
    app.state.keys = keys
    app.state.orders = orders
    add_error_handlers(app)
    add_operator_routes(app, db, federation)
    _add_schema_routes(app, client)
    add_browser_routes(app, settings)
    add_order_routes(app, OrdersAPI(settings, auth, orders, access))
    app.state.tasking = add_tasking(app, settings, auth, ledger, pool)
    if sandbox is not None:
        _add_sandbox_route(app, sandbox.info)
    install_openapi(app)  # after every route: /api describes what they really answer
    return app


def _federation(settings: Settings, pool: ProviderPool) -> tuple[Federation, Vocabulary]:
    """The federation over the operator's adapters, and the vocabulary they share."""
    providers = pool.operators
    aliases: dict[str, str] = {}
    for provider in providers.values():
        aliases.update(provider.property_aliases)
    vocabulary = Vocabulary(pool.catalog.all(), aliases)
    federation = Federation(
        providers,
        deadlines={name: settings.provider(name).timeout_s for name in providers},
        resilience=Resilience(
            RetryPolicy(attempts=settings.retry_attempts),
            breaker_threshold=settings.breaker_failures,
            breaker_reset_s=settings.breaker_reset_s,
        ),
        collection_properties={c: set(p) for c, p in vocabulary.by_collection.items()},
        search_deadline_s=settings.limits.search_deadline_s,
    )
    return federation, vocabulary


def _signer(settings: Settings) -> TokenSigner:
    """The paging-token signer: the configured secret, else a random one until the
    lifespan replaces it with the one every process on the database shares."""
    secret = settings.token_secret.get_secret_value().encode() if settings.token_secret else None
    return TokenSigner(secret or secrets.token_bytes(32))


def _timing(settings: Settings) -> CheckTiming:
    return CheckTiming(
        min_check_s=settings.order_check_min_s,
        reconcile_after_s=settings.order_reconcile_after_s,
    )


def _lifespan(
    settings: Settings,
    db: Database,
    signer: TokenSigner,
    keys: KeyStore,
    orders: OrderService,
    pool: ProviderPool,
    demo_key: str | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up (database, shared token key, demo key, order poller) and shut-down (the
    poller, its lease, every adapter in the pool, the database)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.ready()  # fail at start-up, not at the first request
        if not settings.token_secret:
            # One key for every worker and replica on this database: a token minted by
            # one process is honoured by all of them.
            signer.rekey((await shared_secret(db, TOKEN_SECRET_NAME)).encode())
        if demo_key:
            await keys.add_key(DEMO_TENANT, demo_key)
        # Tasks are polled in the same rounds, under the same lease.
        also = (app.state.tasking.poll_due,)
        poller = OrderPoller(orders, db, settings.order_check_min_s, also=also)
        poller.start()
        yield
        await poller.stop()
        await pool.aclose()
        await db.close()

    return lifespan


def _client(
    settings: Settings,
    federation: Federation,
    vocabulary: Vocabulary,
    auth: Authenticator,
    ledger: OrderLedger,
    catalog: Catalog,
    signer: TokenSigner,
) -> BridgeClient:
    """The stac-fastapi client: search, items, collections."""
    return BridgeClient(
        federation=federation,
        vocabulary=vocabulary,
        authenticator=auth,
        decorator=ItemDecorator(ledger),
        catalog=catalog,
        signer=signer,
        settings=settings,
        # Paging tokens are part of the bridge's own request models; the Filter, Query,
        # Sort and Fields extensions plug in here.
        extensions=[],
        base_conformance_classes=conformance_classes(),
        landing_page_id=settings.landing_page_id,
        stac_version="1.1.0",
        title=settings.title,
        description=settings.description,
    )


def _stac_app(
    settings: Settings,
    client: BridgeClient,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    db: Database,
) -> FastAPI:
    """stac-fastapi's app over ``client`` with the bridge's request models and middleware."""
    api_settings = ApiSettings(
        stac_fastapi_title=settings.title,
        stac_fastapi_description=settings.description,
        stac_fastapi_landing_id=settings.landing_page_id,
        stac_fastapi_version=__version__,
    )
    api = StacApi(
        settings=api_settings,
        client=client,
        extensions=client.extensions,
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
        middlewares=middleware_stack(settings, rate_storage(settings.rate_limits, db)),
    )
    return api.app


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


def _add_sandbox_route(app: FastAPI, info: dict[str, Any]) -> None:
    async def sandbox(request: Request) -> ORJSONResponse:
        """Where the built-in simulators run and the demo credentials a native client needs."""
        return ORJSONResponse(info)

    app.add_api_route("/sandbox", sandbox, methods=["GET"], tags=["Sandbox"])


def prepare_worker(app: FastAPI) -> FastAPI:
    """Make ``app`` the long-lived app of a worker process: logging, and a collector tuned
    for what lives for the whole process."""
    configure_logging()
    # Archives of collection documents and code built at start-up live for the whole
    # process: take them out of the collector's view and collect young objects less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return app


def create_app_from_env() -> FastAPI:
    """``uvicorn --factory bridge.app:create_app_from_env``: a production worker's app,
    settings from the environment. (Sandbox workers: ``bridge.sandbox``'s factory.)"""
    return prepare_worker(create_app(Settings()))
