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

from typing import Any

from bridge.errors import ProviderAuthError, ProviderBadResponse

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
