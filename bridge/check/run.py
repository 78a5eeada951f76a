"""One provider's check: build its adapter over a recording transport, run the steps in
order, and hold every native answer against the provider's ``shapes.json``.

Statuses: a step **failed** when it could not be completed (credentials refused, an
error answer, no answer, an unreadable body, a thumbnail that is not an image); it
**differed** when it completed but a native answer lacked a documented field, had
another JSON type, or came from a request ``shapes.json`` does not document; it was
**skipped** when an earlier step failed or it does not apply; otherwise it **held**.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bridge import registry
from bridge.check.recording import Record, RecordingTransport
from bridge.check.shapes import Shapes, differences, load_shapes
from bridge.check.steps import (
    STEPS,
    ReadOnlyProvider,
    StepFailed,
    StepResult,
    Steps,
    StepSkipped,
    describe_error,
)
from bridge.core.contract import CollectionDoc
from bridge.core.query import SearchQuery
from bridge.errors import ProviderAuthError
from bridge.providers.base import ProviderContext, tls_context
from bridge.settings import ProviderSettings

TOKEN_EXCHANGE = "token"
"""Exchanges whose ``shapes.json`` name contains this word are the auth step's."""


@dataclass
class ProviderReport:
    """Every step's result for one provider, and the native exchanges behind them."""

    provider: str
    steps: list[StepResult]
    records: list[Record] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when any step failed."""
        return any(s.status == "failed" for s in self.steps)

    @property
    def differed(self) -> bool:
        """True when any step's native answers differed from the documented shapes."""
        return any(s.status == "differed" for s in self.steps)


def shape_differences(shapes: Shapes, record: Record) -> list[str]:
    """How one successful JSON answer differs from its documented shape (prefixed with
    its request); an undocumented JSON answer is itself a difference."""
    if record.status >= 300 or record.body is None:
        return []
    path = httpx.URL(record.url).path
    exchange = shapes.match(record.method, path)
    label = f"{record.method} {path}"
    if exchange is None:
        return [f"{label}: no documented shape (add it to shapes.json with its source)"]
    return [f"{label}: {d}" for d in differences(record.body, exchange.fields)]


def _auth_result(shapes: Shapes, records: list[Record], error: BaseException | None) -> StepResult:
    provider = shapes.provider
    if isinstance(error, ProviderAuthError):
        return StepResult("auth", "failed", describe_error(provider, error))
    tokens = [r for r in records if _is_token(shapes, r)]
    diffs = [d for r in tokens for d in shape_differences(shapes, r)]
    granted = [r for r in tokens if r.status < 300]
    if granted:
        message = "token issued"
    elif any(r.status < 400 for r in records):
        message = "first call accepted (no token to fetch)"
    elif error is not None:
        return StepResult("auth", "skipped", "no answer to judge the credentials by")
    else:
        return StepResult("auth", "failed", "no native call was made")
    return StepResult("auth", "differed" if diffs else "held", message, diffs)


def _is_token(shapes: Shapes, record: Record) -> bool:
    exchange = shapes.match(record.method, httpx.URL(record.url).path)
    return exchange is not None and TOKEN_EXCHANGE in exchange.name


async def check_provider(
    name: str,
    settings: ProviderSettings,
    collections: dict[str, CollectionDoc],
    query: SearchQuery,
    transport: httpx.AsyncBaseTransport | None = None,
    shapes: Shapes | None = None,
) -> ProviderReport:
    """Run every step against provider ``name`` with ``settings``; never raises.

    Args:
        transport: what reaches the provider (None: the network); tests pass an
            in-process simulator or a transport that answers odd bodies.
        shapes: the documented shapes (default: the adapter's ``shapes.json``).
    """
    shapes = shapes or load_shapes(name)
    recorder = RecordingTransport(
        transport or httpx.AsyncHTTPTransport(verify=tls_context()), shapes
    )
    context = ProviderContext(name, settings, collections, transport=recorder)
    try:
        adapter: ReadOnlyProvider = registry.provider_factory(name)(context)
    except (ValueError, TypeError) as exc:
        failed = StepResult("auth", "failed", f"{name}: bad configuration: {exc}")
        return ProviderReport(name, [failed, *(StepResult(s, "skipped") for s in STEPS[1:])])
    steps = Steps(name, adapter, recorder, settings.timeout_s)
    try:
        return await _run(shapes, steps, recorder, query)
    finally:
        await adapter.aclose()


async def _attempt(
    provider: str, step: str, call: Callable[[], Awaitable[str]]
) -> tuple[StepResult, BaseException | None]:
    """Run one step; any failure becomes its result (and the error, for the auth step)."""
    try:
        return StepResult(step, "held", await call()), None
    except StepSkipped as exc:
        return StepResult(step, "skipped", str(exc)), None
    except StepFailed as exc:
        return StepResult(step, "failed", str(exc)), None
    except Exception as exc:  # every failure becomes one report line, never a traceback
        return StepResult(step, "failed", describe_error(provider, exc)), exc


async def _run(
    shapes: Shapes, steps: Steps, recorder: RecordingTransport, query: SearchQuery
) -> ProviderReport:
    calls: dict[str, Callable[[], Awaitable[str]]] = {
        "search": lambda: steps.search(query),
        "item": steps.get_item,
        "price": steps.price,
        "thumbnail": steps.thumbnail,
    }
    results: list[StepResult] = []
    blocked: str | None = None
    for step, call in calls.items():
        recorder.step = step
        if blocked is not None:
            results.append(StepResult(step, "skipped", f"after {blocked} failed"))
            continue
        result, error = await _attempt(shapes.provider, step, call)
        mine = [r for r in recorder.records if r.step == step]
        if step == "search":
            # The search's first exchanges prove the credentials: token requests move to
            # the auth step, and without a token the first answer is the proof.
            auth = _auth_result(shapes, mine, error)
            for record in mine:
                if _is_token(shapes, record):
                    record.step = "auth"
            results.append(auth)
            if auth.status == "failed":
                result, blocked = StepResult(step, "skipped", "after auth failed"), "auth"
        diffs = [d for r in mine if r.step == step for d in shape_differences(shapes, r)]
        if result.status == "held" and diffs:
            result = StepResult(step, "differed", result.message, diffs)
        else:
            result.differences = diffs
        results.append(result)
        if result.status == "failed":
            blocked = step
    return ProviderReport(shapes.provider, results, list(recorder.records))
