"""How the app factory mounts tasking: one call, :func:`add_tasking`."""

from __future__ import annotations

from fastapi import FastAPI

from bridge.auth.request import Authenticator
from bridge.orders.ledger import OrderLedger
from bridge.orders.timing import CheckTiming
from bridge.provider_pool import ProviderPool
from bridge.settings import Settings
from bridge.tasking.ledger import TaskingLedger
from bridge.tasking.routes import TaskingAPI, add_tasking_routes
from bridge.tasking.service import TaskingService


def add_tasking(
    app: FastAPI,
    settings: Settings,
    auth: Authenticator,
    archive: OrderLedger,
    pool: ProviderPool,
) -> TaskingService:
    """Mount ``/tasking/`` on ``app``; returns the service (its poller runs with the
    archive orders' poller, under the same lease)."""
    timing = CheckTiming(
        min_check_s=settings.order_check_min_s,
        reconcile_after_s=settings.order_reconcile_after_s,
    )
    service = TaskingService(
        TaskingLedger(archive.db, archive.clock), pool, archive, settings, timing
    )
    add_tasking_routes(app, TaskingAPI(settings, auth, service))
    return service
