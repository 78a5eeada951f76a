"""A clock tests set by hand (unix seconds), for expiry and order-progress tests."""

from __future__ import annotations


class ManualClock:
    """Returns ``now``; a test moves time by assigning or adding to it."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
