"""A real ``bridge serve`` in sandbox mode on a free loopback port, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conformance.live import LiveBridge, running_bridge

__all__ = ["DEMO_KEY", "FAST_ORDERS", "LiveBridge", "live_bridge", "start_bridge"]

DEMO_KEY = "e2e-demo-key"


# Sandbox orders progress in fractions of a second in tests (default: seconds).
FAST_ORDERS = {
    f"BRIDGE_SIMULATORS__EXTRA__{name.upper()}_ORDER_STEP_S": "0.2"
    for name in ("arlula", "capella", "iceye", "satellogic")
}


@contextmanager
def start_bridge(log: Path, env: dict[str, str], *args: str) -> Iterator[LiveBridge]:
    """Run `bridge serve` on a free port with ``env`` (and options) until the block ends."""
    with running_bridge(log, DEMO_KEY, env, args or ("--sandbox",)) as bridge:
        yield bridge


@pytest.fixture(scope="session")
def live_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    log = tmp_path_factory.mktemp("bridge") / "serve.log"
    with start_bridge(log, FAST_ORDERS) as bridge:
        yield bridge
