"""Capella's native HTTP routes: ``GET /user``, catalog search, orders, tasking, storage.

Routes are assembled here; archive logic lives in :mod:`.archive` / :mod:`.search`, order
logic in :mod:`.orders` / :mod:`.orders_api`, tasking in :mod:`.tasking` /
:mod:`.tasking_api`, product files in :mod:`.downloads`, accounts in
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
from bridge.simulators.capella.orders import OrderBook
from bridge.simulators.capella.orders_api import (
    download_order,
    get_order,
    list_orders,
    review_order,
    submit_order,
)
from bridge.simulators.capella.search import run_search
from bridge.simulators.capella.settings import CapellaSimulatorSettings
from bridge.simulators.capella.tasking import TaskBook
from bridge.simulators.capella.tasking_api import (
    create_task,
    get_task,
    list_collects,
    order_task,
    paged_tasks,
    patch_task_status,
    search_tasks,
    update_task,
)
from bridge.simulators.common.app import (
    JSONResponse,
    SimulatorConfig,
    read_json,
    simulator_app,
    simulator_settings,
)
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
    settings: CapellaSimulatorSettings = request.app.state.settings
    ttl = settings.url_ttl_s

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
    """The Capella simulator over the archive for ``config.seed`` / ``config.scenes``.

    Raises:
        ValueError: an unknown or invalid ``capella_*`` setting in ``config.extra``.
    """
    settings = simulator_settings(CapellaSimulatorSettings, NAME, config)
    # An archive of its own: completed tasks add their products to it.
    archive = build_archive(config.seed, config.scenes).copy()
    orders = OrderBook(
        archive,
        step_s=settings.order_step_s,
        ttl_s=settings.order_ttl_s,
        budget_usd=settings.budget_usd,
        clock=config.clock,
    )
    tasks = TaskBook(
        archive,
        orders,
        seed=config.seed,
        step_s=settings.task_step_s,
        reject_rate=settings.task_reject_rate,
        fail_rate=settings.task_fail_rate,
        dice_seed=settings.task_seed,
        clock=config.clock,
    )
    orders.prepaid = tasks.delivered
    store = ObjectStore(
        f"capella-simulator-{config.seed}",
        prefix=f"/{BUCKET}",
        clock=config.clock,
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
        Route("/orders/task/{taskingrequestId}", order_task, methods=["POST"]),
        Route("/task", create_task, methods=["POST"]),
        Route("/task/{taskingrequestId}", get_task, methods=["GET"]),
        Route("/task/{taskingrequestId}", update_task, methods=["PATCH"]),
        Route("/task/{taskingrequestId}/status", patch_task_status, methods=["PATCH"]),
        Route("/tasks/search", search_tasks, methods=["POST"]),
        Route("/tasks/paged", paged_tasks, methods=["POST"]),
        Route("/collects/list/{taskingrequestId}", list_collects, methods=["GET"]),
        *store.routes(),
    ]
    app = simulator_app(
        NAME,
        routes,
        config,
        archive=archive,
        orders=orders,
        tasks=tasks,
        store=store,
        settings=settings,
    )
    app.add_middleware(CollapseSlashes)
    return app


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Provider settings a native client needs against the simulator at ``base_url``."""
    return {"api_key": DEMO_API_KEY}
