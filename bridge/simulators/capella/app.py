"""Capella's native HTTP routes: API-key auth, ``GET /user`` and ``POST /catalog/search``.

Routes live here and archive logic in :mod:`.archive` / :mod:`.search`, so the order and
download routes can join this module later without touching either.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge.simulators.capella.archive import Archive, build_archive
from bridge.simulators.capella.body import SearchError, parse_search
from bridge.simulators.capella.search import run_search
from bridge.simulators.common.app import JSONResponse, SimulatorConfig, read_json, simulator_app

NAME = "capella"
DEMO_API_KEY = "capella-sim-demo-key-7c1f3b2e"
DEMO_USER = {
    "id": "5f6b4c2a-0d7e-4a39-9f8e-2b1c3d4e5f60",
    "organizationId": "0a1b2c3d-4e5f-4061-8a9b-c0d1e2f3a4b5",
    "email": "demo@capella.simulator",
    "name": "Sandbox Demo",
    "roles": ["user"],
}


def error(status: int, message: str, code: str) -> JSONResponse:
    """A response with Capella's error body ``{"error": {"message", "code"}}``."""
    return JSONResponse({"error": {"message": message, "code": code}}, status_code=status)


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


def _api_keys(request: Request) -> frozenset[str]:
    config: SimulatorConfig = request.app.state.config
    extra = config.extra.get("api_keys") or ()
    return frozenset((DEMO_API_KEY, *extra))


def authenticate(request: Request) -> JSONResponse | None:
    """None when the request carries a valid ``Authorization: ApiKey``, else the 401."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer":
        # The simulator issues no JWTs (the SDK's email/password login is not modelled),
        # so every bearer token is one Capella would not recognise.
        return error(401, "Invalid token.", "INVALID_TOKEN")
    if scheme.lower() != "apikey" or credential.strip() not in _api_keys(request):
        return error(401, "Invalid API key.", "INVALID_API_KEY")
    return None


async def get_user(request: Request) -> Response:
    """``GET /user``: the account behind the API key (the SDK reads it at start-up)."""
    return authenticate(request) or JSONResponse(DEMO_USER)


def _assets(item: dict[str, Any], base: str) -> dict[str, Any]:
    """Asset descriptions as search returns them: unsigned storage hrefs.

    Readable only after an order, through ``GET /orders/{id}/download``'s signed URLs.
    The storage layout follows the sample download hrefs (``yyyy/m/d/<id>/<file>``).
    """
    props = item["properties"]
    product = props["sar:product_type"]
    item_id = item["id"]
    start = props["start_datetime"]
    folder = f"{base}/capella-archive/{start[:4]}/{int(start[5:7])}/{int(start[8:10])}/{item_id}"
    data_type = {
        "SLC": ("tif", "image/tiff; application=geotiff"),
        "GEO": ("tif", "image/tiff; application=geotiff; profile=cloud-optimized"),
        "GEC": ("tif", "image/tiff; application=geotiff; profile=cloud-optimized"),
        "SICD": ("ntf", "application/vnd.nitf"),
        "SIDD": ("ntf", "application/vnd.nitf"),
        "CPHD": ("cphd", "application/octet-stream"),
    }[product]
    pol = props["sar:polarizations"][0]
    assets = {
        pol: {
            "href": f"{folder}/{item_id}.{data_type[0]}",
            "title": f"{product} data ({pol})",
            "type": data_type[1],
            "roles": ["data"],
        },
        "metadata": {
            "href": f"{folder}/{item_id}_extended.json",
            "title": "Extended metadata",
            "type": "application/json",
            "roles": ["metadata"],
        },
        "thumbnail": {
            "href": f"{folder}/{item_id}_thumb.png",
            "title": "Thumbnail",
            "type": "image/png",
            "roles": ["thumbnail"],
        },
    }
    if product in ("GEO", "GEC", "SIDD"):
        assets["preview"] = {
            "href": f"{folder}/{item_id}_preview.png",
            "title": "Preview",
            "type": "image/png",
            "roles": ["overview"],
        }
    return assets


def native_feature(item: dict[str, Any], base: str) -> dict[str, Any]:
    """An archive item as the API serves it, with asset hrefs on this host."""
    return {**item, "assets": _assets(item, base), "links": []}


async def catalog_search(request: Request) -> Response:
    """``POST /catalog/search``: a FeatureCollection page with ``numberMatched``."""
    denied = authenticate(request)
    if denied is not None:
        return denied
    try:
        body = await read_json(request)
        search = parse_search(body, request.query_params.get("page"))
    except SearchError as exc:
        return error(400, str(exc), "VALIDATION_ERROR")
    except ValueError:
        return error(400, "request body is not valid JSON", "VALIDATION_ERROR")
    archive: Archive = request.app.state.archive
    matched, items = run_search(archive, search)
    base = str(request.base_url).rstrip("/")
    links: list[dict[str, Any]] = []
    if search.page * search.limit < matched:
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
            "features": [native_feature(i, base) for i in items],
            "links": links,
        },
        headers={"content-type": "application/geo+json"},
    )


def create_app(config: SimulatorConfig) -> Starlette:
    """The Capella simulator over the archive for ``config.seed`` / ``config.scenes``."""
    routes = [
        Route("/user", get_user, methods=["GET"]),
        Route("/catalog/search", catalog_search, methods=["POST"]),
    ]
    archive = build_archive(config.seed, config.scenes)
    app = simulator_app(NAME, routes, config, archive=archive)
    app.add_middleware(CollapseSlashes)
    return app


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Provider settings a native client needs against the simulator at ``base_url``."""
    return {"api_key": DEMO_API_KEY}
