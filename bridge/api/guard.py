"""Request limits enforced on the wire, before routing or parsing.

The query string's length, the body's size (from ``Content-Length`` at once, and while
reading, for chunked bodies) and a JSON body's nesting depth are checked here, so an
oversized or over-deep request costs a bounded read and a bounded scan, never a parse.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.api.errors import error_response
from bridge.core.limits import check_json_depth, over
from bridge.errors import BridgeError, PayloadTooLarge
from bridge.settings import LimitSettings

_WITH_BODY = {"POST", "PUT", "PATCH"}


class RequestGuard:
    """ASGI middleware: query-string length, body size and JSON depth limits."""

    def __init__(self, app: ASGIApp, limits: LimitSettings) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_query(scope)
            if scope["method"] in _WITH_BODY:
                receive = await self._read_body(scope, receive)
        except BridgeError as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check_query(self, scope: Scope) -> None:
        size = len(scope.get("query_string", b""))
        if size > self.limits.max_query_bytes:
            raise over(
                "the query string's length in bytes",
                size,
                "max_query_bytes",
                self.limits.max_query_bytes,
            )

    def _too_large(self, size: int | str) -> PayloadTooLarge:
        limit = self.limits.max_body_bytes
        return PayloadTooLarge(
            f"the request body ({size} bytes) is over the limit of {limit}: "
            "the setting BRIDGE_LIMITS__MAX_BODY_BYTES"
        )

    async def _read_body(self, scope: Scope, receive: Receive) -> Receive:
        """Read the whole body within the limit; return a ``receive`` that replays it."""
        limit = self.limits.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise self._too_large(int(value))
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return _replay(b"", receive, first=message)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise self._too_large(f"more than {limit}")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and _is_json(scope):
            check_json_depth(body, self.limits)
        return _replay(body, receive)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return True  # FastAPI reads a body without a content type as JSON too


def _replay(body: bytes, receive: Receive, first: Message | None = None) -> Receive:
    """A ``receive`` that hands out ``body`` once (or the non-body message it got), then
    waits on the real one (a streaming response listens there for the disconnect)."""
    pending: Message | None = first or {"type": "http.request", "body": body, "more_body": False}

    async def replay() -> Message:
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay
