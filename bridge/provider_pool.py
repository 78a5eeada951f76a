"""One pool of provider adapters: the operator's (search, free previews, webhooks) and each
tenant's (quotes, orders, downloads, tasking), built from one recipe and closed together.

``ProviderWiring`` says where adapters come from and how they reach their providers. A
production bridge uses the defaults: the registry's factories, ``settings.providers``,
the network. Sandbox mode and tests build a wiring in :mod:`bridge.sandbox` (simulator
endpoints and transports, the demo tenant's key, what ``GET /sandbox`` shows); nothing
here knows simulators exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bridge import registry
from bridge.auth.keys import TenantRef
from bridge.catalog import Catalog, load_catalog
from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider
from bridge.errors import Forbidden, NotFound
from bridge.orders.tenants import Factory, TenantProviders, build_adapter
from bridge.providers.base import ProviderContext
from bridge.settings import ProviderSettings, Settings

TaskingFactory = Callable[[ProviderContext], TaskingProvider]


@dataclass(frozen=True)
class SandboxFront:
    """What a sandbox bridge offers its users besides the API: ``GET /sandbox`` and the
    demo tenant's key (registered at start-up)."""

    info: dict[str, Any]
    demo_key: str | None = None


@dataclass(frozen=True)
class ProviderWiring:
    """Where the pool's adapters come from; every field defaults to production.

    Attributes:
        catalog: collection documents; ``settings.collections_dir`` when None.
        operator_settings: the operator's endpoint and credentials per provider, instead
            of ``settings.providers``.
        tenant_defaults: contracts every tenant has unless its configuration says
            otherwise (sandbox: the simulators' demo contracts; production: none).
        transports: HTTP transports per provider (in-process simulators, test doubles).
        factories: how to build an adapter per provider; the registry's when None.
        tasking_factories: how to build a tasking adapter; the registry's when None.
        sandbox: the sandbox front; None outside sandbox mode.
    """

    catalog: Catalog | None = None
    operator_settings: Mapping[str, ProviderSettings] = field(default_factory=dict)
    tenant_defaults: Mapping[str, ProviderSettings] = field(default_factory=dict)
    transports: Mapping[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    factories: Mapping[str, Factory] | None = None
    tasking_factories: Mapping[str, TaskingFactory | None] | None = None
    sandbox: SandboxFront | None = None


def _factories(wiring: ProviderWiring) -> dict[str, Factory]:
    if wiring.factories is not None:
        return dict(wiring.factories)
    return {name: registry.provider_factory(name) for name in registry.provider_names()}


class ProviderPool:
    """Every adapter the app uses, by provider name (operator) or (tenant, provider)."""

    def __init__(self, settings: Settings, wiring: ProviderWiring | None = None) -> None:
        wiring = wiring or ProviderWiring()
        self.settings = settings
        self.wiring = wiring
        self.catalog = wiring.catalog or load_catalog(settings.collections_dir)
        factories = _factories(wiring)
        self.operators: dict[str, Provider] = {}
        for name, factory in factories.items():
            ps = wiring.operator_settings.get(name) or settings.provider(name)
            # A provider without collections or switched off serves nothing.
            if self.catalog.by_provider.get(name) and ps.enabled:
                transport = wiring.transports.get(name)
                self.operators[name] = build_adapter(factory, name, ps, self.catalog, transport)
        self.tenants = TenantProviders(
            settings,
            self.catalog,
            {n: f for n, f in factories.items() if n in self.operators},
            defaults=wiring.tenant_defaults,
            transports=wiring.transports,
        )
        self._tasking: dict[tuple[str, str], TaskingProvider] = {}

    def operator(self, name: str) -> Provider:
        """The operator's own adapter for ``name``.

        Raises:
            NotFound: no such provider serves in this bridge.
        """
        provider = self.operators.get(name)
        if provider is None:
            raise NotFound(f"unknown provider: {name}")
        return provider

    def for_tenant(self, tenant: TenantRef, name: str) -> Provider:
        """The tenant's adapter for ``name``, built with the tenant's own contract.

        Raises:
            Forbidden: the tenant has no contract with that provider.
        """
        return self.tenants.get(tenant, name)

    def _tasking_factory(self, name: str) -> TaskingFactory | None:
        if self.wiring.tasking_factories is not None:
            return self.wiring.tasking_factories.get(name)
        known = name in self.operators and name in registry.provider_names()
        return registry.tasking_factory(name) if known else None

    def tasking(self, tenant: TenantRef, name: str) -> TaskingProvider:
        """The tenant's tasking adapter for ``name``.

        Raises:
            NotFound: the provider offers no tasking here.
            Forbidden: the tenant has no contract with that provider.
        """
        key = (tenant.name, name)
        if key in self._tasking:
            return self._tasking[key]
        factory = self._tasking_factory(name) if name in self.operators else None
        if factory is None:
            raise NotFound(f"{name} offers no tasking")
        contract = self.tenants.contract(tenant.name, name)
        if contract is None:
            raise Forbidden(f"tenant {tenant.name!r} has no contract with {name}")
        instance = build_adapter(
            factory, name, contract, self.catalog, self.wiring.transports.get(name)
        )
        self._tasking[key] = instance
        return instance

    def tasking_names(self) -> list[str]:
        """The providers that offer tasking in this bridge."""
        return sorted(n for n in self.operators if self._tasking_factory(n) is not None)

    def operator_tasking(self, name: str) -> TaskingProvider:
        """``name``'s tasking adapter with the operator's settings (listing products,
        reading webhooks).

        Raises:
            NotFound: the provider offers no tasking here.
        """
        key = ("", name)  # tenant names are never empty
        if key in self._tasking:
            return self._tasking[key]
        factory = self._tasking_factory(name) if name in self.operators else None
        if factory is None:
            raise NotFound(f"{name} offers no tasking")
        ps = self.wiring.operator_settings.get(name) or self.settings.provider(name)
        transport = self.wiring.transports.get(name)
        instance = build_adapter(factory, name, ps, self.catalog, transport)
        self._tasking[key] = instance
        return instance

    async def aclose(self) -> None:
        """Close every adapter built: the operator's, then the tenants'."""
        for provider in self.operators.values():
            await provider.aclose()
        await self.tenants.aclose()
        for tasking in self._tasking.values():
            await tasking.aclose()
        self._tasking.clear()
