"""Turning exceptions into STAC error bodies ``{"code", "description"}``.

Statuses come from the one table, :data:`bridge.errors.STATUS_BY_ERROR`.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from bridge.api.client import ORJSONResponse
from bridge.errors import BridgeError, status_for

log = logging.getLogger("bridge.api")


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


def add_error_handlers(app: FastAPI) -> None:
    """Install the bridge's handlers (replacing stac-fastapi's for validation errors)."""
    app.add_exception_handler(BridgeError, _bridge_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
