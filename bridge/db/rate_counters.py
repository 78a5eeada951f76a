"""A storage for the ``limits`` library over the bridge's database, so rate-limit counters
are shared by every worker and replica on that database (SQLite or PostgreSQL).

Fixed windows only: one row per (limit, identity, window), incremented with a single
upsert that also starts a new window when the old one has expired.
"""

from __future__ import annotations

import time

from limits.aio.storage import Storage
from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from bridge.db.engine import Database
from bridge.db.schema import RateCounter

_INCREMENT = text(
    """
    INSERT INTO rate_counters (key, count, expires_at) VALUES (:key, :amount, :expires)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_counters.expires_at <= :now
                     THEN :amount ELSE rate_counters.count + :amount END,
        expires_at = CASE WHEN rate_counters.expires_at <= :now
                          THEN :expires ELSE rate_counters.expires_at END
    RETURNING count
    """
)
# Expired rows are removed now and then, not on every request.
_SWEEP_EVERY_S = 60.0


class DatabaseStorage(Storage):
    """``limits`` async storage backed by the ``rate_counters`` table."""

    STORAGE_SCHEME = ["bridge+database"]

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self._last_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What a database failure raises."""
        return SQLAlchemyError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s window (a new one of ``expiry`` s when it expired)."""
        now = time.time()
        await self.db.ready()
        # A bare connection, not an ORM session: this runs on every request.
        async with self.db.engine.begin() as conn:
            count = await conn.scalar(
                _INCREMENT,
                {"key": key, "amount": amount, "expires": now + expiry, "now": now},
            )
            if now - self._last_sweep > _SWEEP_EVERY_S:
                self._last_sweep = now
                await conn.execute(delete(RateCounter).where(RateCounter.expires_at <= now))
        return int(count or 0)

    async def get(self, key: str) -> int:
        """The count of ``key``'s current window (0 when none)."""
        async with self.db.session() as session:
            row = await session.get(RateCounter, key)
        return row.count if row is not None and row.expires_at > time.time() else 0

    async def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (Unix seconds)."""
        async with self.db.session() as session:
            expires = await session.scalar(
                select(RateCounter.expires_at).where(RateCounter.key == key)
            )
        return float(expires) if expires is not None else time.time()

    async def check(self) -> bool:
        """True when the database answers."""
        try:
            async with self.db.session() as session:
                await session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    async def reset(self) -> int | None:
        """Remove every counter."""
        async with self.db.session() as session:
            result = await session.execute(delete(RateCounter))
        return int(getattr(result, "rowcount", 0) or 0)

    async def clear(self, key: str) -> None:
        """Remove ``key``'s counter."""
        async with self.db.session() as session:
            await session.execute(delete(RateCounter).where(RateCounter.key == key))
