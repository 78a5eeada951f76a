"""Tenants and API keys on SQLite and on a real PostgreSQL; key checks in the API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bridge.auth.keys import KeyStore, digest
from bridge.db.engine import Database
from bridge.settings import Settings
from tests.support.wiring import sandbox_app


async def test_keys_are_stored_hashed_and_resolve_to_their_tenant(db: Database) -> None:
    keys = KeyStore(db)
    key = await keys.add_key(f"acme-{id(db)}")
    tenant = await keys.tenant_for(key)
    assert tenant is not None and tenant.name == f"acme-{id(db)}"
    assert await keys.tenant_for(key + "x") is None
    async with db.engine.connect() as conn:
        rows = (await conn.exec_driver_sql("SELECT digest, prefix FROM api_keys")).all()
    assert all(key not in (d, p) for d, p in rows)
    assert any(d == digest(key) for d, _ in rows)


async def test_adding_a_known_key_is_idempotent_and_never_moves_it(db: Database) -> None:
    keys = KeyStore(db)
    name = f"demo-{id(db)}"
    key = await keys.add_key(name, "brk_fixed-demo-key-" + name)
    assert await keys.add_key(name, key) == key
    with pytest.raises(ValueError):
        await keys.add_key(f"other-{id(db)}", key)


async def test_concurrent_creation_of_one_tenant_and_key_is_safe(db: Database) -> None:
    """Bridges sharing a database register the same demo tenant and key at start-up."""
    name = f"racing-{id(db)}"
    key = "brk_shared-demo-key-" + name
    stores = [KeyStore(db) for _ in range(20)]
    tenants = await asyncio.gather(*(s.ensure_tenant(name) for s in stores))
    assert len({t.id for t in tenants}) == 1
    added = await asyncio.gather(*(s.add_key(name + "-k", key) for s in stores))
    assert set(added) == {key}
    owner = await stores[0].tenant_for(key)
    assert owner is not None and owner.name == name + "-k"


async def test_migrations_are_idempotent(db: Database) -> None:
    await db.migrate()
    await db.migrate()


def test_cli_creates_a_key_the_database_then_honours(tmp_path: Path) -> None:
    env = {**os.environ, "BRIDGE_DATA_DIR": str(tmp_path)}
    exe = Path(sys.executable).with_name("bridge")
    out = subprocess.run(
        [str(exe), "keys", "create", "--tenant", "acme"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("brk_") and len(key) > 30
    assert "acme" not in key

    async def lookup() -> str | None:
        database = Database(Settings(data_dir=tmp_path).database())
        try:
            tenant = await KeyStore(database).tenant_for(key)
            return tenant.name if tenant else None
        finally:
            await database.close()

    import asyncio

    assert asyncio.run(lookup()) == "acme"


async def test_api_checks_presented_keys(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, search_requires_key=True)
    app, _ = sandbox_app(settings=settings)
    key = await KeyStore(app.state.db).add_key("acme")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        params = {"limit": 1}
        assert (await c.get("/search", params=params)).status_code == 401
        bad = await c.get("/search", params=params, headers={"X-API-Key": "brk_nope"})
        assert bad.status_code == 401 and bad.json()["code"] == "Unauthorized"
        ok = await c.get("/search", params=params, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
        assert (
            await c.get("/search", params=params, headers={"X-API-Key": key})
        ).status_code == 200
        assert (await c.get("/collections")).status_code == 200  # discovery stays open
    await app.state.db.close()
