"""The database handle: engine, sessions, and migrations to the newest schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
POOL_SIZE = 20
# Under overload (256 clients on one worker) requests queued 10 s for a connection and
# got 503s while the same requests' answers took 11 s anyway: wait as long as they do.
POOL_TIMEOUT_S = 30.0


def sqlite_url(path: Path) -> str:
    """The async SQLAlchemy URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{path.resolve()}"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` / ``sqlite://`` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


# SQLite files this process has already brought to the newest migration: ``bridge serve``
# migrates before its worker starts, and the worker's app (in the same process) need not
# again.
_MIGRATED: set[str] = set()


def _upgrade(url: str) -> None:
    """Alembic's ``upgrade head`` (imported here: alembic costs a quarter of a second to
    import, and a process whose database is already migrated never needs it)."""
    from alembic import command

    command.upgrade(_alembic_config(url), "head")


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    """One engine per process; sessions per unit of work."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Every request may touch the database (its key, its rate-limit counter): a pool
        # of five, the default, is what ran out first under load.
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_pre_ping=not self.is_sqlite,
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
            pool_timeout=POOL_TIMEOUT_S,
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def ready(self) -> None:
        """Migrate once per process before first use (also works without an app lifespan)."""
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await self.migrate()
                self._ready = True

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent; safe on every start).

        Alembic's environment runs its own event loop, so it runs in a worker thread.
        """
        if self.url in _MIGRATED and self._file_kept():
            return
        try:
            await asyncio.to_thread(_upgrade, self.url)
        except Exception:
            # Another process (a replica, `bridge keys create`) may have migrated the same
            # SQLite file at the same moment; once it is done, upgrading is a no-op.
            await asyncio.sleep(0.5)
            await asyncio.to_thread(_upgrade, self.url)
        if self._file_kept():
            _MIGRATED.add(self.url)

    def _file_kept(self) -> bool:
        """True for a SQLite file that exists: only such a database is remembered as
        migrated (an in-memory one is per engine; a server's may be recreated under the
        same URL, and is cheap to check anyway)."""
        if not self.is_sqlite:
            return False
        database = make_url(self.url).database
        return bool(database) and database != ":memory:" and Path(str(database)).exists()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        await self.ready()
        async with self.sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        """Dispose of the connection pool."""
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # Several processes (bridge serve, `bridge keys create`) share the sandbox file:
    # WAL lets readers and one writer work at once, and a busy timeout waits for the lock.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
