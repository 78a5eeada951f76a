"""Provider adapters per tenant: each tenant orders and downloads with its own contract.

A tenant's contract with a provider is its configured provider settings
(``BRIDGE_TENANTS__<NAME>__PROVIDERS__<PROVIDER>__...``). In sandbox mode every tenant
also gets the simulators' demo contracts unless its configuration says otherwise. One
adapter instance per (tenant, provider) keeps every cache — tokens, signed URLs — within
the tenant whose credentials fetched it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import httpx

from bridge.auth.keys import TenantRef
from bridge.catalog import Catalog
from bridge.core.contract import Provider
from bridge.errors import Forbidden
from bridge.providers.base import ProviderContext
from bridge.settings import ProviderSettings, Settings

Factory = Callable[[ProviderContext], Provider]
Adapter = TypeVar("Adapter")


def build_adapter(
    factory: Callable[[ProviderContext], Adapter],
    name: str,
    settings: ProviderSettings,
    catalog: Catalog,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Adapter:
    """The one recipe for an adapter: its settings, its collections, its transport.

    The operator's adapters (:class:`bridge.provider_pool.ProviderPool`), every tenant's
    and the tasking adapters are built here: they differ only in the settings given.
    """
    context = ProviderContext(
        name=name,
        settings=settings,
        collections=catalog.by_provider.get(name, {}),
        transport=transport,
    )
    return factory(context)


class TenantProviders:
    """Builds and caches adapters per (tenant, provider)."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        factories: Mapping[str, Factory],
        defaults: Mapping[str, ProviderSettings] | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.factories = dict(factories)
        self.defaults = dict(defaults or {})
        self.transports = dict(transports or {})
        self._instances: dict[tuple[str, str], Provider] = {}

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
        instance = build_adapter(
            self.factories[provider],
            provider,
            settings,
            self.catalog,
            self.transports.get(provider),
        )
        self._instances[key] = instance
        return instance

    async def aclose(self) -> None:
        """Close every adapter built."""
        for instance in self._instances.values():
            await instance.aclose()
        self._instances.clear()
