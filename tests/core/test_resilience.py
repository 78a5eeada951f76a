"""Retries, Retry-After and the circuit breaker, with a scripted provider call."""

from __future__ import annotations

import pytest

from bridge.core.resilience import CircuitBreaker, CircuitOpen, Resilience, RetryPolicy
from bridge.errors import ProviderAuthError, ProviderError, ProviderRateLimited, ProviderTimeout


class Script:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def fast() -> Resilience:
    return Resilience(RetryPolicy(attempts=3, base_delay_s=0.001), seed=1)


async def test_5xx_and_429_are_retried_until_success() -> None:
    call = Script(ProviderError("p", "boom", status=503), ProviderRateLimited("p", "slow down"))
    assert await fast().call("p", call, 5) == "ok"
    assert call.calls == 3


async def test_auth_errors_and_4xx_are_not_retried() -> None:
    for error in (ProviderAuthError("p", "no"), ProviderError("p", "bad", status=400)):
        call = Script(error)
        with pytest.raises(ProviderError):
            await fast().call("p", call, 5)
        assert call.calls == 1


async def test_retry_after_is_honoured_within_the_deadline() -> None:
    call = Script(ProviderRateLimited("p", "wait", retry_after="0.05"))
    assert await fast().call("p", call, 5) == "ok"
    too_long = Script(ProviderRateLimited("p", "wait", retry_after="60"))
    with pytest.raises(ProviderRateLimited):
        await fast().call("p", too_long, 1)
    assert too_long.calls == 1


async def test_deadline_is_a_timeout() -> None:
    import asyncio

    async def hang() -> str:
        await asyncio.sleep(10)
        return "never"

    with pytest.raises(ProviderTimeout):
        await fast().call("p", hang, 0.05)


def test_breaker_opens_then_lets_one_trial_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, reset_s=10, clock=lambda: now[0])
    breaker.failure()
    breaker.check("p")
    breaker.failure()
    with pytest.raises(CircuitOpen):
        breaker.check("p")
    now[0] = 11
    breaker.check("p")  # the trial call
    with pytest.raises(CircuitOpen):
        breaker.check("p")  # only one at a time
    breaker.success()
    breaker.check("p")
