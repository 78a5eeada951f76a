"""The transport the check wraps around each adapter's: it records every native exchange
(for the shape comparison and ``--record``) and refuses, by construction, anything that
could place an order.

Only reads go out: ``GET``/``HEAD``, and the ``POST`` exchanges the provider's
``shapes.json`` documents (token requests, searches, Capella's order review). Every other
request — ``POST /orders``, ``POST .../purchases``, ``POST /v2/orders/``,
``POST /api/archive/order`` — raises :class:`RefusedRequest` before it leaves the machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bridge.check.shapes import Shapes

SAFE_METHODS = frozenset({"GET", "HEAD"})


class RefusedRequest(Exception):
    """The check refused to send a request that is not a documented read."""


@dataclass
class Record:
    """One native exchange as the check saw it (no request headers: they hold secrets)."""

    step: str
    method: str
    url: str
    status: int
    content_type: str
    body: Any
    """Decoded JSON, or None for a non-JSON answer."""
    size: int
    content: bytes = field(repr=False, default=b"")
    request_body: Any = None


class RecordingTransport(httpx.AsyncBaseTransport):
    """Records each exchange under the current ``step``; refuses undocumented writes."""

    def __init__(self, inner: httpx.AsyncBaseTransport, shapes: Shapes) -> None:
        self.inner = inner
        self.shapes = shapes
        self.step = "setup"
        self.records: list[Record] = []

    def allowed(self, request: httpx.Request) -> bool:
        """True for a read: a safe method, or a write ``shapes.json`` documents."""
        if request.method in SAFE_METHODS:
            return True
        return self.shapes.match(request.method, request.url.path) is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` if it is a read, keep a copy of the answer, and return it."""
        if not self.allowed(request):
            raise RefusedRequest(
                f"the check refused to send {request.method} {request.url.path}: "
                "it only reads (no orders)"
            )
        response = await self.inner.handle_async_request(request)
        if response.is_stream_consumed:  # a transport that answered with read content
            raw = response.content
        else:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
        # Decode (gzip etc.) a copy; the adapter gets the raw bytes as they came.
        decoded = httpx.Response(response.status_code, headers=response.headers, content=raw)
        content = decoded.content
        self.records.append(
            Record(
                step=self.step,
                method=request.method,
                url=str(request.url),
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                body=_json_or_none(content),
                size=len(content),
                content=content,
                request_body=_request_json(request),
            )
        )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()


class Unclosed(httpx.AsyncBaseTransport):
    """A second client's view of a transport it must not close (the adapter owns it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Delegate to the shared transport."""
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Leave the shared transport open."""


def _request_json(request: httpx.Request) -> Any:
    try:
        return _json_or_none(request.content) if request.content else None
    except httpx.RequestNotRead:  # a streamed upload: nothing the check sends
        return None


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
