"""Rate limits per API key, and per client address for requests without one.

The ``limits`` library does the counting (fixed windows); its storage is the bridge's
database by default (:class:`bridge.db.rate_counters.DatabaseStorage`), so the limit
holds across workers and replicas. Operator probes (``/health``, ``/ready``,
``/metrics``) and CORS preflights are not counted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge.api.errors import error_response
from bridge.auth.request import key_from_headers
from bridge.db.engine import Database
from bridge.db.rate_counters import DatabaseStorage
from bridge.errors import RateLimited
from bridge.settings import RateLimitSettings
from bridge.telemetry import RATE_LIMITED

log = logging.getLogger("bridge.api")
EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics"})


def rate_storage(settings: RateLimitSettings, db: Database) -> Storage:
    """The counters' storage: the one ``storage_url`` names, else the database."""
    if settings.storage_url:
        storage = storage_from_string(settings.storage_url)
        if not isinstance(storage, Storage):
            raise ValueError(
                f"BRIDGE_RATE_LIMITS__STORAGE_URL must name an async storage (async+...), "
                f"not {settings.storage_url.split('://')[0]}"
            )
        return storage
    return DatabaseStorage(db)


class RateLimit:
    """ASGI middleware: 429 with ``Retry-After`` and ``RateLimit-*`` past a limit."""

    def __init__(self, app: ASGIApp, settings: RateLimitSettings, storage: Storage) -> None:
        self.app = app
        self.enabled = settings.enabled
        self.per_key: RateLimitItem = parse(settings.per_key)
        self.per_address: RateLimitItem = parse(settings.per_address)
        self.limiter = FixedWindowRateLimiter(storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or scope["path"] in EXEMPT_PATHS
        ):
            await self.app(scope, receive, send)
            return
        key = key_from_headers(scope)
        if key is not None:
            # The key's digest, never the key, names the counter.
            scope_name, item = "key", self.per_key
            identity = hashlib.sha256(key.encode()).hexdigest()[:32]
        else:
            scope_name, item = "address", self.per_address
            client = scope.get("client")
            identity = client[0] if client else "unknown"
        try:
            allowed = await self.limiter.hit(item, scope_name, identity)
        except Exception as exc:  # a counter that cannot be kept must not stop the service
            log.warning("rate limit not checked: %s", type(exc).__name__)
            allowed = True
        if allowed:
            await self.app(scope, receive, send)
            return
        RATE_LIMITED.labels(scope_name).inc()
        stats = await self.limiter.get_window_stats(item, scope_name, identity)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        error = RateLimited(
            f"too many requests for this {scope_name}: the limit is {item} "
            f"(setting BRIDGE_RATE_LIMITS__PER_{scope_name.upper()}); retry in {wait} s",
            retry_after=wait,
        )
        headers = {
            "RateLimit-Limit": str(item.amount),
            "RateLimit-Remaining": str(stats.remaining),
            "RateLimit-Reset": str(wait),
        }
        await error_response(error, headers)(scope, receive, send)
