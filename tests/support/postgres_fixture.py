"""The session-wide throwaway PostgreSQL server, as a pytest fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bridge.db.engine import Database
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


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database, once on SQLite and once on the real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    else:
        url = request.getfixturevalue("postgres_db")
    database = Database(url)
    await database.ready()
    yield database
    await database.close()
