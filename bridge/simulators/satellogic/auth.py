"""Satellogic's auth as the simulator serves it: the Auth0 token endpoint and the API gateway.

* ``POST /oauth/token`` (real host ``auth.platform.satellogic.com``; here on the
  simulator's own host) takes a JSON body ``{client_id, client_secret, audience,
  grant_type: "client_credentials"}``. Audience ``https://api.satellogic.com/`` gives a
  token for the tasking/archive/delivery APIs; ``api`` one for the accounts service (seed
  004). Error bodies are Auth0's ``{"error", "error_description"}``: 401 ``access_denied``
  / ``Unauthorized`` for wrong credentials (assumed: Auth0's usual answer), 403
  ``access_denied`` for an audience the client may not use, 403
  ``unauthorized_client`` for another grant type, 400 ``invalid_request`` for a missing
  field.
* API calls carry ``authorizationToken: Bearer <token>`` and ``X-Satellogic-Contract-Id``.
  The header name is that of an AWS API Gateway Lambda authorizer, so failures answer as
  API Gateway does (inferred, unconfirmed): 401 ``{"message": "Unauthorized"}`` for a
  missing/unknown/expired token or a missing contract id (the docs: "failing to provide
  either will result in an unauthorized response"), 403 ``{"Message": "User is not
  authorized to access this resource with an explicit deny"}`` for a contract the
  credentials do not hold or a token minted for another audience.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bridge.simulators.common.app import JSONResponse, read_json
from bridge.simulators.satellogic.archive import L1D, L1D_SR, QUICKVIEW, QUICKVIEW_THUMB

API_AUDIENCE = "https://api.satellogic.com/"
ACCOUNTS_AUDIENCE = "api"
TOKEN_LIFETIME_S = 86400

DEMO_CLIENT_ID = "satl-sandbox-client"
DEMO_CLIENT_SECRET = "satl-sandbox-secret"  # public demo secret of the simulator
DEMO_CONTRACT_ID = "cont.5b7e2a4c-9d1f-4e0b-8a6c-3f2d1e0c9b8a"
# A second contract of the same client whose archive configuration shows only quick-views:
# what the archive shows depends on the contract (seed 004: archive_configuration).
QUICKVIEW_CONTRACT_ID = "cont.0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"

CONTRACT_COLLECTIONS: dict[str, frozenset[str]] = {
    DEMO_CONTRACT_ID: frozenset({QUICKVIEW, QUICKVIEW_THUMB, L1D, L1D_SR}),
    QUICKVIEW_CONTRACT_ID: frozenset({QUICKVIEW, QUICKVIEW_THUMB}),
}

UNAUTHORIZED = {"message": "Unauthorized"}
EXPLICIT_DENY = {"Message": "User is not authorized to access this resource with an explicit deny"}


@dataclass
class Grant:
    """One issued access token."""

    audience: str
    scope: str
    expires_at: float


@dataclass
class AuthState:
    """Issued tokens; tests may revoke them to exercise the adapter's refresh."""

    lifetime_s: int = TOKEN_LIFETIME_S
    tokens: dict[str, Grant] = field(default_factory=dict)
    issued: int = 0

    def revoke_all(self) -> None:
        """Forget every token (as if they had all expired)."""
        self.tokens.clear()


def _auth0_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def token_endpoint(request: Request) -> Response:
    """``POST /oauth/token``: client credentials with an audience, Auth0 style."""
    state: AuthState = request.app.state.auth
    try:
        body = await read_json(request)
    except ValueError:
        return _auth0_error(400, "invalid_request", "Invalid JSON body")
    if not isinstance(body, dict):
        return _auth0_error(400, "invalid_request", "Missing required parameter: grant_type")
    for name in ("grant_type", "client_id"):
        if not body.get(name):
            return _auth0_error(400, "invalid_request", f"Missing required parameter: {name}")
    if body.get("client_id") != DEMO_CLIENT_ID or body.get("client_secret") != DEMO_CLIENT_SECRET:
        return _auth0_error(401, "access_denied", "Unauthorized")
    if body["grant_type"] != "client_credentials":
        grant = body["grant_type"]
        return _auth0_error(
            403, "unauthorized_client", f"Grant type '{grant}' not allowed for the client."
        )
    audience = body.get("audience")
    scopes = {
        API_AUDIENCE: "api:tasking api:delivery api:archive",
        ACCOUNTS_AUDIENCE: "accounts:principals:profile accounts:contracts:read",
    }
    if audience not in scopes:
        return _auth0_error(403, "access_denied", f"Service not enabled within domain: {audience}")
    token = secrets.token_urlsafe(32)
    expires = request.app.state.config.clock() + state.lifetime_s
    state.tokens[token] = Grant(audience, scopes[audience], expires)
    state.issued += 1
    return JSONResponse(
        {
            "access_token": token,
            "scope": scopes[audience],
            "expires_in": state.lifetime_s,
            "token_type": "Bearer",
        }
    )


def authorize(request: Request) -> tuple[frozenset[str], str] | Response:
    """Check the API gateway headers: (visible collections, contract id) or the error."""
    state: AuthState = request.app.state.auth
    header = request.headers.get("authorizationToken", "")
    scheme, _, token = header.partition(" ")
    grant = state.tokens.get(token) if scheme.lower() == "bearer" else None
    if grant is None or grant.expires_at < request.app.state.config.clock():
        return JSONResponse(UNAUTHORIZED, status_code=401)
    contract = request.headers.get("X-Satellogic-Contract-Id")
    if not contract:
        return JSONResponse(UNAUTHORIZED, status_code=401)
    if grant.audience != API_AUDIENCE or contract not in CONTRACT_COLLECTIONS:
        return JSONResponse(EXPLICIT_DENY, status_code=403)
    return CONTRACT_COLLECTIONS[contract], contract


def demo_settings(base_url: str) -> dict[str, Any]:
    """Credentials the simulator accepts, as ProviderSettings fields."""
    return {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "auth_url": f"{base_url}/oauth/token",
        "contract_id": DEMO_CONTRACT_ID,
    }
