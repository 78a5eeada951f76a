"""Capella's validation rules for a tasking request body (``POST /task``).

Enumerations come from the capella-console-client SDK (``enumerations.py``); what the
SDK documents in ``create_tasking_request`` (window defaults, off-nadir order, point or
polygon) is enforced. Anything else in ``properties`` is kept as sent (tolerant, as the
SDK sends ``customAttribute1/2`` and may send new fields).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape

from bridge.simulators.capella.orders import iso_ms

COLLECTION_TIERS = ("urgent", "priority", "standard", "flexible")
COLLECTION_TYPES = (
    "spotlight",
    "spotlight_ultra",
    "spotlight_wide",
    "stripmap_20",
    "stripmap_50",
    "stripmap_100",
    "parallel_stripmap_20",
    "parallel_stripmap_50",
    "parallel_stripmap_100",
)
ARCHIVE_HOLDBACKS = ("none", "1_year", "30_day", "permanent")
CONSTRAINT_ENUMS: dict[str, tuple[str, ...]] = {
    "lookDirection": ("left", "right", "either"),
    "ascDsc": ("ascending", "descending", "either"),
    "polarization": ("HH", "VV"),
    "squint": ("enabled", "disabled", "forward", "backward"),
}
ORBITAL_PLANES = (45, 53, 97)
OFF_NADIR_RANGE = (0.0, 60.0)
DEFAULT_WINDOW_S = 7 * 86400.0


class TaskError(ValueError):
    """A tasking request Capella refuses: HTTP status, message and Capella error code."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _invalid(message: str) -> TaskError:
    return TaskError(400, message, "VALIDATION_ERROR")


def _instant(value: Any, name: str) -> float:
    if not isinstance(value, str):
        raise _invalid(f"properties.{name} must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid(f"properties.{name} is not an ISO 8601 date-time: {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _choice(props: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = props.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise _invalid(f"properties.{name} must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def _geometry(body: dict[str, Any]) -> dict[str, Any]:
    geometry = body.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Point", "Polygon"):
        raise _invalid("geometry must be a GeoJSON Point or Polygon")
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise _invalid(f"geometry is not valid GeoJSON: {exc}") from exc
    if geom.is_empty or not geom.is_valid:
        raise _invalid("geometry is empty or self-intersecting")
    west, south, east, north = geom.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise _invalid("geometry coordinates are outside longitude/latitude bounds")
    return geometry


def _constraints(value: Any) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _invalid("properties.collectConstraints must be an object")
    out = dict(value)
    for name, allowed in CONSTRAINT_ENUMS.items():
        if out.get(name) is not None and out[name] not in allowed:
            raise _invalid(
                f"properties.collectConstraints.{name} must be one of {', '.join(allowed)}"
            )
    out.setdefault("lookDirection", "either")
    out.setdefault("ascDsc", "either")
    low, high = out.get("offNadirMin"), out.get("offNadirMax")
    for name, angle in (("offNadirMin", low), ("offNadirMax", high)):
        if angle is None:
            continue
        if isinstance(angle, bool) or not isinstance(angle, int | float):
            raise _invalid(f"properties.collectConstraints.{name} must be a number")
        if not OFF_NADIR_RANGE[0] <= angle <= OFF_NADIR_RANGE[1]:
            raise _invalid(
                f"properties.collectConstraints.{name} must be between "
                f"{OFF_NADIR_RANGE[0]:g} and {OFF_NADIR_RANGE[1]:g} degrees"
            )
    if low is not None and high is not None and not low < high:
        raise _invalid("properties.collectConstraints.offNadirMax must be greater than offNadirMin")
    planes = out.get("orbitalPlanes")
    if planes is not None and (
        not isinstance(planes, list) or any(p not in ORBITAL_PLANES for p in planes)
    ):
        raise _invalid("properties.collectConstraints.orbitalPlanes must be a list of 45, 53, 97")
    return out


def validate_task(body: Any, now: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The geometry and normalised properties of a valid body; raises :class:`TaskError`."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise _invalid("body must be a GeoJSON Feature")
    geometry = _geometry(body)
    props = body.get("properties")
    if not isinstance(props, dict):
        raise _invalid("properties must be an object")
    opens = _instant(props["windowOpen"], "windowOpen") if props.get("windowOpen") else now
    closes = (
        _instant(props["windowClose"], "windowClose")
        if props.get("windowClose")
        else opens + DEFAULT_WINDOW_S
    )
    if closes <= opens:
        raise _invalid("properties.windowClose must be after properties.windowOpen")
    if closes <= now:
        raise _invalid("properties.windowClose must be in the future")
    for name in ("taskingrequestName", "taskingrequestDescription"):
        if props.get(name) is not None and not isinstance(props[name], str):
            raise _invalid(f"properties.{name} must be a string")
    pre = props.get("pre_approval", props.get("preApproval", False))
    if not isinstance(pre, bool):
        raise _invalid("properties.pre_approval must be a boolean")
    processing = props.get("processingConfig")
    if processing is not None and not isinstance(processing, dict):
        raise _invalid("properties.processingConfig must be an object")
    kept = {k: v for k, v in props.items() if k not in ("pre_approval", "preApproval")}
    normalised = {
        **kept,
        "taskingrequestName": props.get("taskingrequestName") or "",
        "taskingrequestDescription": props.get("taskingrequestDescription") or "",
        "windowOpen": iso_ms(opens),
        "windowClose": iso_ms(closes),
        "collectionTier": _choice(props, "collectionTier", COLLECTION_TIERS, "standard"),
        "collectionType": _choice(props, "collectionType", COLLECTION_TYPES, "spotlight"),
        "archiveHoldback": _choice(props, "archiveHoldback", ARCHIVE_HOLDBACKS, "none"),
        "collectConstraints": _constraints(props.get("collectConstraints")),
        "preApproval": pre,
        "_open": opens,
        "_close": closes,
    }
    return geometry, normalised
