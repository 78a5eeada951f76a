"""Which providers ``bridge providers check`` checks, with which settings, over which area.

Two sources of credentials, never mixed:

* the configuration ``bridge serve`` uses (``BRIDGE_PROVIDERS__<NAME>__...``): every
  enabled provider with credentials;
* ``--sandbox URL``: the ``GET /sandbox`` document of a running sandbox bridge (each
  simulator's URL and the demo credentials it accepts). API generation and deadlines
  still come from the configuration, as ``bridge serve`` keeps them.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError

from bridge import registry
from bridge.core.query import SearchQuery, build_query
from bridge.errors import BadRequest
from bridge.settings import ProviderSettings, Settings

DEFAULT_BBOX = (23.5, 59.5, 26.5, 61.0)
"""Around Helsinki: every provider's archive (and every simulated one) has scenes there."""
DEFAULT_DATETIME = "2019-01-01T00:00:00Z/.."
SEARCH_LIMIT = 3
KEPT = {"api_version", "timeout_s", "order_timeout_s", "max_concurrency"}


class CheckConfigError(Exception):
    """The check cannot start: no credentials, an unknown provider, an unreadable sandbox."""


def _only(names: list[str], provider: str | None, source: str) -> list[str]:
    if provider is None:
        if not names:
            raise CheckConfigError(
                f"no provider has credentials in {source}: set BRIDGE_PROVIDERS__<NAME>__... "
                "(see README, Checking real credentials), or check a sandbox with --sandbox URL"
            )
        return names
    if provider not in registry.provider_names():
        known = ", ".join(registry.provider_names())
        raise CheckConfigError(f"unknown provider {provider!r} (known: {known})")
    if provider not in names:
        raise CheckConfigError(f"{provider} has no credentials in {source} (or is disabled)")
    return [provider]


def configured_providers(settings: Settings, provider: str | None) -> dict[str, ProviderSettings]:
    """The enabled providers with credentials in ``settings`` (only ``provider`` if given)."""
    names = [
        n
        for n in registry.provider_names()
        if (ps := settings.providers.get(n)) is not None and ps.enabled and ps.has_credentials()
    ]
    chosen = _only(names, provider, "the configuration")
    return {n: settings.providers[n] for n in chosen}


def sandbox_providers(
    document: Any, settings: Settings, provider: str | None
) -> dict[str, ProviderSettings]:
    """Provider settings from a sandbox's ``GET /sandbox`` document."""
    entries = document.get("providers") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise CheckConfigError("the /sandbox document names no providers")
    known = [n for n in registry.provider_names() if n in entries]
    chosen = _only(known, provider, "the sandbox")
    result = {}
    for name in chosen:
        entry = entries[name]
        configured = settings.providers.get(name)
        kept = configured.model_dump(include=KEPT, exclude_unset=True) if configured else {}
        try:
            result[name] = ProviderSettings.model_validate(
                {"base_url": entry["base_url"], **entry["credentials"], **kept}
            )
        except (KeyError, TypeError, ValidationError) as exc:
            raise CheckConfigError(f"the /sandbox entry of {name} is unreadable") from exc
    return result


async def read_sandbox(url: str, timeout_s: float = 10.0) -> Any:
    """The ``GET /sandbox`` document of the bridge at ``url``."""
    target = url.rstrip("/") + "/sandbox"
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(target)
    except httpx.HTTPError as exc:
        raise CheckConfigError(f"cannot read {target}: {type(exc).__name__}") from exc
    if response.status_code == 404:
        raise CheckConfigError(f"{target} not found: is that bridge running in sandbox mode?")
    if response.status_code != 200:
        raise CheckConfigError(f"{target} answered {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise CheckConfigError(f"{target} is not JSON") from exc


def check_query(bbox: str | None, datetime: str | None) -> SearchQuery:
    """The small search every provider is checked with (the bridge's own validation)."""
    box = DEFAULT_BBOX
    if bbox:
        try:
            box = tuple(float(v) for v in bbox.split(","))  # type: ignore[assignment]
        except ValueError as exc:
            raise CheckConfigError(f"--bbox must be W,S,E,N numbers, not {bbox!r}") from exc
    try:
        return build_query(bbox=box, datetime=datetime or DEFAULT_DATETIME, limit=SEARCH_LIMIT)
    except BadRequest as exc:
        raise CheckConfigError(exc.description) from exc
