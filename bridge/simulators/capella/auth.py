"""Capella API-key auth and the accounts behind the keys.

The demo key belongs to the sandbox demo user. Every extra key in
``capella_api_keys`` (:mod:`.settings`) is a user of an organization of its own (ids derived from
the key), so tenants of the bridge holding different keys never see each other's orders,
as different Capella customers would not. Organizations with several users are not
modelled.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request

from bridge.simulators.capella.settings import CapellaSimulatorSettings
from bridge.simulators.common.app import JSONResponse

DEMO_API_KEY = "capella-sim-demo-key-7c1f3b2e"
DEMO_USER = {
    "id": "5f6b4c2a-0d7e-4a39-9f8e-2b1c3d4e5f60",
    "organizationId": "0a1b2c3d-4e5f-4061-8a9b-c0d1e2f3a4b5",
    "email": "demo@capella.simulator",
    "name": "Sandbox Demo",
    "roles": ["user"],
}
_NAMESPACE = uuid.UUID("8d3c1f5e-2b7a-4c69-9e10-5a4b3c2d1e0f")


def error(status: int, message: str, code: str) -> JSONResponse:
    """A response with Capella's error body ``{"error": {"message", "code"}}``."""
    return JSONResponse({"error": {"message": message, "code": code}}, status_code=status)


def _api_keys(request: Request) -> frozenset[str]:
    settings: CapellaSimulatorSettings = request.app.state.settings
    return frozenset((DEMO_API_KEY, *settings.api_keys))


def _user(key: str) -> dict[str, Any]:
    if key == DEMO_API_KEY:
        return DEMO_USER
    user_id = str(uuid.uuid5(_NAMESPACE, f"user:{key}"))
    return {
        "id": user_id,
        "organizationId": str(uuid.uuid5(_NAMESPACE, f"org:{key}")),
        "email": f"user-{user_id[:8]}@capella.simulator",
        "name": "Simulated user",
        "roles": ["user"],
    }


def contract_id(organization_id: str) -> str:
    """The one (default) contract of an organization."""
    return str(uuid.uuid5(_NAMESPACE, f"contract:{organization_id}"))


def current_user(request: Request) -> dict[str, Any] | JSONResponse:
    """The account behind the request's ``Authorization: ApiKey``, else the 401."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer":
        # The simulator issues no JWTs (the SDK's email/password login is not modelled),
        # so every bearer token is one Capella would not recognise.
        return error(401, "Invalid token.", "INVALID_TOKEN")
    key = credential.strip()
    if scheme.lower() != "apikey" or key not in _api_keys(request):
        # The API gateway's own answer (capella SDK tests/test_authenticate.py); the SDK
        # reads it as INVALID_API_KEY.
        return JSONResponse({"message": "Unauthorized"}, status_code=401)
    return _user(key)


def authenticate(request: Request) -> JSONResponse | None:
    """None when the request carries a valid ``Authorization: ApiKey``, else the 401."""
    user = current_user(request)
    return user if isinstance(user, JSONResponse) else None
