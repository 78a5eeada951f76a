"""Build providers wired in-process to their simulators, through the production wiring."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.applications import Starlette

from bridge.app import create_app
from bridge.catalog import Catalog, load_catalog
from bridge.core.contract import Provider
from bridge.provider_pool import ProviderWiring, TaskingFactory
from bridge.providers.base import ProviderContext
from bridge.sandbox import InProcessSandbox, build_providers, in_process_sandbox
from bridge.settings import ProviderSettings, Settings
from bridge.simulators.common.app import SimulatorConfig

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "collections"
TEST_SEED = 20260101
TEST_SCENES = 6000


def simulator_config(**overrides: object) -> SimulatorConfig:
    """The simulator configuration the test suite uses."""
    fields: dict[str, object] = {"seed": TEST_SEED, "scenes": TEST_SCENES, **overrides}
    return SimulatorConfig(**fields)  # type: ignore[arg-type]


def provider_for(
    name: str,
    api_version: str | None = None,
    config: SimulatorConfig | None = None,
    collections: Path = COLLECTIONS,
) -> tuple[Provider, Starlette]:
    """Provider ``name`` talking to a fresh in-process simulator; returns both."""
    sandbox = in_process_sandbox(
        config or simulator_config(),
        names=[name],
        api_versions={name: api_version} if api_version else None,
    )
    catalog = load_catalog(collections, providers=[name])
    providers = build_providers(Settings(), catalog, sandbox.provider_settings, sandbox.transports)
    return providers[name], sandbox.simulators[name]


def sandbox_app(
    config: SimulatorConfig | None = None, settings: Settings | None = None
) -> tuple[FastAPI, dict[str, Starlette]]:
    """The bridge app (production factory) over every simulator in-process; returns both."""
    sandbox = in_process_sandbox(config or simulator_config())
    return app_over(sandbox, settings), sandbox.simulators


def app_over(
    sandbox: InProcessSandbox,
    settings: Settings | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    collections: Path = COLLECTIONS,
) -> FastAPI:
    """The bridge app (production factory) over ``sandbox``'s simulators, for the
    providers it has; ``transports`` replace some of the simulators' (to rewrite or drop
    their answers)."""
    catalog = load_catalog(collections, providers=list(sandbox.simulators))
    return create_app(settings or Settings(), wiring=sandbox.wiring(catalog, transports))


def fixed_wiring(
    providers: Mapping[str, Provider],
    catalog: Catalog,
    tenant_defaults: Mapping[str, ProviderSettings] | None = None,
    tasking_factories: Mapping[str, TaskingFactory] | None = None,
) -> ProviderWiring:
    """A wiring that hands out ``providers`` (test doubles or adapters built by the test)
    as they are, to the operator and, with ``tenant_defaults``, to every tenant; tasking
    adapters only from ``tasking_factories``."""
    return ProviderWiring(
        catalog=catalog,
        tenant_defaults=tenant_defaults or {},
        factories={name: _always(p) for name, p in providers.items()},
        tasking_factories=dict(tasking_factories or {}),
    )


def _always(provider: Provider) -> Callable[[ProviderContext], Provider]:
    return lambda context: provider
