"""ICEYE's OAuth2 client-credentials token endpoint and the bearer check on API calls.

The token endpoint follows RFC 6749 §4.4 and §5.2 (error bodies ``{"error",
"error_description"}``). Its path is per customer in reality; the simulator serves it at
an Okta-style ``/oauth2/default/v1/token`` (assumed). The body of a 401 from the catalog
API is not documented (the seed only says error responses did not change between v1 and
v2); ``{"code", "message"}`` is assumed for the default format. With ``Accept:
application/problem+json`` errors are the documented problem details (see
:func:`api_error`).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from bridge.simulators.common.app import JSONResponse

TOKEN_PATH = "/oauth2/default/v1/token"
DEMO_CLIENT_ID = "iceye-sandbox-client"
DEMO_CLIENT_SECRET = "iceye-sandbox-secret"  # the simulator's public demo secret
DEMO_CONTRACT_ID = "5f0e7c2a-3b1d-4c8e-9a6f-2d4b8e1c7a90"
SCOPE = "catalog.read catalog.purchase tasking"


@dataclass
class AuthState:
    """Registered clients and the tokens handed out (token → client id, expiry)."""

    clock: Callable[[], float]
    """The simulator's one clock (``SimulatorConfig.clock``)."""
    token_ttl_s: float = 3600.0
    clients: dict[str, str] = field(default_factory=lambda: {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
    contracts: dict[str, frozenset[str]] = field(
        default_factory=lambda: {DEMO_CLIENT_ID: frozenset({DEMO_CONTRACT_ID})}
    )
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    def issue(self, client_id: str) -> str:
        """A new access token for ``client_id``."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = (client_id, self.clock() + self.token_ttl_s)
        return token

    def client_of(self, token: str) -> str | None:
        """The client owning a live ``token``; None when unknown or expired."""
        entry = self.tokens.get(token)
        if entry is None:
            return None
        if self.clock() >= entry[1]:
            del self.tokens[token]
            return None
        return entry[0]


def _oauth_error(error: str, description: str, status: int) -> Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="ICEYE"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


async def token_endpoint(request: Request) -> Response:
    """``POST`` token endpoint: client credentials in HTTP Basic, form-encoded grant."""
    auth: AuthState = request.app.state.auth
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return _oauth_error("invalid_request", "body must be form-encoded", 400)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    creds = _basic_credentials(request)
    known = auth.clients.get(creds[0]) if creds else None
    if (
        creds is None
        or known is None
        or not secrets.compare_digest(known.encode(), creds[1].encode())
    ):
        return _oauth_error("invalid_client", "Client authentication failed", 401)
    grant = form.get("grant_type", [""])[0]
    if grant != "client_credentials":
        return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} not supported", 400)
    return JSONResponse(
        {
            "token_type": "Bearer",
            "expires_in": int(auth.token_ttl_s),
            "access_token": auth.issue(creds[0]),
            "scope": SCOPE,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


PROBLEM_MEDIA_TYPE = "application/problem+json"
REFERENCE = "http://docs.iceye.com/constellation/api/specification/"


def api_error(request: Request, code: str, message: str, status: int) -> Response:
    """An ICEYE API error response.

    With ``application/problem+json`` in ``Accept`` it is the documented problem details
    body ``{title, code, details, reference}`` (ICEYE docs "error handling"; title: the
    status text); otherwise the default format, ``{code, message}`` (assumed, see the
    module docstring).
    """
    if PROBLEM_MEDIA_TYPE in request.headers.get("accept", ""):
        body = {
            "title": HTTPStatus(status).phrase,
            "code": code,
            "details": message,
            "reference": REFERENCE,
        }
        return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)
    return JSONResponse({"code": code, "message": message}, status_code=status)


def authenticate(request: Request) -> str | Response:
    """The calling client id, or the 401 response to send."""
    auth: AuthState = request.app.state.auth
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return api_error(request, "UNAUTHORIZED", "missing bearer token", 401)
    client = auth.client_of(token.strip())
    if client is None:
        return api_error(request, "UNAUTHORIZED", "invalid or expired access token", 401)
    return client
