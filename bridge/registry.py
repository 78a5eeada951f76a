"""Finding provider adapters and simulators by convention, not by import side effects.

A provider named ``x`` is the package ``bridge.providers.x`` exposing
``create_provider(context)`` (and ``create_tasking(context)`` if it can task); its
simulator is ``bridge.simulators.x`` exposing ``create_app(config)`` and
``sandbox_settings(base_url)``. Adding a provider means adding
those two subpackages and ``collections/x/``, nothing else.

Simulators are imported only when asked for (sandbox wiring, tests): a production bridge
that imports this module for its adapters loads no simulator code.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import bridge.providers
from bridge.core.contract import Provider
from bridge.core.tasking_contract import TaskingProvider
from bridge.providers.base import ProviderContext

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from bridge.simulators.common.app import SimulatorConfig

_NOT_PROVIDERS = {"common", "base"}


def _subpackages(package: ModuleType) -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if m.ispkg and m.name not in _NOT_PROVIDERS
    )


def provider_names() -> list[str]:
    """Names of every provider adapter subpackage."""
    return _subpackages(bridge.providers)


def provider_factory(name: str) -> Callable[[ProviderContext], Provider]:
    """The ``create_provider`` function of provider ``name``."""
    module = importlib.import_module(f"bridge.providers.{name}")
    return cast(Callable[[ProviderContext], Provider], module.create_provider)


def tasking_factory(name: str) -> Callable[[ProviderContext], TaskingProvider] | None:
    """The ``create_tasking`` function of provider ``name``; None when it cannot task."""
    module = importlib.import_module(f"bridge.providers.{name}")
    factory = getattr(module, "create_tasking", None)
    return cast(Callable[[ProviderContext], TaskingProvider], factory) if factory else None


def simulator_names() -> list[str]:
    """Names of every simulator subpackage."""
    return _subpackages(importlib.import_module("bridge.simulators"))


def create_simulator(name: str, config: SimulatorConfig) -> Starlette:
    """Build the simulator app of provider ``name``."""
    module = importlib.import_module(f"bridge.simulators.{name}")
    return cast("Starlette", module.create_app(config))


def simulator_sandbox_settings(name: str, base_url: str) -> dict[str, Any]:
    """The provider settings (credentials, auth URL, ...) a native client needs against
    the simulator of ``name`` served at ``base_url``."""
    module = importlib.import_module(f"bridge.simulators.{name}")
    return cast(dict[str, Any], module.sandbox_settings(base_url))
