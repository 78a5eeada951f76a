"""Capella's native HTTP routes: ``GET /user``, ``POST /catalog/search``, orders, storage.

Routes are assembled here; archive logic lives in :mod:`.archive` / :mod:`.search`, order
logic in :mod:`.orders` / :mod:`.orders_api`, product files in :mod:`.downloads`, accounts in
:mod:`.auth`. Product files are served by a simulated S3 bucket at ``/capella-archive/...``
behind presigned URLs.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge.simulators.capella.archive import COLLECTIONS, Archive, build_archive
from bridge.simulators.capella.auth import DEMO_API_KEY, DEMO_USER, current_user, error
from bridge.simulators.capella.body import MAX_WINDOW, SearchError, parse_search
from bridge.simulators.capella.downloads import BUCKET, native_feature, resolver
from bridge.simulators.capella.orders import (
    DEFAULT_BUDGET_USD,
    DEFAULT_STEP_S,
    DEFAULT_TTL_S,
    OrderBook,
)
from bridge.simulators.capella.orders_api import (
    DEFAULT_URL_TTL_S,
    download_order,
    get_order,
    list_orders,
    review_order,
    submit_order,
)
from bridge.simulators.capella.search import run_search
from bridge.simulators.common.app import JSONResponse, SimulatorConfig, read_json, simulator_app
from bridge.simulators.common.storage import ObjectStore

__all__ = ["DEMO_API_KEY", "DEMO_USER", "create_app", "native_feature", "sandbox_settings"]

NAME = "capella"


class CollapseSlashes:
    """Serve ``//catalog/search`` as ``/catalog/search``.

    The capella-console-client SDK joins ``f"{base_url}/catalog/search"``, so a base URL
    ending in ``/`` puts a double slash on the wire; the real API answers it.
    """

    _SLASHES = re.compile(r"/{2,}")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            path = self._SLASHES.sub("/", scope["path"])
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


async def get_user(request: Request) -> Response:
    """``GET /user``: the account behind the API key (the SDK reads it at start-up)."""
    user = current_user(request)
    return user if isinstance(user, JSONResponse) else JSONResponse(user)


async def catalog_search(request: Request) -> Response:
    """``POST /catalog/search``: a FeatureCollection page with ``numberMatched``."""
    user = current_user(request)
    if isinstance(user, JSONResponse):
        return user
    try:
        body = await read_json(request)
        search = parse_search(body, request.query_params.get("page"))
    except SearchError as exc:
        return error(400, str(exc), "VALIDATION_ERROR")
    except ValueError:
        return error(400, "request body is not valid JSON", "VALIDATION_ERROR")
    denied = sorted((search.collections or frozenset()) - frozenset(COLLECTIONS.values()))
    if denied:
        # Wording of the SDK's tests (test_exception_handling.py); status assumed.
        return JSONResponse(
            {
                "error": "Your organization is not permitted to access any of the "
                f"collections your query is attempting to filter amongst ({', '.join(denied)})"
            },
            status_code=403,
        )
    archive: Archive = request.app.state.archive
    orders: OrderBook = request.app.state.orders
    matched, items = run_search(archive, search, orders.owned(user["organizationId"]))
    base = str(request.base_url).rstrip("/")
    store: ObjectStore = request.app.state.store
    config: SimulatorConfig = request.app.state.config
    ttl = float(config.extra.get("capella_url_ttl_s", DEFAULT_URL_TTL_S))

    def sign(key: str) -> str:
        # Thumbnails and previews need no order: search hands them out presigned.
        return store.sign_url(base, key, expires_in_s=ttl)

    links: list[dict[str, Any]] = []
    window = min(matched, MAX_WINDOW)  # no next page past the 10,000-item window
    if search.page * search.limit < window:
        # The SDK re-POSTs its body with "page": N to this href (page also in the URL).
        links.append(
            {
                "rel": "next",
                "href": f"{base}/catalog/search?page={search.page + 1}",
                "method": "POST",
                "type": "application/geo+json",
            }
        )
    return JSONResponse(
        {
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": len(items),
            "features": [native_feature(i, base, sign) for i in items],
            "links": links,
        },
        headers={"content-type": "application/geo+json"},
    )


def create_app(config: SimulatorConfig) -> Starlette:
    """The Capella simulator over the archive for ``config.seed`` / ``config.scenes``."""
    archive = build_archive(config.seed, config.scenes)
    extra = config.extra
    orders = OrderBook(
        archive,
        step_s=float(extra.get("capella_order_step_s", DEFAULT_STEP_S)),
        ttl_s=float(extra.get("capella_order_ttl_s", DEFAULT_TTL_S)),
        budget_usd=float(extra.get("capella_budget_usd", DEFAULT_BUDGET_USD)),
    )
    store = ObjectStore(
        f"capella-simulator-{config.seed}",
        prefix=f"/{BUCKET}",
        # Orders and URLs share one clock, so a test moving it moves both.
        clock=lambda: orders.clock(),
        resolver=resolver(archive, config.seed),
    )
    routes = [
        Route("/user", get_user, methods=["GET"]),
        Route("/catalog/search", catalog_search, methods=["POST"]),
        Route("/orders/review", review_order, methods=["POST"]),
        Route("/orders", submit_order, methods=["POST"]),
        Route("/orders", list_orders, methods=["GET"]),
        Route("/orders/{order_id}", get_order, methods=["GET"]),
        Route("/orders/{order_id}/download", download_order, methods=["GET"]),
        *store.routes(),
    ]
    app = simulator_app(NAME, routes, config, archive=archive, orders=orders, store=store)
    app.add_middleware(CollapseSlashes)
    return app


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Provider settings a native client needs against the simulator at ``base_url``."""
    return {"api_key": DEMO_API_KEY}
