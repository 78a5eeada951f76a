"""Shared fixtures. Tests reach no network beyond loopback."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator

import pytest

_DATA_DIR = tempfile.mkdtemp(prefix="bridge-test-")


def pytest_configure(config: pytest.Config) -> None:
    """Every app and `bridge` process the tests start keeps its database in a temp dir."""
    os.environ["BRIDGE_DATA_DIR"] = _DATA_DIR


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


pytest_plugins = ["tests.support.postgres_fixture"]
