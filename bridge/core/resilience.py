"""Retries with backoff inside a deadline, and a circuit breaker per provider.

Only idempotent calls (searches, item reads) go through here. A 429 or a 5xx is retried
with exponential backoff and jitter — or after the provider's ``Retry-After`` when it
sends one — as long as the wait still fits in the call's deadline. A provider that keeps
failing is skipped for a while (the breaker is *open*), so a dead provider costs a
search nothing instead of its whole deadline; after the pause one trial call decides
whether it is back.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bridge.errors import ProviderError, ProviderRateLimited, ProviderTimeout

T = TypeVar("T")


class CircuitOpen(ProviderError):
    """The provider failed repeatedly and is being skipped for a while."""


@dataclass
class RetryPolicy:
    """How often and how patiently to retry a failed idempotent call."""

    attempts: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        if retry_after is not None:
            return float(retry_after)
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0**attempt)
        return backoff * (0.5 + rng.random() / 2)


def is_retryable(exc: BaseException) -> bool:
    """429 and 5xx answers are worth another try; auth errors and 4xx are not."""
    if isinstance(exc, ProviderRateLimited):
        return True
    if isinstance(exc, ProviderError) and not isinstance(exc, (CircuitOpen, ProviderTimeout)):
        status = exc.detail.get("status")
        return isinstance(status, int) and status >= 500
    return False


def retry_after_s(exc: BaseException) -> float | None:
    """The provider's ``Retry-After`` in seconds, when it sent a number."""
    value = exc.detail.get("retry_after") if isinstance(exc, ProviderError) else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: treat as absent rather than parse clocks
        return None


@dataclass
class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; half-opens after ``reset_s``."""

    threshold: int = 5
    reset_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = field(default=False, repr=False)
    last_error: str | None = None
    """The description of the last failure (for ``/ready``)."""

    @property
    def state(self) -> str:
        """``closed``, ``open`` (calls are skipped) or ``half-open`` (one trial allowed)."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.reset_s else "open"

    def check(self, provider: str) -> None:
        """Raise :class:`CircuitOpen` while the breaker is open."""
        if self.opened_at is None:
            return
        waited = self.clock() - self.opened_at
        if waited >= self.reset_s and not self.trial_in_flight:
            self.trial_in_flight = True  # half-open: let one call through
            return
        remaining = max(0.0, self.reset_s - waited)
        raise CircuitOpen(
            provider,
            f"skipped after {self.failures} consecutive failures; next try in {remaining:.0f} s",
        )

    def success(self) -> None:
        """Close the breaker."""
        self.failures, self.opened_at, self.trial_in_flight = 0, None, False

    def failure(self, error: str | None = None) -> None:
        """Count a failure; open (again) when there are too many."""
        self.last_error = error
        self.failures += 1
        self.trial_in_flight = False
        if self.failures >= self.threshold:
            self.opened_at = self.clock()


class Resilience:
    """Retry policy plus one breaker per provider."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        breaker_threshold: int = 5,
        breaker_reset_s: float = 30.0,
        seed: int | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._threshold = breaker_threshold
        self._reset_s = breaker_reset_s
        self.breakers: dict[str, CircuitBreaker] = {}
        self._rng = random.Random(seed)

    def breaker(self, provider: str) -> CircuitBreaker:
        """The breaker of ``provider``."""
        if provider not in self.breakers:
            self.breakers[provider] = CircuitBreaker(self._threshold, self._reset_s)
        return self.breakers[provider]

    async def call(
        self, provider: str, make_call: Callable[[], Awaitable[T]], deadline_s: float
    ) -> T:
        """Run ``make_call()`` with retries, all within ``deadline_s`` seconds.

        Raises:
            CircuitOpen: the provider is being skipped.
            ProviderTimeout: the deadline passed.
            ProviderError: the last failure, when retrying cannot help or time is up.
        """
        breaker = self.breaker(provider)
        breaker.check(provider)
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + deadline_s
        try:
            async with asyncio.timeout_at(ends_at):
                result = await self._attempts(make_call, ends_at)
        except TimeoutError as exc:
            timeout = ProviderTimeout(provider, f"no answer within {deadline_s:g} s")
            breaker.failure(timeout.description)
            raise timeout from exc
        except ProviderError as exc:
            breaker.failure(exc.description)
            raise
        breaker.success()
        return result

    async def _attempts(self, make_call: Callable[[], Awaitable[T]], ends_at: float) -> T:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            try:
                return await make_call()
            except ProviderError as exc:
                attempt += 1
                if attempt >= self.policy.attempts or not is_retryable(exc):
                    raise
                wait = self.policy.delay(attempt - 1, retry_after_s(exc), self._rng)
                if loop.time() + wait >= ends_at:
                    raise  # waiting would miss the deadline: report what the provider said
                await asyncio.sleep(wait)
