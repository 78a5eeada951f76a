"""Latency and fault injection for simulators, as ASGI middleware.

Faults apply to native routes only (never to ``/_simulator/...``), optionally to a set of
path prefixes. Dice are rolled from a seeded generator so fault tests are repeatable.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.simulators.common.stats import RequestStats


class FaultSettings(BaseModel):
    """What to do to native requests. Rates are probabilities in [0, 1]."""

    delay_ms: float = Field(default=0.0, ge=0, description="Added latency on every request.")
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_status: int = Field(default=503, ge=400, le=599)
    hang_rate: float = Field(default=0.0, ge=0, le=1, description="Requests that never answer.")
    hang_s: float = Field(default=3600.0, gt=0, description="How long a hung request sleeps.")
    malformed_rate: float = Field(default=0.0, ge=0, le=1, description="200 with a broken body.")
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1, description="429 with Retry-After.")
    retry_after_s: int = Field(default=1, ge=0)
    late_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Requests carried out in full whose answer is then held back late_s: the "
        "caller times out not knowing the outcome (an order placed, but unseen).",
    )
    late_s: float = Field(default=30.0, gt=0, description="How long a late answer is held.")
    paths: list[str] = Field(
        default_factory=list, description="Path prefixes faults apply to; empty means all."
    )
    methods: list[str] = Field(
        default_factory=list,
        description="HTTP methods faults apply to; empty means all (e.g. only the POST that "
        "places an order, not the GET that lists orders on the same path).",
    )
    seed: int | None = None

    def is_active(self) -> bool:
        """True when any fault or delay is configured."""
        return bool(
            self.delay_ms
            or self.error_rate
            or self.hang_rate
            or self.malformed_rate
            or self.rate_limit_rate
            or self.late_rate
        )


class FaultState:
    """The faults in force for one simulator; replaceable at run time."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.baseline = settings or FaultSettings()
        self.set(self.baseline)

    def set(self, settings: FaultSettings) -> None:
        """Put ``settings`` in force."""
        self.settings = settings
        self.rng = random.Random(settings.seed)

    def clear(self) -> None:
        """Go back to the configured baseline."""
        self.set(self.baseline)


_SIMULATOR_PREFIX = "/_simulator"


async def _send_simple(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    """Counts native requests and applies the faults in force."""

    def __init__(self, app: ASGIApp, faults: FaultState, stats: RequestStats) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_SIMULATOR_PREFIX):
            await self.app(scope, receive, send)
            return
        with self.stats.track(scope):
            await self._handle(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        s = self.faults.settings
        applies = not s.paths or any(scope["path"].startswith(p) for p in s.paths)
        applies = applies and (not s.methods or scope["method"] in s.methods)
        if not applies or not s.is_active():
            await self.app(scope, receive, send)
            return
        rng = self.faults.rng
        if s.delay_ms:
            await asyncio.sleep(s.delay_ms / 1000)
        if s.hang_rate and rng.random() < s.hang_rate:
            await asyncio.sleep(s.hang_s)
        if s.rate_limit_rate and rng.random() < s.rate_limit_rate:
            headers = [(b"retry-after", str(s.retry_after_s).encode())]
            await _send_simple(send, 429, b'{"message": "Too Many Requests"}', headers)
            return
        if s.error_rate and rng.random() < s.error_rate:
            await _send_simple(send, s.error_status, b'{"message": "Internal Server Error"}', [])
            return
        if s.malformed_rate and rng.random() < s.malformed_rate:
            await _send_simple(send, 200, b'{"type": "FeatureCollection", "features": [{"id', [])
            return
        if s.late_rate and rng.random() < s.late_rate:
            await self._answer_late(scope, receive, send, s.late_s)
            return
        await self.app(scope, receive, send)

    async def _answer_late(self, scope: Scope, receive: Receive, send: Send, late_s: float) -> None:
        """Run the request to completion (its effects happen), then hold the answer back."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        await asyncio.sleep(late_s)
        for message in held:
            await send(message)


def fault_settings_from(body: dict[str, Any]) -> FaultSettings:
    """Validate a ``POST /_simulator/faults`` body."""
    return FaultSettings.model_validate(body)
