"""Provider adapters per tenant: each tenant orders and downloads with its own contract.

A tenant's contract with a provider is its configured provider settings
(``BRIDGE_TENANTS__<NAME>__PROVIDERS__<PROVIDER>__...``). In sandbox mode every tenant
also gets the simulators' demo contracts unless its configuration says otherwise. One
adapter instance per (tenant, provider) keeps every cache — tokens, signed URLs — within
the tenant whose credentials fetched it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from bridge.auth.keys import TenantRef
from bridge.catalog import Catalog
from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider
from bridge.errors import Forbidden
from bridge.providers.base import ProviderContext
from bridge.settings import ProviderSettings, Settings

Factory = Callable[[ProviderContext], Provider]
TaskingFactory = Callable[[ProviderContext], TaskingProvider]


class TenantProviders:
    """Builds and caches adapters per (tenant, provider)."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        factories: Mapping[str, Factory],
        defaults: Mapping[str, ProviderSettings] | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        tasking_factories: Mapping[str, TaskingFactory] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.factories = dict(factories)
        self.defaults = dict(defaults or {})
        self.transports = dict(transports or {})
        self._instances: dict[tuple[str, str], Provider] = {}
        self.tasking_factories = dict(tasking_factories or {})
        self._tasking: dict[tuple[str, str], TaskingProvider] = {}

    def contract(self, tenant: str, provider: str) -> ProviderSettings | None:
        """The tenant's settings for ``provider``; None when it has no contract."""
        configured = self.settings.tenants.get(tenant)
        base = self.defaults.get(provider)
        if configured is not None and provider in configured.providers:
            own = configured.providers[provider]
            merged = base.model_copy(update=own.model_dump(exclude_unset=True)) if base else own
            return merged if merged.enabled else None
        return base

    def get(self, tenant: TenantRef, provider: str) -> Provider:
        """The tenant's adapter for ``provider``.

        Raises:
            Forbidden: the tenant has no contract with that provider.
        """
        key = (tenant.name, provider)
        if key in self._instances:
            return self._instances[key]
        settings = self.contract(tenant.name, provider)
        if settings is None or provider not in self.factories:
            raise Forbidden(f"tenant {tenant.name!r} has no contract with {provider}")
        context = ProviderContext(
            name=provider,
            settings=settings,
            collections=self.catalog.by_provider.get(provider, {}),
            transport=self.transports.get(provider),
        )
        instance = self.factories[provider](context)
        self._instances[key] = instance
        return instance

    def _context(self, provider: str, settings: ProviderSettings) -> ProviderContext:
        return ProviderContext(
            name=provider,
            settings=settings,
            collections=self.catalog.by_provider.get(provider, {}),
            transport=self.transports.get(provider),
        )

    def tasking(self, tenant: TenantRef, provider: str) -> TaskingProvider:
        """The tenant's tasking adapter for ``provider``, from the same contract as its
        archive adapter.

        Raises:
            Forbidden: the tenant has no contract with that provider, or it cannot task.
        """
        key = (tenant.name, provider)
        if key in self._tasking:
            return self._tasking[key]
        settings = self.contract(tenant.name, provider)
        if settings is None or provider not in self.tasking_factories:
            raise Forbidden(f"tenant {tenant.name!r} has no tasking contract with {provider}")
        instance = self.tasking_factories[provider](self._context(provider, settings))
        self._tasking[key] = instance
        return instance

    def operator_tasking(self, provider: str) -> TaskingProvider:
        """``provider``'s tasking adapter with the operator's settings (listing products)."""
        key = ("", provider)  # tenant names are never empty
        if key not in self._tasking:
            settings = self.defaults.get(provider) or self.settings.provider(provider)
            factory = self.tasking_factories[provider]
            self._tasking[key] = factory(self._context(provider, settings))
        return self._tasking[key]

    async def aclose(self) -> None:
        """Close every adapter built."""
        for instance in self._instances.values():
            await instance.aclose()
        self._instances.clear()
        for tasking in self._tasking.values():
            await tasking.aclose()
        self._tasking.clear()
