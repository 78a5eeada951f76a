"""ICEYE task rules: the createTask fields, their validation (ICEYE docs "create task")
and task prices. Shared by task creation, feasibility and price queries
(:mod:`bridge.simulators.iceye.tasking_api`); sources in ``SOURCES.md`` "Tasking"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.simulators.iceye.orders import CURRENCY, EULAS

# API imagingMode → the archive's acquisition mode (ICEYE docs "create task" table; the
# fine/precise/look variants are not simulated).
IMAGING_MODES: dict[str, str] = {
    "STRIPMAP": "stripmap",
    "SPOTLIGHT": "spotlight",
    "SPOTLIGHT_EXTENDED_AREA": "spotlight_extended_area",
    "SCAN": "scan",
    "SPOTLIGHT_EXTENDED_DWELL": "dwell",
}
PRIORITIES = ("COMMERCIAL", "BACKGROUND")
EXCLUSIVITIES = ("PUBLIC", "PRIVATE")
SLAS = ("SLA_2H", "SLA_8H", "SLA_12H", "SLA_24H")
LOOK_SIDES = ("LEFT", "RIGHT", "ANY")
PASS_DIRECTIONS = ("ASCENDING", "DESCENDING", "ANY")
SLA_PRODUCTS = ("GRD", "SLC")
"""Products delivered at FULFILLED (the demo contract's SLA products, assumed)."""
PRODUCT_TYPES = ("GRD", "SLC", "SICD", "SIDD", "CSI", "VID")
"""Types a task may ask for (seed 001 product-type enum, COG and QLK variants aside)."""
MIN_WINDOW_S = 24 * 3600.0
MAX_AHEAD_S = 14 * 86400.0
CANCELLABLE = frozenset({"RECEIVED", "ACTIVE"})
# EUR cents per task by imaging mode, and factors (assumed: ICEYE publishes no list
# price; the seed documents only the {amount, currency} shape in minor units).
TASK_PRICE = {
    "STRIPMAP": 300_000,
    "SPOTLIGHT": 450_000,
    "SPOTLIGHT_EXTENDED_AREA": 550_000,
    "SCAN": 350_000,
    "SPOTLIGHT_EXTENDED_DWELL": 700_000,
}
PRIORITY_FACTOR = {"COMMERCIAL": 1.0, "BACKGROUND": 0.7}
EXCLUSIVITY_FACTOR = {"PUBLIC": 1.0, "PRIVATE": 1.25}
EULA_FACTOR = {"STANDARD": 1.0, "GOVERNMENT": 1.0, "MULTI": 1.5}
SLA_FACTOR = {"SLA_2H": 1.5, "SLA_8H": 1.2, "SLA_12H": 1.1, "SLA_24H": 1.0}


class Invalid(Exception):
    """A task body ICEYE refuses: ``field`` named in the message."""

    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def _choice(body: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


def _time(value: Any, name: str) -> float:
    if not isinstance(value, str):
        raise Invalid(f"{name} is required and must be an RFC 3339 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{name} is not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise Invalid(f"{name} needs a time zone offset")
    return parsed.timestamp()


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Invalid(f"{name} must be a number between {low:g} and {high:g}")
    return float(value)


def _window(window: Any, now: float, check: bool) -> tuple[float, float]:
    if not isinstance(window, Mapping):
        raise Invalid("acquisitionWindow is required: {start, end}")
    start = _time(window.get("start"), "acquisitionWindow.start")
    end = _time(window.get("end"), "acquisitionWindow.end")
    if check:
        if start <= now:
            raise Invalid("acquisitionWindow.start cannot be immediate or in the past")
        if end - start < MIN_WINDOW_S:
            raise Invalid("acquisitionWindow must be at least 24h wide (end - start >= 24h)")
        if end > now + MAX_AHEAD_S:
            raise Invalid("acquisitionWindow.end cannot be more than 14 days from now")
    return start, end


def _incidence(incidence: Any) -> tuple[float, float] | None:
    if incidence is None:
        return None
    if not isinstance(incidence, Mapping):
        raise Invalid("incidenceAngle must be an object {min, max}")
    bounds = (
        _number(incidence.get("min", 10), "incidenceAngle.min", 0, 90),
        _number(incidence.get("max", 45), "incidenceAngle.max", 0, 90),
    )
    if bounds[0] > bounds[1]:
        raise Invalid("incidenceAngle.min must not exceed incidenceAngle.max")
    return bounds


@dataclass(frozen=True)
class TaskSpec:
    """A validated task body (createTask, feasibility and price share it)."""

    contract_id: str
    lat: float
    lon: float
    start: float
    end: float
    imaging_mode: str
    priority: str
    exclusivity: str
    sla: str
    eula: str
    reference: str | None
    product_types: tuple[str, ...]
    incidence: tuple[float, float] | None
    look_side: str
    pass_direction: str


def parse_task(body: Mapping[str, Any], now: float, check_window: bool = True) -> TaskSpec:
    """Validate a createTask body (ICEYE docs "create task"); raises :class:`Invalid`."""
    contract = body.get("contractID")
    if not isinstance(contract, str) or not contract:
        raise Invalid("contractID is required and must be a string")
    poi = body.get("pointOfInterest")
    if not isinstance(poi, Mapping):
        raise Invalid("pointOfInterest is required: {lat, lon}")
    lat = _number(poi.get("lat"), "pointOfInterest.lat", -90, 90)
    lon = _number(poi.get("lon"), "pointOfInterest.lon", -180, 180)
    start, end = _window(body.get("acquisitionWindow"), now, check_window)
    mode = body.get("imagingMode")
    if mode not in IMAGING_MODES:
        raise Invalid(f"imagingMode must be one of {', '.join(IMAGING_MODES)}")
    types = body.get("productTypes", list(SLA_PRODUCTS))
    if not isinstance(types, list) or not types or any(t not in PRODUCT_TYPES for t in types):
        raise Invalid(f"productTypes must be a non-empty list of {', '.join(PRODUCT_TYPES)}")
    bounds = _incidence(body.get("incidenceAngle"))
    reference = body.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise Invalid("reference must be a string")
    return TaskSpec(
        contract_id=contract,
        lat=lat,
        lon=lon,
        start=start,
        end=end,
        imaging_mode=str(mode),
        priority=_choice(body, "priority", PRIORITIES, "COMMERCIAL"),
        exclusivity=_choice(body, "exclusivity", EXCLUSIVITIES, "PUBLIC"),
        sla=_choice(body, "sla", SLAS, "SLA_24H"),
        eula=_choice(body, "eula", EULAS, "STANDARD"),
        reference=reference,
        product_types=tuple(dict.fromkeys(types)),
        incidence=bounds,
        look_side=_choice(body, "lookSide", LOOK_SIDES, "ANY"),
        pass_direction=_choice(body, "passDirection", PASS_DIRECTIONS, "ANY"),
    )


def task_price(spec: TaskSpec) -> int:
    """The price of a task in EUR cents (assumed figures, see :data:`TASK_PRICE`)."""
    factor = (
        PRIORITY_FACTOR[spec.priority]
        * EXCLUSIVITY_FACTOR[spec.exclusivity]
        * EULA_FACTOR[spec.eula]
        * SLA_FACTOR[spec.sla]
    )
    return round(TASK_PRICE[spec.imaging_mode] * factor)


def price_body(spec: TaskSpec) -> dict[str, Any]:
    """``{amount, currency}`` (seed 001: the Price object, minor units)."""
    return {"amount": task_price(spec), "currency": CURRENCY}
