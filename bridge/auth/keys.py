"""Tenants and API keys in the database. Keys are stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bridge.db.engine import Database
from bridge.db.schema import ApiKey, Tenant

KEY_PREFIX = "brk_"


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TenantRef:
    """Who a request is, as far as the bridge cares."""

    id: int
    name: str


KEY_CACHE_S = 5.0


class KeyStore:
    """Creates tenants and keys; finds the tenant of a presented key."""

    def __init__(self, db: Database, remember_s: float = KEY_CACHE_S) -> None:
        self.db = db
        # Known keys are remembered briefly: every request presents one, and a database
        # round trip each time is the first thing to run out under load. Unknown keys
        # are never remembered, so a key just created works at once; a revoked one stops
        # working within ``remember_s``.
        self._known: TTLCache[str, TenantRef] = TTLCache(maxsize=10_000, ttl=remember_s)

    async def ensure_tenant(self, name: str) -> TenantRef:
        """The tenant called ``name``, created if needed (safe across processes)."""
        try:
            return await self._tenant_or_new(name)
        except IntegrityError:
            # Another process created it between this one's read and insert: it exists now.
            return await self._tenant_or_new(name)

    async def _tenant_or_new(self, name: str) -> TenantRef:
        async with self.db.session() as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.name == name))
            if tenant is None:
                tenant = Tenant(name=name)
                session.add(tenant)
                await session.flush()
            return TenantRef(tenant.id, tenant.name)

    async def add_key(self, tenant_name: str, key: str | None = None) -> str:
        """Store a key for ``tenant_name`` (creating the tenant) and return the key.

        Passing an existing ``key`` is idempotent (the sandbox re-registers its demo key
        at every start).
        """
        tenant = await self.ensure_tenant(tenant_name)
        key = key or new_key()
        try:
            await self._store_key(tenant, key)
        except IntegrityError:
            # Stored by another process meanwhile (bridges sharing a database at start-up).
            await self._store_key(tenant, key)
        return key

    async def _store_key(self, tenant: TenantRef, key: str) -> None:
        async with self.db.session() as session:
            existing = await session.scalar(select(ApiKey).where(ApiKey.digest == digest(key)))
            if existing is None:
                session.add(ApiKey(tenant_id=tenant.id, digest=digest(key), prefix=key[:12]))
                await session.flush()
            elif existing.tenant_id != tenant.id:
                raise ValueError("that key already belongs to another tenant")

    async def tenant_for(self, key: str) -> TenantRef | None:
        """The tenant a key belongs to; None for an unknown or revoked key.

        A key created by `bridge keys create` works at once (misses are not remembered).
        """
        hashed = digest(key)
        if (known := self._known.get(hashed)) is not None:
            return known
        async with self.db.session() as session:
            row = await session.execute(
                select(Tenant.id, Tenant.name)
                .join(ApiKey, ApiKey.tenant_id == Tenant.id)
                .where(ApiKey.digest == hashed, ApiKey.revoked_at.is_(None))
            )
            found = row.first()
        if not found:
            return None
        tenant = self._known[hashed] = TenantRef(found.id, found.name)
        return tenant
