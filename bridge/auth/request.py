"""Which tenant a request is: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Scope

from bridge.auth.keys import KeyStore, TenantRef
from bridge.errors import Unauthorized


def presented_key(request: Request) -> str | None:
    """The API key a request carries, if any."""
    return _key_in(request.headers)


def key_from_headers(scope: Scope) -> str | None:
    """The API key an ASGI request scope carries, if any (for middleware)."""
    return _key_in(Headers(scope=scope))


def _key_in(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


class Authenticator:
    """Resolves callers to tenants through the key store."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    async def tenant(self, request: Request, *, required: bool) -> TenantRef | None:
        """The calling tenant.

        Raises:
            Unauthorized: a key was presented but is unknown, or none was and one is required.
        """
        key = presented_key(request)
        if key is None:
            if required:
                raise Unauthorized("an API key is required: send Authorization: Bearer <key>")
            return None
        tenant = await self.keys.tenant_for(key)
        if tenant is None:
            raise Unauthorized("unknown or revoked API key")
        request.state.tenant_id = tenant.id  # for the request's log line (never the key)
        return tenant
