"""The contracts a client's credentials hold, as the two documented endpoints list them.

* ``GET /contracts`` with ``authorizationToken: Bearer <token>`` (an API-audience token)
  and no contract header: a bare JSON list of ``{contract_id, name}`` (docs
  api-authentication "Get Contract ID": "the only endpoint that can be used without the
  X-Satellogic-Contract-Id header is /contracts").
* ``GET /v2/my/contracts`` with ``Authorization: Bearer <token>`` of the accounts audience
  (``api``): a DRF page ``{count, next, previous, results}`` of contracts with ``account``,
  ``archive_configuration`` (``restrictions``, ``collections``; null when the contract has
  no archive access), ``tasking_configuration``, ``created_at``, ``updated_at``,
  ``status`` (seed 004, step 2). The real host is ``api.platform.satellogic.com``; here it
  shares the simulator's host (assumed: one host is enough to exercise the header rule).

Failures answer as the API gateway of :mod:`.auth` does (401 ``{"message": "Unauthorized"}``);
a token of the wrong audience on either endpoint is 403 (assumed, as for other routes).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import JSONResponse
from bridge.simulators.satellogic.auth import (
    ACCOUNTS_AUDIENCE,
    API_AUDIENCE,
    CONTRACT_COLLECTIONS,
    DEMO_CONTRACT_ID,
    EXPLICIT_DENY,
    UNAUTHORIZED,
    AuthState,
    Grant,
)

ACCOUNT_ID = "acct.7d3c1b2a-4e5f-4a6b-9c8d-1e2f3a4b5c6d"
NAMES = {DEMO_CONTRACT_ID: "Sandbox contract"}
CREATED = "2024-10-25T10:27:56.152557"


def _grant(request: Request, header: str) -> Grant | None:
    state: AuthState = request.app.state.auth
    scheme, _, token = request.headers.get(header, "").partition(" ")
    grant = state.tokens.get(token) if scheme.lower() == "bearer" else None
    now = request.app.state.config.clock()
    return grant if grant is not None and grant.expires_at >= now else None


def _name(contract_id: str) -> str:
    return NAMES.get(contract_id, "Quick-view contract")


def contract_json(contract_id: str) -> dict[str, Any]:
    """One contract as ``/v2/my/contracts`` lists it (seed 004)."""
    collections = sorted(CONTRACT_COLLECTIONS[contract_id])
    return {
        "contract_id": contract_id,
        "name": _name(contract_id),
        "account": ACCOUNT_ID,
        "archive_configuration": {"restrictions": [], "collections": collections},
        "tasking_configuration": {"has_credentials": True},
        "created_at": CREATED,
        "updated_at": CREATED,
        "status": "ACTIVE",
    }


async def list_contracts(request: Request) -> Response:
    """``GET /contracts`` (docs): the credentials' contracts, no contract header needed."""
    grant = _grant(request, "authorizationToken")
    if grant is None:
        return JSONResponse(UNAUTHORIZED, status_code=401)
    if grant.audience != API_AUDIENCE:
        return JSONResponse(EXPLICIT_DENY, status_code=403)
    return JSONResponse([{"contract_id": c, "name": _name(c)} for c in CONTRACT_COLLECTIONS])


async def my_contracts(request: Request) -> Response:
    """``GET /v2/my/contracts`` (seed 004): the accounts service's paged listing."""
    grant = _grant(request, "Authorization")
    if grant is None:
        return JSONResponse(UNAUTHORIZED, status_code=401)
    if grant.audience != ACCOUNTS_AUDIENCE:
        return JSONResponse(EXPLICIT_DENY, status_code=403)
    rows = [contract_json(c) for c in CONTRACT_COLLECTIONS]
    return JSONResponse({"count": len(rows), "next": None, "previous": None, "results": rows})


def routes() -> list[Route]:
    """Both listings, with and without the trailing slash."""
    return [
        Route(path, endpoint, methods=["GET"])
        for base, endpoint in (("/contracts", list_contracts), ("/v2/my/contracts", my_contracts))
        for path in (base, f"{base}/")
    ]
