"""Answering an asset request from a provider location: redirect, or fetch for the client.

Most provider URLs are self-contained (signed or tokenized): the client is redirected to
them. A URL that needs the provider's credentials (:attr:`AssetLocation.headers`) would
answer the client 401, so the bridge fetches it with those headers and streams the answer
through — chunk by chunk, never the whole file in memory — passing ``Range`` and the
validators on, and the status (200, 206, 304, 416), length, ``Content-Range`` and type
back. The credentials never reach the client or a log line.
"""

from __future__ import annotations

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from bridge.core.contract import AssetLocation
from bridge.errors import ProviderError, ProviderTimeout
from bridge.providers.http import check_response

# Request headers a ranged or conditional read needs; nothing else of the client's goes on.
FORWARDED = ("range", "if-range", "if-none-match", "if-modified-since", "accept")
# Response headers that describe the bytes; the provider's other headers stay behind.
RETURNED = (
    "content-type",
    "content-length",
    "content-range",
    "content-encoding",
    "content-disposition",
    "accept-ranges",
    "etag",
    "last-modified",
    "cache-control",
)
PASSED_STATUSES = frozenset({200, 206, 304, 416})


async def deliver(request: Request, provider: str, location: AssetLocation) -> Response:
    """A redirect to ``location``, or its content fetched with its credentials."""
    if not location.headers:
        return RedirectResponse(location.href, status_code=307)
    client = location.client
    if client is None:  # an adapter bug, reported as the provider's failure, never a 500
        raise ProviderError(provider, "asset needs credentials but no client was given")
    headers = {k: v for k in FORWARDED if (v := request.headers.get(k)) is not None}
    method = "HEAD" if request.method == "HEAD" else "GET"
    upstream_request = client.build_request(
        method, location.href, headers={**headers, **location.headers}
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(provider, "asset download did not start before the deadline") from exc
    except httpx.TransportError as exc:
        raise ProviderError(provider, f"asset unreachable: {type(exc).__name__}") from exc
    if upstream.status_code not in PASSED_STATUSES:
        try:
            await upstream.aread()  # an error body is small; read it to describe it
            check_response(provider, upstream)
            raise ProviderError(provider, f"asset answered {upstream.status_code}")
        finally:
            await upstream.aclose()
    returned = {k: v for k in RETURNED if (v := upstream.headers.get(k)) is not None}
    if method == "HEAD":
        await upstream.aclose()
        return Response(b"", upstream.status_code, headers=returned)
    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers=returned,
        background=BackgroundTask(upstream.aclose),
    )
