"""Turning exceptions into STAC error bodies ``{"code", "description"}``.

Statuses come from the one table, :data:`bridge.errors.STATUS_BY_ERROR`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount

from bridge.api.client import ORJSONResponse
from bridge.errors import BridgeError, status_for

log = logging.getLogger("bridge.api")
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_PHRASES = {s.value: s.phrase for s in HTTPStatus}


def _bridge_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BridgeError)
    status = status_for(exc)
    body = {"code": exc.code, "description": exc.description}
    if "providers" in exc.detail:
        body["providers"] = exc.detail["providers"]
    if status >= 500:
        log.warning("%s %s -> %s %s", request.method, request.url.path, status, exc.code)
    return ORJSONResponse(body, status_code=status)


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return ORJSONResponse(
        {"code": "BadRequest", "description": "; ".join(problems) or "invalid request"},
        status_code=400,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's own errors (unreadable body, unknown route, wrong method)
    as STAC error bodies, keeping their headers."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; list them all.
        headers["Allow"] = _allowed(request, exc)
    # "Not Found" -> "NotFound": the codes the bridge's own errors use.
    code = _PHRASES.get(exc.status_code, "Error").replace(" ", "")
    return ORJSONResponse(
        {"code": code, "description": str(exc.detail)},
        status_code=exc.status_code,
        headers=headers,
    )


def _allowed(request: Request, exc: HTTPException) -> str:
    """Every method some route answers for the path (each is tried: only a route can tell,
    in included routers too). A mount (stac-browser's static files) answers for itself."""
    scope = dict(request.scope)
    # Inside a mount, root_path has grown by its prefix: match from the app's own root.
    scope["root_path"] = scope.get("app_root_path", scope.get("root_path", ""))
    routes = request.app.router.routes
    methods = {
        method
        for method in _METHODS
        for route in routes
        if not isinstance(route, Mount)
        and route.matches({**scope, "method": method})[0] is Match.FULL
    }
    if any(isinstance(r, Mount) and r.matches(scope)[0] is Match.FULL for r in routes):
        own = (exc.headers or {}).get("Allow", "")
        methods |= {m.strip() for m in own.split(",") if m.strip()}
    return ", ".join(sorted(methods))


def add_error_handlers(app: FastAPI) -> None:
    """Install the bridge's handlers (replacing stac-fastapi's for validation errors)."""
    app.add_exception_handler(BridgeError, _bridge_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
