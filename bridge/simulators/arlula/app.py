"""The Arlula simulator's routes: credentials check and archive search (both generations).

Orders, datasets and resources come later as their own module; they will add routes to
:func:`routes` without touching the search side.

Error bodies: the SDKs treat every non-200 body as text (``ArlulaAPIException`` prints
``f"{status}: {response.text}"``; the Node SDK rejects with "the error string"), so the
simulator answers auth and 2020-12 errors as plain text. The texts, and the 2023-01
validation envelope ``{state, errors, warnings, results}`` with status 400, are assumed:
no public source shows them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.simulators.arlula.parse import InvalidSearch, search_2020, search_2023
from bridge.simulators.arlula.records import run_search
from bridge.simulators.common.app import JSONResponse, read_json

DEMO_KEY = "arlula-demo-key"
DEMO_SECRET = "arlula-demo-secret"  # the published demo credential

API_VERSIONS = ("2020-12", "2021-09", "2023-01")
UNAUTHORIZED_TEXT = "Unauthorized"  # assumed body of a 401
_WWW_AUTH = {"WWW-Authenticate": 'Basic realm="Arlula API"'}


def _authorized(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        key, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    creds = request.app.state.credentials
    return bool(sep) and hmac.compare_digest(f"{key}:{secret}", f"{creds[0]}:{creds[1]}")


def _refusal(request: Request) -> Response | None:
    """The response refusing ``request`` (auth, API version), or None to serve it."""
    if not _authorized(request):
        return PlainTextResponse(UNAUTHORIZED_TEXT, status_code=401, headers=_WWW_AUTH)
    version = request.headers.get("x-api-version")
    if version is not None and version not in API_VERSIONS:
        return PlainTextResponse(f"unsupported API version {version!r}", status_code=400)
    return None


def _invalid_2023(errors: list[str]) -> Response:
    body: dict[str, Any] = {"state": "error", "errors": errors, "warnings": [], "results": []}
    return JSONResponse(body, status_code=400)


async def api_test(request: Request) -> Response:
    """``GET /api/test``: 200 when the Basic credentials are valid."""
    return _refusal(request) or PlainTextResponse("OK")


async def archive_search(request: Request) -> Response:
    """``POST /api/archive/search`` (2023-01): the whole result in one response."""
    refused = _refusal(request)
    if refused:
        return refused
    try:
        search = search_2023(await read_json(request))
    except InvalidSearch as exc:
        return _invalid_2023(exc.errors)
    except ValueError as exc:  # unparseable body
        return _invalid_2023([str(exc)])
    archive = request.app.state.archive
    results = run_search(archive, search, str(request.base_url), "2023-01")
    return JSONResponse({"state": "complete", "errors": [], "warnings": [], "results": results})


async def search_v2020(request: Request) -> Response:
    """``GET /api/search`` (2020-12, seed 002): a bare JSON list of results."""
    refused = _refusal(request)
    if refused:
        return refused
    try:
        search = search_2020(request.query_params)
    except InvalidSearch as exc:
        return PlainTextResponse("; ".join(exc.errors), status_code=400)
    archive = request.app.state.archive
    return JSONResponse(run_search(archive, search, str(request.base_url), "2020-12"))


def routes() -> list[BaseRoute]:
    """The native routes served so far."""
    return [
        Route("/api/test", api_test, methods=["GET"]),
        Route("/api/archive/search", archive_search, methods=["POST"]),
        Route("/api/search", search_v2020, methods=["GET"]),
    ]
