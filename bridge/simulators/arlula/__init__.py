"""Arlula simulator: the imagery marketplace's native API over a synthetic archive.

Speaks both generations the adapter supports: 2023-01 (``POST /api/archive/search``,
``/api/archive/order``, orders → datasets → resources; the current ``arlulacore`` 4.x SDK)
and 2020-12 (``GET /api/search``, ``/api/order/new|get|list|resource/get``, seed 002),
with HTTP Basic ``key:secret`` on every request and ``GET /api/test`` to check
credentials. Tasking (``/api/tasking/search|order``, campaigns) is in :mod:`.tasking` and
:mod:`.tasking_api`: a completed campaign's capture joins the archive. Every behaviour's
source is in ``SOURCES.md`` beside this file. Orders move through their statuses with
``SimulatorConfig.clock`` (:mod:`.orders`), deliver files through signed storage URLs
(:mod:`.downloads`) and call webhooks (:mod:`.webhooks`).

Settings: ``config.extra`` keys ``arlula_<field>`` of :class:`.settings.ArlulaSimSettings`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from bridge.simulators.arlula.app import DEMO_KEY, DEMO_SECRET, routes
from bridge.simulators.arlula.archive import build_archive
from bridge.simulators.arlula.downloads import make_resolver
from bridge.simulators.arlula.orders import Ledger, OrderSettings
from bridge.simulators.arlula.settings import ArlulaSimSettings
from bridge.simulators.arlula.tasking import TaskBook
from bridge.simulators.common.app import SimulatorConfig, simulator_app, simulator_settings
from bridge.simulators.common.storage import ObjectStore

__all__ = ["DEMO_KEY", "DEMO_SECRET", "create_app", "sandbox_settings"]


def create_app(config: SimulatorConfig) -> Starlette:
    """The simulator app for ``config`` (archive built once per ``(seed, scenes)``; each
    app extends its own view of it with what its campaigns capture)."""
    settings = simulator_settings(ArlulaSimSettings, "arlula", config)
    archive = build_archive(config.seed, config.scenes)
    ledger = Ledger(OrderSettings.from_settings(settings), config.clock)
    state: dict[str, Any] = {}
    store = ObjectStore(
        settings.storage_secret or f"arlula-storage-{config.seed}",
        clock=config.clock,
        resolver=make_resolver(ledger, lambda: state["app"].state.archive, config.seed),
    )
    app = simulator_app(
        "arlula",
        routes(store),
        config,
        settings=settings,
        archive=archive,
        scene_index={(s["supplier"], s["sceneID"]): i for i, s in enumerate(archive.scenes)},
        credentials=(settings.api_key, settings.api_secret),
        ledger=ledger,
        tasking=TaskBook(settings, config.seed),
        store=store,
        webhook_tasks=set(),
        webhook_log=[],
    )
    state["app"] = app
    return app


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Provider settings a native client needs against the simulator at ``base_url``."""
    return {"api_key": DEMO_KEY, "api_secret": DEMO_SECRET}
