"""The ICEYE simulator's native routes: token endpoint, Catalog API v1 and v2, purchases
(:mod:`.orders_api`), Tasking API v2 (:mod:`.tasking_api`) and the delivery storage
(:mod:`.downloads`). One clock: ``config.clock``; settings: :mod:`.settings`.

Catalog responses use ICEYE's ``CatalogItems`` envelope ``{"data": [...], "cursor": ...}``
(``cursor`` absent on the last page). A v1 ``POST /search`` takes no cursor but answers
one, continued through ``GET /v1/items?cursor=`` (ICEYE docs "search catalog items").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import JSONResponse, SimulatorConfig, read_json, simulator_app
from bridge.simulators.iceye.archive import PUBLIC, build_archive
from bridge.simulators.iceye.auth import TOKEN_PATH, AuthState, api_error, authenticate
from bridge.simulators.iceye.auth import token_endpoint as token_route
from bridge.simulators.iceye.downloads import build_store
from bridge.simulators.iceye.orders import PurchaseBook
from bridge.simulators.iceye.orders_api import purchase_routes
from bridge.simulators.iceye.render import render
from bridge.simulators.iceye.request import (
    ITEMS_PARAMS,
    SEARCH_FIELDS,
    SearchError,
    decode_cursor,
    encode_cursor,
    parse_search,
)
from bridge.simulators.iceye.search import collection_of, execute
from bridge.simulators.iceye.settings import iceye_settings
from bridge.simulators.iceye.tasking import TaskBook
from bridge.simulators.iceye.tasking_api import tasking_routes

CATALOG_PREFIX = "/api/catalog"


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _contract_denied(request: Request, client: str, fields: Mapping[str, Any]) -> bool:
    """True when the request names a contract the calling client does not hold."""
    contract = fields.get("contractID")
    if contract is None:
        return False
    auth: AuthState = request.app.state.auth
    return contract not in auth.contracts.get(client, frozenset())


async def _answer(
    request: Request, version: str, fields: Mapping[str, Any], allowed: frozenset[str]
) -> Response:
    client = authenticate(request)
    if isinstance(client, Response):
        return client
    try:
        search, limit, cursor = parse_search(fields, version, allowed)
        stored, offset = decode_cursor(search, cursor)
        if cursor is not None:
            # The cursor carries its search: a GET /items follow-up of a POST /search
            # continues it with the query and geometry only the POST could express.
            search = parse_search(stored, version, SEARCH_FIELDS[version])[0]
    except SearchError as exc:
        return api_error(request, "BAD_REQUEST", str(exc), 400)
    if _contract_denied(request, client, fields):
        return api_error(request, "FORBIDDEN", "contract is not available to this client", 403)
    tasks: TaskBook = request.app.state.tasks
    archive = tasks.archive()
    # v1 has no private collection; tasked products still belong to their owner.
    owned = tasks.owned_frames(client)
    if version == "v2":
        owned |= request.app.state.purchases.owned_frames(client, archive)
    scenes, next_offset = execute(archive, search, offset, limit, owned)
    base = _base_url(request)
    store = request.app.state.store
    body: dict[str, Any] = {
        "data": [
            render(s, version, base, store, collection_of(s, search, owned) or PUBLIC)
            for s in scenes
        ]
    }
    if next_offset is not None:
        body["cursor"] = encode_cursor(search, next_offset)
    return JSONResponse(body)


def _search_route(version: str) -> Any:
    async def search(request: Request) -> Response:
        try:
            body = await read_json(request)
        except ValueError as exc:
            return api_error(request, "BAD_REQUEST", str(exc), 400)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return api_error(request, "BAD_REQUEST", "body must be a JSON object", 400)
        return await _answer(request, version, body, SEARCH_FIELDS[version])

    return search


def _items_route(version: str) -> Any:
    async def items(request: Request) -> Response:
        fields = dict(request.query_params)
        return await _answer(request, version, fields, ITEMS_PARAMS[version])

    return items


def create_app(config: SimulatorConfig) -> Starlette:
    """The ICEYE simulator over the deterministic archive of ``config``."""
    settings = iceye_settings(config)
    clock = config.clock
    tasks = TaskBook(
        base=build_archive(config.seed, config.scenes),
        clock=clock,
        seed=config.seed,
        step_s=settings.task_step_s,
        reject_rate=settings.task_reject_rate,
        fail_rate=settings.task_fail_rate,
        budgets=settings.task_budgets,
    )
    auth = AuthState(token_ttl_s=settings.token_ttl_s, clock=clock)
    store = build_store(tasks.archive, config.seed, clock)
    purchases = PurchaseBook(
        clock=clock, step_s=settings.order_step_s, outcomes=dict(settings.purchase_outcomes)
    )
    routes = [Route(TOKEN_PATH, token_route, methods=["POST"])]
    for version in ("v1", "v2"):
        prefix = f"{CATALOG_PREFIX}/{version}"
        routes.append(Route(f"{prefix}/search", _search_route(version), methods=["POST"]))
        routes.append(Route(f"{prefix}/items", _items_route(version), methods=["GET"]))
    routes += purchase_routes(CATALOG_PREFIX)
    routes += tasking_routes()
    routes += store.routes()
    return simulator_app(
        "iceye",
        routes,
        config,
        auth=auth,
        clock=clock,
        store=store,
        purchases=purchases,
        tasks=tasks,
        unpriced_contracts=settings.unpriced_contracts,
    )
