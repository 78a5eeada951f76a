"""The ICEYE simulator's typed settings: ``config.extra`` keys ``iceye_<field>``.

Read once per app with :func:`bridge.simulators.common.app.simulator_settings`; an unknown
``iceye_`` key or a bad value fails when the app is built. None of these is native
behaviour: they are the test and sandbox controls listed in ``SOURCES.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.simulators.common.app import SimulatorConfig, simulator_settings


class IceyeSettings(BaseModel):
    """Every knob of the ICEYE simulator (archive, purchases and tasking)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_ttl_s: float = Field(3600.0, gt=0)
    """Lifetime of an access token."""
    order_step_s: float = Field(2.0, ge=0)
    """Seconds a purchase spends in each of ``received`` and ``active``."""
    purchase_outcomes: dict[str, Literal["failed", "canceled"]] = Field(default_factory=dict)
    """Frames whose purchases end this way after the first step."""
    unpriced_contracts: frozenset[str] = frozenset()
    """Contracts without a pricing plan: price queries answer OUT_OF_BOUND_CONTRACT."""
    task_budgets: dict[str, int] = Field(default_factory=dict)
    """Tasking budget per contract (EUR cents): a task whose price would exceed what is
    left is refused with 402 (contracts not named have no limit)."""
    task_step_s: float = Field(5.0, ge=0)
    """Seconds a task spends in each of RECEIVED, ACTIVE and FULFILLED (sandbox: a task
    is DONE 10 s after creation, 15 s with non-SLA products)."""
    task_reject_rate: float = Field(0.0, ge=0, le=1)
    """Share of tasks the optimizer REJECTs after RECEIVED (drawn per task, seeded)."""
    task_fail_rate: float = Field(0.0, ge=0, le=1)
    """Share of tasks that FAIL after ACTIVE (drawn per task, seeded)."""


def iceye_settings(config: SimulatorConfig) -> IceyeSettings:
    """The ICEYE settings of ``config`` (raises ``ValueError`` naming a bad key)."""
    return simulator_settings(IceyeSettings, "iceye", config)
