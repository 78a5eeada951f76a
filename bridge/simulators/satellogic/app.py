"""The Satellogic simulator's routes: token endpoint, archive STAC API, orders, tasking,
downloads.

Orders (:mod:`.orders_api`), tasking (:mod:`.tasking_api`) and downloads
(:mod:`.downloads`: archive quicklooks and the Telluric scene listing with tokenized URLs)
have their own modules; this one wires them.

The archive is served under ``/archive/stac/`` (as at ``https://api.satellogic.com``);
every archive route sits behind the API gateway checks of :mod:`.auth`, the landing page
included (assumed: the gateway guards the whole API). Responses follow
stac-fastapi-pgstac: ``numberMatched``/``numberReturned`` on item collections (assumed),
``next``/``prev`` links carrying a keyset ``token``; a POST next link carries only
``{"token": ...}`` with ``"merge": true``.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import (
    JSONResponse,
    SimulatorConfig,
    read_json,
    simulator_app,
    simulator_settings,
)
from bridge.simulators.satellogic import contracts, paging
from bridge.simulators.satellogic import search as native
from bridge.simulators.satellogic.archive import (
    NATIVE_COLLECTIONS,
    Archive,
    Tile,
    build_archive,
)
from bridge.simulators.satellogic.auth import AuthState, authorize, token_endpoint
from bridge.simulators.satellogic.collections import collection_doc
from bridge.simulators.satellogic.downloads import Downloads
from bridge.simulators.satellogic.orders import OrderBook
from bridge.simulators.satellogic.orders_api import OrdersApi
from bridge.simulators.satellogic.params import search_from_body, search_from_params
from bridge.simulators.satellogic.settings import SatellogicSettings
from bridge.simulators.satellogic.tasking import TaskBook
from bridge.simulators.satellogic.tasking_api import SettleTasks, TaskingApi
from bridge.simulators.satellogic.telluric import Telluric

STAC = "/archive/stac"
GEOJSON = "application/geo+json"
CONFORMS_TO = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
]


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _error(error: native.SearchError) -> Response:
    return JSONResponse({"code": error.code, "description": error.description}, status_code=400)


def _not_found(description: str) -> Response:
    return JSONResponse({"code": "NotFoundError", "description": description}, status_code=404)


def _item_json(request: Request, tile: Tile, root: str) -> dict[str, Any]:
    base = f"{root}{STAC}"
    coll = f"{base}/collections/{tile.collection}"
    return {
        **tile.item,
        "links": [
            {"rel": "self", "type": GEOJSON, "href": f"{coll}/items/{tile.id}"},
            {"rel": "parent", "type": "application/json", "href": coll},
            {"rel": "collection", "type": "application/json", "href": coll},
            {"rel": "root", "type": "application/json", "href": f"{base}/"},
        ],
        # Browse hrefs get fresh tokens on every response; COGs carry their proj:* fields.
        "assets": request.app.state.downloads.archive_assets(tile, root),
    }


def _item_collection(
    request: Request,
    s: native.NativeSearch,
    visible: frozenset[str],
    body: dict[str, Any] | None = None,
) -> Response:
    """One page; ``body`` is the POST search (or the one a server-side cursor names)."""
    archive: Archive = request.app.state.archive
    matches = native.evaluate(archive, s, visible)
    tiles, start = native.page(matches, s.token, s.limit)
    root = _root(request)
    links: list[dict[str, Any]] = [
        {"rel": "root", "type": "application/json", "href": f"{root}{STAC}/"},
    ]
    tokens = []
    if start + len(tiles) < len(matches) and tiles:
        tokens.append(("next", f"next:{tiles[-1].id}"))
    if start > 0 and tiles:
        tokens.append(("prev", f"prev:{tiles[0].id}"))
    for rel, token in tokens:
        if body is not None:
            links.append(
                paging.post_link(
                    request.app.state.next_link, rel, str(request.url), f"{root}{STAC}/search",
                    body, token, request.app.state.cursors,
                )
            )  # fmt: skip
        else:
            href = str(request.url.include_query_params(token=token))
            links.append({"rel": rel, "type": GEOJSON, "method": "GET", "href": href})
    return JSONResponse(
        {
            "type": "FeatureCollection",
            "features": [_item_json(request, t, root) for t in tiles],
            "links": links,
            "numberMatched": len(matches),
            "numberReturned": len(tiles),
        },
        headers={"content-type": GEOJSON},
    )


async def _search_body(request: Request) -> dict[str, Any] | None:
    """The POST body, or the search a GET ``?cursor=`` names; None for a plain GET."""
    if request.method == "POST":
        try:
            body = await read_json(request)
        except ValueError as exc:
            raise native.SearchError(str(exc), "RequestValidationError") from exc
        if not isinstance(body, dict):
            raise native.SearchError("body must be a JSON object", "RequestValidationError")
        if "next" in body:  # the opaque value of a ``full-body`` link
            token = paging.decode(body["next"])
            if token is None:
                raise native.SearchError(f"Invalid paging value {body['next']!r}")
            body = {**body, "token": token}
        return body
    key = request.query_params.get("cursor")
    if key is None:
        return None
    saved: dict[str, Any] | None = request.app.state.cursors.load(key)
    if saved is None:
        raise native.SearchError(f"Unknown or expired cursor {key!r}")
    return saved


async def search_route(request: Request) -> Response:
    """``GET|POST /archive/stac/search``."""
    auth = authorize(request)
    if isinstance(auth, Response):
        return auth
    try:
        body = await _search_body(request)
        s = search_from_params(request.query_params) if body is None else search_from_body(body)
        if body is not None:
            body = {k: v for k, v in body.items() if k not in ("token", "next")}
        return _item_collection(request, s, auth[0], body)
    except native.SearchError as exc:
        return _error(exc)


async def items_route(request: Request) -> Response:
    """``GET /archive/stac/collections/{collection_id}/items``."""
    auth = authorize(request)
    if isinstance(auth, Response):
        return auth
    cid = request.path_params["collection_id"]
    if cid not in auth[0]:
        return _not_found(f"Collection {cid} does not exist.")
    try:
        s = search_from_params(request.query_params)
        s.collections = [cid]
        return _item_collection(request, s, auth[0])
    except native.SearchError as exc:
        return _error(exc)


async def item_route(request: Request) -> Response:
    """``GET /archive/stac/collections/{collection_id}/items/{item_id}``."""
    auth = authorize(request)
    if isinstance(auth, Response):
        return auth
    cid, iid = request.path_params["collection_id"], request.path_params["item_id"]
    tile = request.app.state.archive.by_key.get((cid, iid)) if cid in auth[0] else None
    if tile is None:
        return _not_found(f"Item {iid} in Collection {cid} does not exist.")
    return JSONResponse(
        _item_json(request, tile, _root(request)), headers={"content-type": GEOJSON}
    )


async def collections_route(request: Request) -> Response:
    """``GET /archive/stac/collections``."""
    auth = authorize(request)
    if isinstance(auth, Response):
        return auth
    root = _root(request)
    docs = [collection_doc(c, root) for c in NATIVE_COLLECTIONS if c in auth[0]]
    links = [
        {"rel": "root", "type": "application/json", "href": f"{root}{STAC}/"},
        {"rel": "self", "type": "application/json", "href": f"{root}{STAC}/collections"},
    ]
    return JSONResponse({"collections": docs, "links": links})


async def collection_route(request: Request) -> Response:
    """``GET /archive/stac/collections/{collection_id}``."""
    auth = authorize(request)
    if isinstance(auth, Response):
        return auth
    cid = request.path_params["collection_id"]
    if cid not in auth[0]:
        return _not_found(f"Collection {cid} does not exist.")
    return JSONResponse(collection_doc(cid, _root(request)))


async def landing_route(request: Request) -> Response:
    """``GET /archive/stac/``: the STAC API landing page."""
    auth = authorize(request)
    if isinstance(auth, Response):
        return auth
    base = f"{_root(request)}{STAC}"
    links = [
        {"rel": "self", "type": "application/json", "href": f"{base}/"},
        {"rel": "root", "type": "application/json", "href": f"{base}/"},
        {"rel": "conformance", "type": "application/json", "href": f"{base}/conformance"},
        {"rel": "data", "type": "application/json", "href": f"{base}/collections"},
        {"rel": "search", "type": GEOJSON, "method": "GET", "href": f"{base}/search"},
        {"rel": "search", "type": GEOJSON, "method": "POST", "href": f"{base}/search"},
    ]
    links += [
        {"rel": "child", "type": "application/json", "href": f"{base}/collections/{c}"}
        for c in NATIVE_COLLECTIONS
        if c in auth[0]
    ]
    return JSONResponse(
        {
            "type": "Catalog",
            "stac_version": "1.0.0",
            "id": "satellogic-archive",
            "title": "Satellogic Archive",
            "description": "Satellogic imagery archive, 2 km x 2 km tiles.",
            "conformsTo": CONFORMS_TO,
            "links": links,
        }
    )


async def conformance_route(request: Request) -> Response:
    """``GET /archive/stac/conformance``."""
    auth = authorize(request)
    if isinstance(auth, Response):
        return auth
    return JSONResponse({"conformsTo": CONFORMS_TO})


def create_app(config: SimulatorConfig) -> Starlette:
    """The Satellogic simulator app over the archive for ``config.seed``/``config.scenes``.

    Settings come from ``config.extra`` keys ``satellogic_<field>`` (:mod:`.settings`);
    ``config.clock`` is the one clock of tokens, orders, tasks and download URLs.
    """
    settings = simulator_settings(SatellogicSettings, "satellogic", config)
    archive = build_archive(config.seed, config.scenes).copy()  # tasks add captures to it
    book = OrderBook(
        step_s=settings.order_step_s,
        ttl_s=settings.delivery_ttl_s,
        fail_rate=settings.fail_rate,
        seed=config.seed,
        clock=config.clock,
    )
    tasks = TaskBook(
        step_s=settings.task_step_s,
        reject_rate=settings.task_reject_rate,
        fail_rate=settings.task_fail_rate,
        seed=config.seed,
        clock=config.clock,
        archive=archive,
        orders=book,
    )
    downloads = Downloads(archive, book, settings)
    routes = [
        Route("/oauth/token", token_endpoint, methods=["POST"]),
        Route(f"{STAC}/", landing_route, methods=["GET"]),
        Route(STAC, landing_route, methods=["GET"]),
        Route(f"{STAC}/conformance", conformance_route, methods=["GET"]),
        Route(f"{STAC}/collections", collections_route, methods=["GET"]),
        Route(f"{STAC}/collections/{{collection_id}}", collection_route, methods=["GET"]),
        Route(f"{STAC}/collections/{{collection_id}}/items", items_route, methods=["GET"]),
        Route(
            f"{STAC}/collections/{{collection_id}}/items/{{item_id}}", item_route, methods=["GET"]
        ),
        Route(f"{STAC}/search", search_route, methods=["GET", "POST"]),
        *contracts.routes(),
        *OrdersApi(archive, book).routes(),
        *TaskingApi(tasks).routes(),
        *Telluric(downloads).routes(),
        *downloads.routes(),
    ]
    app = simulator_app(
        "satellogic",
        routes,
        config,
        archive=archive,
        auth=AuthState(lifetime_s=settings.token_lifetime_s),
        orders=book,
        tasks=tasks,
        downloads=downloads,
        next_link=settings.next_link,
        cursors=paging.Cursors(),
    )
    app.add_middleware(SettleTasks, book=tasks)
    return app
