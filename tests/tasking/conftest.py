"""The production app over a fake archive provider and a fake tasking provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bridge.app import create_app
from bridge.auth.keys import KeyStore
from bridge.settings import ProviderSettings, Settings, TenantSettings
from tests.api.conftest import fake_catalog
from tests.support.clock import ManualClock
from tests.support.fake_provider import OrderingFakeProvider, make_items
from tests.support.fake_tasking import FakeTasking
from tests.support.wiring import fixed_wiring

START = 1_900_000_000.0
SPOT = "/tasking/products/alpha-spot"
STRIP = "/tasking/products/alpha-strip"
POINT = {"type": "Point", "coordinates": [24.94, 60.17]}


def order_body(**overrides: Any) -> dict[str, Any]:
    """A valid STAPI OrderPayload."""
    return {
        "datetime": ["2030-01-01T00:00:00Z", "2030-01-08T00:00:00Z"],
        "geometry": POINT,
        "order_parameters": {},
        **overrides,
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def archive() -> OrderingFakeProvider:
    return OrderingFakeProvider("alpha", make_items("alpha", ["alpha-a"], 10, seed=1))


@pytest.fixture
def tasking(clock: ManualClock, archive: OrderingFakeProvider) -> FakeTasking:
    return FakeTasking("alpha", clock, [("alpha-a", i["id"]) for i in archive.items])


def build(
    tmp_path: Path,
    archive: OrderingFakeProvider,
    tasking: FakeTasking,
    reconcile_after_s: float = 150.0,
    **tenants: TenantSettings,
) -> FastAPI:
    """The app through the production factory."""
    settings = Settings(
        data_dir=tmp_path,
        tenants=tenants,
        order_check_min_s=0.001,
        order_reconcile_after_s=reconcile_after_s,
    )
    fakes = {"alpha": archive}
    wiring = fixed_wiring(
        fakes,  # type: ignore[arg-type]
        fake_catalog(fakes),  # type: ignore[arg-type]
        tenant_defaults={"alpha": ProviderSettings()},
        tasking_factories={"alpha": tasking.factory},
    )
    return create_app(settings, wiring=wiring)


@pytest.fixture
async def app(
    tmp_path: Path, archive: OrderingFakeProvider, tasking: FakeTasking
) -> AsyncIterator[FastAPI]:
    application = build(tmp_path, archive, tasking)
    yield application
    await application.state.db.close()


async def client_for(app: FastAPI, tenant: str | None) -> httpx.AsyncClient:
    """A client of ``app`` with a fresh key of ``tenant`` (none when None)."""
    headers = {}
    if tenant is not None:
        key = await KeyStore(app.state.db).add_key(tenant)
        headers["Authorization"] = f"Bearer {key}"
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b.test", headers=headers
    )
