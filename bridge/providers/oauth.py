"""Bearer tokens fetched on demand, cached until shortly before they expire.

Used by the OAuth2 client-credentials providers (ICEYE, Satellogic). How a token is
requested differs per provider, so the adapter passes the fetch function.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.errors import ProviderAuthError

# Refresh this long before the announced expiry, so a token never dies mid-request.
EXPIRY_MARGIN_S = 60.0


class TokenCache:
    """Holds one access token; concurrent callers share one fetch."""

    def __init__(
        self,
        provider: str,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._fetch = fetch
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        """A valid access token, fetching a new one when none is cached or it is expiring."""
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            body = await self._fetch()
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise ProviderAuthError(self._provider, "token endpoint returned no access_token")
            lifetime = float(body.get("expires_in") or 3600)
            self._token = token
            self._expires_at = self._clock() + max(lifetime - EXPIRY_MARGIN_S, lifetime / 2)
            return token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (after a 401), unless another caller already replaced it."""
        if token is None or token == self._token:
            self._token = None
            self._expires_at = 0.0
