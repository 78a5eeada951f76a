"""How the app factory mounts tasking: one call, :func:`add_tasking`."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from bridge import registry
from bridge.auth.request import Authenticator
from bridge.orders.ledger import OrderLedger
from bridge.orders.tenants import TaskingFactory, TenantProviders
from bridge.settings import Settings
from bridge.tasking.ledger import TaskingLedger
from bridge.tasking.routes import TaskingAPI, add_tasking_routes
from bridge.tasking.service import TaskingService, TaskingTiming


def default_tasking_factories(providers: Mapping[str, object]) -> dict[str, TaskingFactory]:
    """``create_tasking`` of every configured provider that has one."""
    found: dict[str, TaskingFactory] = {}
    names = set(registry.provider_names())
    for name in providers:
        factory = registry.tasking_factory(name) if name in names else None
        if factory is not None:
            found[name] = factory
    return found


def add_tasking(
    app: FastAPI,
    settings: Settings,
    auth: Authenticator,
    archive: OrderLedger,
    tenants: TenantProviders,
) -> TaskingService:
    """Mount ``/tasking/`` on ``app``; returns the service (its poller runs with the
    archive orders' poller, under the same lease)."""
    timing = TaskingTiming(
        min_check_s=settings.order_check_min_s,
        reconcile_after_s=settings.order_reconcile_after_s,
    )
    service = TaskingService(
        TaskingLedger(archive.db, archive.clock), tenants, archive, settings, timing
    )
    add_tasking_routes(app, TaskingAPI(settings, auth, service))
    return service
