"""The Arlula simulator's typed settings: ``config.extra`` keys ``arlula_<field>``.

Read once per app with :func:`bridge.simulators.common.app.simulator_settings`; a
misspelt ``arlula_*`` key fails loudly. Archive-order knobs, tasking knobs, credentials
and test hooks all live here; the clock is ``SimulatorConfig.clock`` (the one clock).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridge.simulators.arlula.auth import DEMO_KEY, DEMO_SECRET

MONTH_S = 30 * 86400.0


class ArlulaSimSettings(BaseModel):
    """Every knob of the Arlula simulator (all optional; defaults suit the sandbox)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    api_key: str = DEMO_KEY
    api_secret: str = DEMO_SECRET
    storage_secret: str | None = None
    """Signs storage URLs; ``arlula-storage-<seed>`` when unset."""

    # Archive orders (:mod:`.orders`).
    order_step_s: float = Field(2.0, ge=0)
    delivery_lifetime_s: float = Field(MONTH_S, gt=0)
    url_ttl_s: float = Field(3600.0, gt=0)
    balance_cents: int = 100_000_000  # US$1,000,000 of prepaid credit
    approval_above_cents: int | None = None
    approval_s: float | None = Field(None, ge=0)
    """How long a team admin takes to decide; the order step when unset."""
    reject_approvals: bool = False
    failing_scenes: frozenset[str] = frozenset()
    failing_suppliers: frozenset[str] = frozenset()
    teams: tuple[str, ...] = ("default",)
    payment_methods: tuple[str, ...] = ("default",)
    webhook_client: Any = None
    """An ``httpx.AsyncClient`` webhooks are sent with (tests: a mock transport)."""

    # Tasking campaigns (:mod:`.tasking`).
    tasking_step_s: float = Field(4.0, ge=0)
    """Seconds between a campaign's statuses: a campaign completes after three steps."""
    tasking_reject_rate: float = Field(0.0, ge=0, le=1)
    """Share of campaigns the supplier rejects after screening (drawn per campaign)."""
    tasking_fail_rate: float = Field(0.0, ge=0, le=1)
    """Share of accepted campaigns whose capture fails."""
    tasking_max_area_km2: float = Field(2500.0, gt=0)
    """An AOI larger than this is ``too-large`` for one campaign."""
