"""The transport every adapter's HTTP client goes through: a concurrency cap, metrics and
one log line per native call, with the id of the request it serves.

The cap bounds how many native calls one adapter (one set of credentials) has in flight,
so a burst of users is queued here instead of pushing the provider into 429s. Paths are
logged and labelled with ids folded to ``{id}`` and without the query (signed URLs carry
their signatures there).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

import httpx

from bridge.telemetry import PROVIDER_CALLS, PROVIDER_LATENCY, request_id

log = logging.getLogger("bridge.native")
_ID_LIKE = re.compile(r"\d|^[0-9a-fA-F-]{16,}$|^.{25,}$")


def operation_of(request: httpx.Request) -> str:
    """``METHOD /path`` with id-like segments folded, for labels and logs."""
    segments = [s for s in request.url.path.split("/") if s][:5]
    path = "/".join("{id}" if _ID_LIKE.search(s) else s for s in segments)
    return f"{request.method} /{path}"


class ProviderTransport(httpx.AsyncBaseTransport):
    """Wraps a transport with a per-adapter concurrency cap, metrics and call logs."""

    def __init__(
        self, provider: str, inner: httpx.AsyncBaseTransport, max_concurrency: int
    ) -> None:
        self.provider = provider
        self.inner = inner
        self.gate = asyncio.Semaphore(max_concurrency)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` once a slot is free; count, time and log it."""
        operation = operation_of(request)
        async with self.gate:
            started = time.perf_counter()
            status = "error"
            try:
                response = await self.inner.handle_async_request(request)
                status = str(response.status_code)
                return response
            except httpx.TimeoutException:
                status = "timeout"
                raise
            finally:
                elapsed = time.perf_counter() - started
                PROVIDER_CALLS.labels(self.provider, operation, status).inc()
                PROVIDER_LATENCY.labels(self.provider, operation).observe(elapsed)
                log.info(
                    "native call",
                    extra={
                        "fields": {
                            "request_id": request_id.get(),
                            "provider": self.provider,
                            "operation": operation,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 1),
                        }
                    },
                )

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()
