"""Shared fixtures. Tests reach no network beyond loopback."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

_DATA_DIR = tempfile.mkdtemp(prefix="bridge-test-")


class _SecretWatch(logging.Handler):
    """Remembers every log record of the run that contains a provider credential."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.secrets = secrets
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not a leak
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += repr(record.exc_info[1])
        if any(secret in text for secret in self.secrets):
            self.leaks.append(f"{record.name}: {text[:200]}")


def _sandbox_secrets() -> list[str]:
    from bridge import registry

    found = []
    for name in registry.simulator_names():
        for key, value in registry.simulator_sandbox_settings(name, "http://x").items():
            if any(word in key for word in ("key", "secret")) and isinstance(value, str):
                found.append(value)
    return found


_WATCH: _SecretWatch | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Every app and `bridge` process the tests start keeps its database in a temp dir;
    every log record of the run is watched for provider credentials."""
    global _WATCH
    os.environ["BRIDGE_DATA_DIR"] = _DATA_DIR
    # The suites send thousands of requests from one address in minutes, through apps
    # that never close their database (no lifespan in-process): rate limits are off here,
    # and on in their own tests (tests/e2e/test_service.py), which set them explicitly.
    os.environ.setdefault("BRIDGE_RATE_LIMITS__ENABLED", "false")
    _WATCH = _SecretWatch(_sandbox_secrets())
    root = logging.getLogger()
    root.addHandler(_WATCH)
    root.setLevel(min(root.level, logging.DEBUG) or logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log line carried a provider credential."""
    if _WATCH is not None and _WATCH.leaks:
        print("\nprovider credentials reached log lines:\n" + "\n".join(_WATCH.leaks[:10]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the temp data dir."""
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse connections to anything but loopback, so a test can never reach the internet."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or self.family == socket.AF_UNIX
        ):
            raise RuntimeError(f"test tried to reach {address!r}: only loopback is allowed")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture(autouse=True)
def _databases_closed(request: pytest.FixtureRequest) -> None:
    """In async tests, every database opened is closed in the test's own event loop."""
    if inspect.iscoroutinefunction(request.function):
        request.getfixturevalue("_dispose_databases")


@pytest.fixture
async def _dispose_databases(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Apps built without a lifespan never close their database: its pooled aiosqlite
    connections then outlive the test's event loop, and their worker threads fail inside
    a later test ("Event loop is closed", "deleted before being closed"). Every database
    opened on this test's loop is disposed before the loop ends."""
    from bridge.db import engine

    opened: list[Any] = []
    loop = asyncio.get_running_loop()
    original = engine.Database.__init__

    def tracking(self: engine.Database, url: str) -> None:
        original(self, url)
        try:
            if asyncio.get_running_loop() is loop:
                opened.append(self)
        except RuntimeError:  # built outside any loop: not this test's to close
            pass

    monkeypatch.setattr(engine.Database, "__init__", tracking)
    yield
    for database in opened:
        await database.engine.dispose()


pytest_plugins = ["tests.support.postgres_fixture"]
