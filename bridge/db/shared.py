"""What every worker and replica on one database agrees on: shared secrets and leases.

Both are plain rows, so they work the same on SQLite (workers of one host) and on
PostgreSQL (replicas anywhere). A unique violation is how two processes racing to create
the same row find out that the other won: the loser reads the winner's row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bridge.db.engine import Database
from bridge.db.schema import Lease, SharedSecret


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


async def shared_secret(db: Database, name: str, make: Callable[[], str] | None = None) -> str:
    """The deployment's secret ``name``: created on first use, then the same for everyone."""
    async with db.session() as session:
        found = await session.scalar(select(SharedSecret.value).where(SharedSecret.name == name))
    if found is not None:
        return found
    value = (make or (lambda: secrets.token_urlsafe(48)))()
    try:
        async with db.session() as session:
            session.add(SharedSecret(name=name, value=value))
    except IntegrityError:
        pass  # another process created it first: everyone uses that one
    async with db.session() as session:
        stored = await session.scalar(select(SharedSecret.value).where(SharedSecret.name == name))
    assert stored is not None
    return stored


class DatabaseLease:
    """A named role held by one process at a time; renewed by its holder, taken over only
    once it has expired (its holder died or stopped renewing)."""

    def __init__(
        self,
        db: Database,
        name: str,
        ttl: timedelta,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.name = name
        self.ttl = ttl
        self.holder = holder or secrets.token_hex(8)
        self.clock = clock

    async def acquire(self) -> bool:
        """Take or renew the lease; True when this process holds it now."""
        now = self.clock()
        async with self.db.session() as session:
            result = await session.execute(
                update(Lease)
                .where(
                    Lease.name == self.name,
                    (Lease.holder == self.holder) | (Lease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if getattr(result, "rowcount", 0) == 1:
                return True
        try:
            async with self.db.session() as session:
                session.add(Lease(name=self.name, holder=self.holder, expires_at=now + self.ttl))
        except IntegrityError:
            return False  # held by another process, and not expired
        return True

    async def release(self) -> None:
        """Give the lease up (on shutdown), so another process takes over at once."""
        async with self.db.session() as session:
            await session.execute(
                delete(Lease).where(Lease.name == self.name, Lease.holder == self.holder)
            )
