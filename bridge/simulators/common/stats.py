"""What a simulator was asked: requests by route, concurrency, and (later) native orders."""

from __future__ import annotations

import time
from collections import Counter
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

    @contextmanager
    def track(self, scope: Scope) -> Iterator[None]:
        """Count one native request for as long as it is being served."""
        now = time.monotonic()
        self.first_start = self.first_start if self.first_start is not None else now
        self.last_start = now
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1
            self.requests[_route_name(scope)] += 1

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
        }
