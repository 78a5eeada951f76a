"""The Capella simulator's typed settings, read from ``SimulatorConfig.extra``.

Every key is ``capella_<field>`` (see :func:`bridge.simulators.common.app.simulator_settings`);
an unknown ``capella_`` key fails loudly. Defaults make the sandbox move in seconds.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CapellaSimulatorSettings(BaseModel):
    """Knobs of the Capella simulator (archive, orders, tasking)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_keys: tuple[str, ...] = ()
    """API keys besides the demo key; each is a user of an organization of its own."""
    order_step_s: float = Field(default=2.0, gt=0)
    """Seconds an archive order spends in each of ``submitted`` and ``pending``."""
    order_ttl_s: float = Field(default=3600.0, gt=0)
    """Seconds after ``orderDate`` until an order's download window closes."""
    budget_usd: float = Field(default=10_000_000.0, ge=0)
    """What each organization may spend on orders and tasks together."""
    url_ttl_s: float = Field(default=3600.0, gt=0)
    """Lifetime of presigned storage URLs."""
    task_step_s: float = Field(default=3.0, gt=0)
    """Seconds a tasking request spends in each status before the next one."""
    task_reject_rate: float = Field(default=0.0, ge=0, le=1)
    """Share of submitted tasking requests the scheduler rejects."""
    task_fail_rate: float = Field(default=0.0, ge=0, le=1)
    """Share of accepted tasking requests whose collect fails (``failed``)."""
    task_seed: int = 0
    """Seed of the dice that decide rejections and failures (repeatable tests)."""
