"""Arlula simulator: the imagery marketplace's native API over a synthetic archive.

Speaks both generations the adapter supports: 2023-01 (``POST /api/archive/search``,
``/api/archive/order``, orders → datasets → resources; the current ``arlulacore`` 4.x SDK)
and 2020-12 (``GET /api/search``, ``/api/order/new|get|list|resource/get``, seed 002),
with HTTP Basic ``key:secret`` on every request and ``GET /api/test`` to check
credentials. Every behaviour's source is in ``SOURCES.md`` beside this file. Orders move
through their statuses with time (:mod:`.orders`), deliver files through signed storage
URLs (:mod:`.delivery`) and call webhooks (:mod:`.webhooks`).

``config.extra`` keys (all optional): ``api_key``/``api_secret``; ``arlula_order_step_s``,
``arlula_delivery_lifetime_s``, ``arlula_url_ttl_s``, ``arlula_balance_cents``,
``arlula_approval_above_cents``, ``arlula_approval_s``, ``arlula_reject_approvals``,
``arlula_failing_scenes``, ``arlula_failing_suppliers`` (searches leave them out with an
error beside the results), ``arlula_teams``, ``arlula_payment_methods`` (see
:class:`.ledger.OrderSettings`); ``arlula_clock`` (unix seconds, for tests),
``arlula_storage_secret``, ``arlula_webhook_client`` (an ``httpx.AsyncClient``).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette

from bridge.simulators.arlula.app import DEMO_KEY, DEMO_SECRET, routes
from bridge.simulators.arlula.archive import build_archive
from bridge.simulators.arlula.downloads import make_resolver
from bridge.simulators.arlula.orders import Ledger, OrderSettings
from bridge.simulators.common.app import SimulatorConfig, simulator_app
from bridge.simulators.common.storage import ObjectStore

__all__ = ["DEMO_KEY", "DEMO_SECRET", "create_app", "sandbox_settings"]


def create_app(config: SimulatorConfig) -> Starlette:
    """The simulator app for ``config`` (archive built once per ``(seed, scenes)``)."""
    extra = config.extra
    credentials = (
        str(extra.get("api_key", DEMO_KEY)),
        str(extra.get("api_secret", DEMO_SECRET)),
    )
    archive = build_archive(config.seed, config.scenes)
    clock = extra.get("arlula_clock", time.time)
    ledger = Ledger(OrderSettings.from_extra(extra), clock)
    store = ObjectStore(
        str(extra.get("arlula_storage_secret", f"arlula-storage-{config.seed}")),
        clock=clock,
        resolver=make_resolver(ledger, archive, config.seed),
    )
    return simulator_app(
        "arlula",
        routes(store),
        config,
        archive=archive,
        scene_index={(s["supplier"], s["sceneID"]): i for i, s in enumerate(archive.scenes)},
        credentials=credentials,
        ledger=ledger,
        store=store,
        webhook_tasks=set(),
        webhook_log=[],
    )


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Provider settings a native client needs against the simulator at ``base_url``."""
    return {"api_key": DEMO_KEY, "api_secret": DEMO_SECRET}
