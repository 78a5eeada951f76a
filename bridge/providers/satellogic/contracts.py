"""Which contract to send in ``X-Satellogic-Contract-Id`` when none is configured.

Two documented listings (the simulator serves both):

* ``GET /contracts`` with the API token in ``authorizationToken`` and no contract header
  → ``[{"contract_id", "name"}]`` (docs api-authentication "Get Contract ID");
* ``GET /v2/my/contracts`` with an accounts-audience (``api``) token in ``Authorization``
  → ``{count, next, previous, results: [{contract_id, name, status, ...}]}`` (seed 004).

The first is tried first (current docs); the second when the first is not there (404).
One usable contract is taken; several make the choice the operator's (an error naming
them), none is an auth error. A listing of another shape is a bad response, never a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bridge.errors import ProviderAuthError, ProviderBadResponse
from bridge.providers.http import check_response, decode_json

CONTRACTS_PATH = "/contracts"
MY_CONTRACTS_PATH = "/v2/my/contracts"
ACCOUNTS_AUDIENCE = "api"


def contract_rows(provider: str, body: Any) -> list[dict[str, Any]]:
    """The contracts of either listing (a bare list or a DRF ``results`` page)."""
    rows = body.get("results") if isinstance(body, dict) else body
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ProviderBadResponse(provider, "contracts listing is not a list of contracts")
    return rows


def pick_contract(provider: str, rows: list[dict[str, Any]]) -> str:
    """The one active contract of ``rows``, or an error that names the choices."""
    usable = [
        str(r["contract_id"])
        for r in rows
        if r.get("contract_id") and str(r.get("status", "ACTIVE")).upper() == "ACTIVE"
    ]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise ProviderAuthError(provider, "the credentials hold no active contract")
    raise ProviderAuthError(
        provider,
        f"the credentials hold {len(usable)} contracts; set contract_id to one of: "
        + ", ".join(usable),
    )


async def discover(
    provider: str,
    client: httpx.AsyncClient,
    send: Callable[[httpx.Request], Awaitable[httpx.Response]],
    api_token: str,
    accounts_token: Callable[[], Awaitable[str]],
) -> str:
    """The credentials' one contract: ``/contracts``, else ``/v2/my/contracts``."""
    headers = {"authorizationToken": f"Bearer {api_token}"}
    response = await send(client.build_request("GET", CONTRACTS_PATH, headers=headers))
    if response.status_code == 404:  # no docs-era listing: the accounts service (seed 004)
        headers = {"Authorization": f"Bearer {await accounts_token()}"}
        response = await send(client.build_request("GET", MY_CONTRACTS_PATH, headers=headers))
    check_response(provider, response)
    return pick_contract(provider, contract_rows(provider, decode_json(provider, response)))
