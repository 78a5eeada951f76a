"""A fifth provider touches only its own folders.

The invented provider *Lumen* (``tests/support/extra_provider``) is copied into a
temporary tree as the three folders a real provider has — an adapter subpackage, a
simulator subpackage, a folder of collection documents — and registered the way the
four real ones are: as subpackages of ``bridge.providers`` and ``bridge.simulators``
(discovery by :mod:`bridge.registry`) and as a folder of the collections directory. No
other file is edited: the provider contract suite and a federated search, an order and a
download through the production app then run over it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import bridge.providers
import bridge.simulators
from bridge import registry
from bridge.auth.keys import KeyStore
from bridge.sandbox import in_process_sandbox
from bridge.settings import Settings
from tests.support.contract_suite import CHECKS, NEAR_HELSINKI
from tests.support.wiring import COLLECTIONS, app_over, simulator_config

FIXTURE = Path(__file__).parent / "support" / "extra_provider"
NAME = "lumen"


@pytest.fixture
def lumen(tmp_path: Path) -> Iterator[Path]:
    """Lumen registered from a temporary tree; yields the collections directory to use."""
    providers, simulators = tmp_path / "providers", tmp_path / "simulators"
    shutil.copytree(FIXTURE / "provider" / NAME, providers / NAME)
    shutil.copytree(FIXTURE / "simulator" / NAME, simulators / NAME)
    collections = tmp_path / "collections"
    shutil.copytree(COLLECTIONS, collections)
    shutil.copytree(FIXTURE / "collections" / NAME, collections / NAME)
    bridge.providers.__path__.append(str(providers))
    bridge.simulators.__path__.append(str(simulators))
    try:
        yield collections
    finally:
        bridge.providers.__path__.remove(str(providers))
        bridge.simulators.__path__.remove(str(simulators))
        for module in [m for m in sys.modules if m.split(".")[:3][-1:] == [NAME]]:
            del sys.modules[module]


def test_the_registry_finds_it(lumen: Path) -> None:
    assert NAME in registry.provider_names()
    assert NAME in registry.simulator_names()
    assert registry.tasking_factory(NAME) is None  # it sells no tasking


@pytest.mark.parametrize("check", list(CHECKS))
async def test_it_keeps_the_provider_contract(lumen: Path, check: str) -> None:
    await CHECKS[check](NAME, lumen)


async def test_federated_search_order_and_download(lumen: Path, tmp_path: Path) -> None:
    sandbox = in_process_sandbox(simulator_config())
    assert NAME in sandbox.simulators
    app = app_over(sandbox, Settings(data_dir=tmp_path, order_check_min_s=0.001), collections=lumen)
    body = {
        "bbox": NEAR_HELSINKI,
        "datetime": "2022-01-01T00:00:00Z/2023-12-31T23:59:59Z",
        "limit": 200,
    }
    transport = httpx.ASGITransport(app=app)
    # The app's lifespan runs as under `bridge serve`: shutdown closes the pool and database.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as c,
    ):
        collections = (await c.get("/collections")).json()["collections"]
        assert "lumen-optical" in {col["id"] for col in collections}
        page = await c.post("/search", json=body)
        assert page.status_code == 200, page.text
        items = page.json()["features"]
        providers = {i["collection"].split("-")[0] for i in items}
        assert NAME in providers and len(providers) >= 3, providers
        times = [i["properties"]["datetime"] for i in items]
        assert times == sorted(times, reverse=True)
        lumen_only = await c.post("/search", json={**body, "collections": ["lumen-optical"]})
        ids = [i["id"] for i in lumen_only.json()["features"]]
        assert ids and all(i.startswith("LMN-") for i in ids)

        key = await KeyStore(app.state.db).add_key("acme")
        c.headers["X-API-Key"] = key
        item = f"/collections/lumen-optical/items/{ids[0]}"
        quote = (await c.get(f"{item}/quote")).json()
        assert quote["price"]["minor_units"] == 12_500
        order = await c.post(f"{item}/order", headers={"Idempotency-Key": "lumen-1"})
        assert order.status_code == 201, order.text
        done = (await c.get(f"/orders/{order.json()['id']}")).json()
        assert done["status"] == "succeeded"
        redirect = await c.get(f"{item}/assets/data")
        assert redirect.status_code == 307, redirect.text
    native = httpx.ASGITransport(app=sandbox.simulators[NAME])
    async with httpx.AsyncClient(transport=native) as raw:
        tiff = await raw.get(redirect.headers["location"])
    assert tiff.status_code == 200 and tiff.content[:4] in (b"II*\x00", b"MM\x00*")
