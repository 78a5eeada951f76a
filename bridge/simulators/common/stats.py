"""What a simulator was asked: requests by route, concurrency, and (later) native orders."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.types import Scope


def _route_name(scope: Scope) -> str:
    # Starlette puts the matched route in the scope only after routing, i.e. after the
    # response; the raw path stands in when no route matched.
    route = scope.get("route")
    path = getattr(route, "path", None) or scope["path"]
    return f"{scope['method']} {path}"


class RequestStats:
    """Counters for one simulator."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        self.requests: Counter[str] = Counter()
        self.orders: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_start: float | None = None
        self.last_start: float | None = None
        # Wall-clock [start, end, route] of the latest requests: comparable across
        # simulators, so a test can see that a fan-out had every request in flight at once.
        self.recent: deque[tuple[float, float, str]] = deque(maxlen=200)

    @contextmanager
    def track(self, scope: Scope) -> Iterator[None]:
        """Count one native request for as long as it is being served."""
        now = time.monotonic()
        self.first_start = self.first_start if self.first_start is not None else now
        self.last_start = now
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        started = time.time()
        try:
            yield
        finally:
            self.in_flight -= 1
            route = _route_name(scope)
            self.requests[route] += 1
            self.recent.append((started, time.time(), route))

    def record_order(self, item_id: str) -> None:
        """Count one native order placed for ``item_id``."""
        self.orders[item_id] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as JSON."""
        return {
            "requests": dict(self.requests),
            "total_requests": sum(self.requests.values()),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "orders": dict(self.orders),
            "recent": [{"start": a, "end": b, "route": r} for a, b, r in self.recent],
        }
