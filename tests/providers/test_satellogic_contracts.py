"""Contracts: the two documented listings in the simulator, and the adapter's choice of
contract when none is configured (docs ``GET /contracts``, seed 004 ``/v2/my/contracts``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bridge.catalog import load_catalog
from bridge.core.query import SearchQuery
from bridge.errors import ProviderAuthError
from bridge.providers.satellogic.contracts import contract_rows, pick_contract
from bridge.sandbox import build_providers, in_process_sandbox
from bridge.settings import Settings
from bridge.simulators.common.faults import FaultSettings
from bridge.simulators.satellogic import create_app, sandbox_settings
from bridge.simulators.satellogic.auth import DEMO_CONTRACT_ID, QUICKVIEW_CONTRACT_ID
from tests.support import wiring

BASE = "http://satellogic.simulator"


async def _token(client: httpx.AsyncClient, audience: str) -> str:
    settings = sandbox_settings(BASE)
    body = {
        "client_id": settings["client_id"],
        "client_secret": settings["client_secret"],
        "audience": audience,
        "grant_type": "client_credentials",
    }
    return str((await client.post("/oauth/token", json=body)).json()["access_token"])


async def test_simulator_lists_contracts_both_documented_ways() -> None:
    app = create_app(wiring.simulator_config())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        api = await _token(client, "https://api.satellogic.com/")
        accounts = await _token(client, "api")
        # docs: authorizationToken, no contract header, a bare list
        listed = await client.get("/contracts", headers={"authorizationToken": f"Bearer {api}"})
        assert listed.status_code == 200
        assert {r["contract_id"] for r in listed.json()} == {
            DEMO_CONTRACT_ID,
            QUICKVIEW_CONTRACT_ID,
        }
        # seed 004: Authorization with an accounts token, a DRF page
        mine = await client.get("/v2/my/contracts", headers={"Authorization": f"Bearer {accounts}"})
        assert mine.status_code == 200 and mine.json()["count"] == 2
        row = mine.json()["results"][0]
        assert {"account", "archive_configuration", "status"} <= set(row)
        # each header belongs to its endpoint
        wrong = await client.get("/contracts", headers={"Authorization": f"Bearer {api}"})
        assert wrong.status_code == 401
        other = await client.get("/v2/my/contracts", headers={"Authorization": f"Bearer {api}"})
        assert other.status_code == 403


def _provider_without_contract(faults: FaultSettings | None = None) -> Any:
    config = wiring.simulator_config(faults=faults) if faults else wiring.simulator_config()
    sandbox = in_process_sandbox(config, names=["satellogic"])
    settings = dict(sandbox.provider_settings)
    settings["satellogic"] = settings["satellogic"].model_copy(update={"contract_id": None})
    catalog = load_catalog(wiring.COLLECTIONS, providers=["satellogic"])
    return build_providers(Settings(), catalog, settings, sandbox.transports)["satellogic"]


@pytest.mark.parametrize("faults", [None, FaultSettings(error_rate=1.0, error_status=404,
                                                         paths=["/contracts"])])  # fmt: skip
async def test_without_a_contract_the_adapter_names_the_choices(
    faults: FaultSettings | None,
) -> None:
    provider = _provider_without_contract(faults)
    try:
        with pytest.raises(ProviderAuthError) as info:
            await provider.search(SearchQuery(), None, 5)
        assert DEMO_CONTRACT_ID in str(info.value) and QUICKVIEW_CONTRACT_ID in str(info.value)
    finally:
        await provider.aclose()


def test_one_active_contract_is_taken_and_odd_listings_are_bad_responses() -> None:
    rows = contract_rows("satellogic", {"results": [
        {"contract_id": "cont.a", "status": "ACTIVE"},
        {"contract_id": "cont.b", "status": "SUSPENDED"},
    ]})  # fmt: skip
    assert pick_contract("satellogic", rows) == "cont.a"
    assert pick_contract("satellogic", contract_rows("satellogic", [{"contract_id": "c"}])) == "c"
    with pytest.raises(ProviderAuthError):
        pick_contract("satellogic", [])
    with pytest.raises(Exception, match="not a list"):
        contract_rows("satellogic", {"contracts": "x"})
