"""The session-wide throwaway PostgreSQL server, as a pytest fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An async SQLAlchemy URL of a fresh PostgreSQL database for this test session."""
    with postgres.postgres_server() as url:
        yield url


@pytest.fixture
def postgres_db(postgres_url: str) -> str:
    """A fresh, empty database on the session's server (tests stay independent)."""
    return postgres.create_database(postgres_url)
