"""The Satellogic simulator's typed settings: ``config.extra`` keys ``satellogic_<field>``.

Read once per app with :func:`bridge.simulators.common.app.simulator_settings`; an unknown
``satellogic_`` key or a bad value fails when the app is built. The defaults are the
sandbox's: orders and tasks move through their states within seconds (a task completes
``2 * task_step_s + 2 * order_step_s`` = 12 s after it was created).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DAY_S = 86400.0


class SatellogicSettings(BaseModel):
    """Every knob of the Satellogic simulator (archive, orders, downloads, tasking)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_lifetime_s: int = Field(86400, gt=0)
    """OAuth access-token lifetime (seed 004: ``expires_in`` 86400)."""
    order_step_s: float = Field(2.0, ge=0)
    """Seconds between the states of an Aleph V2 order (see :mod:`.orders`)."""
    delivery_ttl_s: float = Field(30 * DAY_S, gt=0)
    """How long a deliverable stays downloadable once available."""
    fail_rate: float = Field(0.0, ge=0, le=1)
    """Share of archive orders whose processing fails."""
    token_ttl_s: float = Field(3600.0, gt=0)
    """Lifetime of Telluric's tokenized download URLs."""
    raster_px: int = Field(512, ge=16, le=4096)
    """Longest side of a delivered raster, in pixels."""
    next_link: Literal["pgstac", "full-body", "get"] = "pgstac"
    """Shape of a POST search's ``next`` link (see :mod:`.paging`)."""
    task_step_s: float = Field(4.0, ge=0)
    """Seconds between the states of a tasking task (see :mod:`.tasking`)."""
    task_reject_rate: float = Field(0.0, ge=0, le=1)
    """Share of tasks the planner rejects (no feasible capture in the window)."""
    task_fail_rate: float = Field(0.0, ge=0, le=1)
    """Share of accepted tasks whose window passes without a usable capture."""
