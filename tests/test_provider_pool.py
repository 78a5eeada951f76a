"""The provider pool: operator and tenant adapters from one recipe, tasking adapters per
tenant, all closed together."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bridge.auth.keys import TenantRef
from bridge.catalog import Catalog
from bridge.errors import Forbidden, NotFound
from bridge.provider_pool import ProviderPool, ProviderWiring
from bridge.providers.base import ProviderContext
from bridge.settings import ProviderSettings, Settings, TenantSettings
from tests.support.fake_provider import FakeProvider, make_items

ACME = TenantRef(1, "acme")


class Built(FakeProvider):
    """A fake adapter that remembers how it was built and whether it was closed."""

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(
            context.name, make_items(context.name, list(context.collections), 3, seed=1)
        )
        self.context = context
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


def _catalog(*names: str) -> Catalog:
    return Catalog({n: {f"{n}-a": {"id": f"{n}-a"}} for n in names})


def _pool(settings: Settings, **wiring: Any) -> ProviderPool:
    fields: dict[str, Any] = {
        "catalog": _catalog("alpha", "beta"),
        "factories": {"alpha": Built, "beta": Built, "gamma": Built},
        **wiring,
    }
    return ProviderPool(settings, ProviderWiring(**fields))


def test_operators_are_the_enabled_providers_with_collections() -> None:
    settings = Settings(providers={"beta": ProviderSettings(enabled=False)})
    pool = _pool(settings)
    assert list(pool.operators) == ["alpha"]  # beta is off, gamma has no collections
    assert pool.operator("alpha") is pool.operators["alpha"]
    with pytest.raises(NotFound, match="unknown provider: beta"):
        pool.operator("beta")


def test_operator_and_tenant_adapters_share_the_recipe_not_the_settings() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    operator_ps = ProviderSettings(api_key="operator-key")
    tenant_ps = ProviderSettings(api_key="demo-key")
    settings = Settings(
        tenants={"acme": TenantSettings(providers={"alpha": ProviderSettings(api_key="own")})}
    )
    pool = _pool(
        settings,
        operator_settings={"alpha": operator_ps},
        tenant_defaults={"alpha": tenant_ps},
        transports={"alpha": transport},
    )
    operator = pool.operator("alpha")
    mine = pool.for_tenant(ACME, "alpha")
    other = pool.for_tenant(TenantRef(2, "other"), "alpha")
    assert isinstance(operator, Built) and isinstance(mine, Built) and isinstance(other, Built)
    assert len({id(operator), id(mine), id(other)}) == 3
    assert pool.for_tenant(ACME, "alpha") is mine  # built once per (tenant, provider)
    keys = [a.context.settings.api_key for a in (operator, mine, other)]
    assert [k.get_secret_value() if k else None for k in keys] == [
        "operator-key",
        "own",
        "demo-key",
    ]
    assert {a.context.transport for a in (operator, mine, other)} == {transport}
    assert set(mine.context.collections) == {"alpha-a"}


def test_a_tenant_without_a_contract_is_forbidden() -> None:
    pool = _pool(Settings())  # production: tenants have no default contract
    with pytest.raises(Forbidden, match="no contract with alpha"):
        pool.for_tenant(ACME, "alpha")


class Tasking:
    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_tasking_adapters_need_a_factory_and_a_contract_and_are_closed() -> None:
    pool = _pool(
        Settings(),
        tenant_defaults={"alpha": ProviderSettings()},
        tasking_factories={"alpha": Tasking, "beta": None},
    )
    tasking = pool.tasking(ACME, "alpha")
    assert pool.tasking(ACME, "alpha") is tasking
    with pytest.raises(NotFound, match="beta offers no tasking"):
        pool.tasking(ACME, "beta")
    no_contract = _pool(Settings(), tasking_factories={"alpha": Tasking})
    with pytest.raises(Forbidden):
        no_contract.tasking(ACME, "alpha")
    built = [pool.operator("alpha"), pool.for_tenant(ACME, "alpha")]
    await pool.aclose()
    assert all(isinstance(a, Built) and a.closed for a in built)
    assert isinstance(tasking, Tasking) and tasking.closed
