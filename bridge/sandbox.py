"""Wiring providers to their simulators: in-process (tests) or on loopback ports (sandbox).

Sandbox mode runs every simulator as its own HTTP server on a loopback port (provider
SDKs assume an API at the root of a host) and points each adapter at it with the demo
credentials the simulator accepts. Everything sandbox-specific reaches the app as one
:class:`~bridge.provider_pool.ProviderWiring` built here; production code never imports
this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.applications import Starlette

from bridge import registry
from bridge.app import create_app, prepare_worker
from bridge.catalog import Catalog, load_catalog
from bridge.core.contract import Provider
from bridge.provider_pool import ProviderPool, ProviderWiring, SandboxFront
from bridge.settings import ProviderSettings, Settings
from bridge.simulators.common.app import SimulatorConfig
from bridge.simulators.common.faults import FaultSettings


def simulator_config(settings: Settings, name: str | None = None) -> SimulatorConfig:
    """The configuration sandbox mode gives simulator ``name`` (faults from the settings)."""
    sims = settings.simulators
    faults = sims.faults.get(name) if name else None
    return SimulatorConfig(
        seed=sims.seed,
        scenes=sims.scenes,
        faults=FaultSettings.model_validate(faults or {}),
        extra=dict(sims.extra),
    )


def sandbox_provider_settings(
    name: str, base_url: str, configured: ProviderSettings | None = None
) -> ProviderSettings:
    """Provider settings pointing at the simulator of ``name`` at ``base_url``.

    Operator choices that make sense against a simulator (API generation, deadline) are
    kept from ``configured``; the endpoint and credentials are the simulator's.
    """
    fields: dict[str, Any] = {
        "base_url": base_url,
        **registry.simulator_sandbox_settings(name, base_url),
    }
    if configured is not None:
        keep = configured.model_dump(
            include={"api_version", "timeout_s", "order_timeout_s", "enabled"}, exclude_unset=True
        )
        fields.update(keep)
    return ProviderSettings.model_validate(fields)


def build_providers(
    settings: Settings,
    catalog: Catalog,
    provider_settings: Mapping[str, ProviderSettings] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> dict[str, Provider]:
    """The operator adapters the app's pool would build with these settings (tests and
    tools that want adapters without an app)."""
    wiring = ProviderWiring(
        catalog=catalog,
        operator_settings=provider_settings or {},
        transports=transports or {},
    )
    return ProviderPool(settings, wiring).operators


def sandbox_info(provider_settings: Mapping[str, ProviderSettings]) -> dict[str, Any]:
    """What ``GET /sandbox`` shows: each simulator's URL and the credentials it accepts."""
    providers: dict[str, Any] = {}
    for name, ps in provider_settings.items():
        url = str(ps.base_url)
        providers[name] = {
            "base_url": url,
            "credentials": registry.simulator_sandbox_settings(name, url),
            "stats": f"{url}/_simulator/stats",
            "faults": f"{url}/_simulator/faults",
        }
    return {"mode": "sandbox", "providers": providers}


def running_sandbox(settings: Settings, catalog: Catalog | None = None) -> ProviderWiring:
    """The wiring of a bridge over simulators already serving at ``settings.simulators.urls``
    (``bridge serve`` starts them in a process of their own)."""
    provider_settings = {
        name: sandbox_provider_settings(name, url, settings.providers.get(name))
        for name, url in settings.simulators.urls.items()
    }
    key = settings.sandbox_api_key
    return ProviderWiring(
        catalog=catalog,
        operator_settings=provider_settings,
        tenant_defaults=provider_settings,
        sandbox=SandboxFront(
            sandbox_info(provider_settings), key.get_secret_value() if key else None
        ),
    )


def create_app_from_env() -> FastAPI:
    """``uvicorn --factory bridge.sandbox:create_app_from_env``: a sandbox worker's app.

    ``bridge serve`` has put the URLs of its running simulators and the demo key in the
    environment.
    """
    settings = Settings()
    catalog = load_catalog(settings.collections_dir)
    return prepare_worker(create_app(settings, wiring=running_sandbox(settings, catalog)))


@dataclass
class InProcessSandbox:
    """Simulators as in-process apps and the provider settings that reach them."""

    simulators: dict[str, Starlette]
    provider_settings: dict[str, ProviderSettings]
    transports: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)

    def wiring(
        self,
        catalog: Catalog | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> ProviderWiring:
        """A bridge wired to these simulators, every tenant with their demo contracts;
        ``transports`` replace some of the simulators' (to rewrite or drop answers)."""
        return ProviderWiring(
            catalog=catalog,
            operator_settings=self.provider_settings,
            tenant_defaults=self.provider_settings,
            transports={**self.transports, **(transports or {})},
        )


def in_process_sandbox(
    config: SimulatorConfig,
    names: list[str] | None = None,
    api_versions: Mapping[str, str] | None = None,
) -> InProcessSandbox:
    """Every simulator as an in-process app reached through ``httpx.ASGITransport``."""
    sims: dict[str, Starlette] = {}
    pss: dict[str, ProviderSettings] = {}
    transports: dict[str, httpx.AsyncBaseTransport] = {}
    for name in names or registry.simulator_names():
        app = registry.create_simulator(name, config)
        base_url = f"http://{name}.simulator"
        configured = None
        if api_versions and name in api_versions:
            configured = ProviderSettings(api_version=api_versions[name])
        sims[name] = app
        pss[name] = sandbox_provider_settings(name, base_url, configured)
        transports[name] = httpx.ASGITransport(app=app)
    return InProcessSandbox(sims, pss, transports)
