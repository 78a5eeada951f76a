"""Shared plumbing for adapters: native HTTP errors → bridge errors, JSON decoding."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from bridge.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
)


def check_response(provider: str, response: httpx.Response) -> None:
    """Raise the bridge error matching a failed native response; return on 2xx/3xx.

    The native body is summarised, never echoed whole: it may carry account details.
    """
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise ProviderAuthError(provider, f"credentials refused ({status})", status=status)
    if status == 429:
        raise ProviderRateLimited(
            provider,
            "rate limited (429)",
            status=status,
            retry_after=response.headers.get("Retry-After"),
        )
    if status == 404:
        raise ProviderError(provider, "not found (404)", status=status)
    raise ProviderError(
        provider,
        f"native API answered {status}",
        status=status,
        retry_after=response.headers.get("Retry-After"),
    )


def decode_json(provider: str, response: httpx.Response) -> Any:
    """Decode a native JSON body, or raise :class:`ProviderBadResponse`."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise ProviderBadResponse(provider, f"unreadable JSON body: {exc}") from exc


async def exchange(
    provider: str,
    client: httpx.AsyncClient,
    request: httpx.Request,
    deadline_s: float | None = None,
) -> httpx.Response:
    """Send ``request`` and return the response, whatever its status.

    With ``deadline_s``, the whole exchange is bounded, not each socket operation (httpx's
    timeouts are per phase, and an in-process transport enforces none): an order whose
    answer comes after it is an unknown outcome, which the order service reconciles
    before anything is placed again. Transport timeouts become :class:`ProviderTimeout`,
    other transport failures :class:`ProviderError`.
    """
    try:
        if deadline_s is None:
            return await client.send(request)
        async with asyncio.timeout(deadline_s):
            return await client.send(request)
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise ProviderTimeout(provider, "no answer before the deadline") from exc
    except httpx.TransportError as exc:
        raise ProviderError(provider, f"unreachable: {type(exc).__name__}") from exc


async def send(
    provider: str,
    client: httpx.AsyncClient,
    request: httpx.Request,
    deadline_s: float | None = None,
) -> Any:
    """:func:`exchange`, then check the status and return the decoded JSON body."""
    response = await exchange(provider, client, request, deadline_s)
    check_response(provider, response)
    return decode_json(provider, response)
