"""RFC 3339 instants and intervals as the bridge reads them (naive means UTC)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bridge.errors import BadRequest

_OPEN = {"", ".."}
# RFC 3339 date-time; the offset may be missing (read as UTC: QGIS sends such).
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 date-time; a value without an offset is read as UTC (QGIS sends such).

    Raises:
        BadRequest: when ``text`` is not a date-time.
    """
    value = text.strip()
    if not value:
        raise BadRequest("empty datetime")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise BadRequest(f"invalid datetime {text!r}: expected RFC 3339") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@functools.lru_cache(maxsize=32_768)
def instant_seconds(text: str) -> float:
    """:func:`parse_instant` as unix seconds, memoized on the text.

    One item's datetime is read by the residual filter, its interval and its sort key,
    often in the adapter and again in the merge: each distinct text is parsed once. The
    memo holds a few native pages' worth of texts (they are short strings).

    Raises:
        BadRequest: when ``text`` is not a date-time.
    """
    return parse_instant(text).timestamp()


def to_rfc3339(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 in UTC with a ``Z``."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class Interval:
    """A closed time interval; ``None`` on a side means open."""

    start: datetime | None
    end: datetime | None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True when [start, end] meets this interval."""
        if self.start is not None and end < self.start:
            return False
        return not (self.end is not None and start > self.end)

    def to_stac(self) -> str:
        """The STAC ``datetime`` parameter for this interval."""
        if self.start is not None and self.start == self.end:
            return to_rfc3339(self.start)
        a = to_rfc3339(self.start) if self.start else ".."
        b = to_rfc3339(self.end) if self.end else ".."
        return f"{a}/{b}"


def parse_request_instant(text: str) -> datetime:
    """Parse a date-time a client sent: RFC 3339 only (Python accepts much more)."""
    if not _RFC3339.match(text.strip()):
        raise BadRequest(f"invalid datetime {text!r}: expected RFC 3339, e.g. 2024-05-01T12:00:00Z")
    return parse_instant(text)


def parse_interval(text: str) -> Interval:
    """Parse a STAC ``datetime`` parameter: an instant or ``start/end`` with ``..`` for open.

    Raises:
        BadRequest: unparseable, both ends open, or start after end.
    """
    parts = text.split("/")
    if len(parts) == 1:
        instant = parse_request_instant(parts[0])
        return Interval(instant, instant)
    if len(parts) != 2:
        raise BadRequest(f"invalid datetime interval {text!r}")
    start = None if parts[0].strip() in _OPEN else parse_request_instant(parts[0])
    end = None if parts[1].strip() in _OPEN else parse_request_instant(parts[1])
    if start is None and end is None:
        raise BadRequest(f"invalid datetime interval {text!r}: both ends open")
    if start is not None and end is not None and start > end:
        raise BadRequest(f"invalid datetime interval {text!r}: start is after end")
    return Interval(start, end)
