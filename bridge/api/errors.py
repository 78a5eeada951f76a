"""Turning exceptions into STAC error bodies ``{"code", "description"}``.

Statuses come from the one table, :data:`bridge.errors.STATUS_BY_ERROR`. Every error the
server emits has this body: the bridge's own errors, request validation, Starlette's
HTTP errors (unknown routes, wrong methods, unparseable bodies) and unexpected failures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount

from bridge.api.client import ORJSONResponse
from bridge.api.links import base_url
from bridge.api.order_views import item_href, order_json, order_links
from bridge.errors import (
    BadRequest,
    BridgeError,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    status_for,
)

log = logging.getLogger("bridge.api")
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_PHRASES = {s.value: s.phrase for s in HTTPStatus}

# Starlette raises HTTPException with a bare status; these are the bridge's names for them.
_ERROR_BY_STATUS: dict[int, type[BridgeError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    429: RateLimited,
    503: ServiceUnavailable,
}


def _members(exc: BridgeError, base: str) -> dict[str, Any]:
    """The body members an error carries besides its code and description."""
    members: dict[str, Any] = {}
    if "providers" in exc.detail:
        members["providers"] = exc.detail["providers"]
    if "order" in exc.detail:
        members["order"] = order_json(base, exc.detail["order"])
    if "item" in exc.detail:
        members["links"] = order_links(item_href(base, *exc.detail["item"]))
    return members


def error_response(
    exc: BridgeError, headers: Mapping[str, str] | None = None, base: str = "/"
) -> Response:
    """The STAC error response for ``exc``, with its status from the one table.

    Args:
        exc: the error.
        headers: extra response headers.
        base: the root URL clients see, for the links some errors carry.
    """
    body: dict[str, Any] = {"code": exc.code, "description": exc.description}
    body.update(_members(exc, base))
    extra = dict(headers or {})
    if "retry_after" in exc.detail:
        extra["Retry-After"] = str(exc.detail["retry_after"])
    return ORJSONResponse(body, status_code=status_for(exc), headers=extra or None)


def _bridge_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BridgeError)
    settings = getattr(request.app.state, "settings", None)
    base = base_url(request, settings.public_url if settings else None)
    response = error_response(exc, base=base)
    if response.status_code >= 500:
        log.warning(
            "%s %s -> %s %s", request.method, request.url.path, response.status_code, exc.code
        )
    return response


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return error_response(BadRequest("; ".join(problems) or "invalid request"))


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = _ERROR_BY_STATUS.get(exc.status_code)
    if kind is None:
        # "Not Acceptable" -> "NotAcceptable": the style of the bridge's own codes.
        code = _PHRASES.get(exc.status_code, "Error").replace(" ", "")
        body = {"code": code, "description": str(exc.detail)}
        return ORJSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; list them all.
        headers["Allow"] = _allowed(request, exc)
        description = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 404:
        description = f"no such resource: {request.url.path}"
    else:
        description = str(exc.detail)
    return error_response(kind(description), headers=headers)


def _database_error(request: Request, exc: Exception) -> Response:
    # Pool exhausted, locked or unreachable: the caller may retry; the details are logged.
    log.warning("%s %s: database error %s", request.method, request.url.path, type(exc).__name__)
    return error_response(
        ServiceUnavailable("the bridge's database is unavailable or busy; retry shortly"),
        headers={"Retry-After": "1"},
    )


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Starlette's ServerErrorMiddleware logs the traceback; the caller gets no internals.
    body = {"code": "InternalServerError", "description": "the bridge failed unexpectedly"}
    return ORJSONResponse(body, status_code=500)


def _allowed(request: Request, exc: StarletteHTTPException) -> str:
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
    """Install the bridge's handlers (replacing stac-fastapi's and Starlette's)."""
    app.add_exception_handler(BridgeError, _bridge_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
