"""When a native order or task is checked again, and when an unconfirmed placement is
reconciled: one policy for archive orders and tasking orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Dated(Protocol):
    """A ledger record (archive or tasking order): what the backoff reads."""

    @property
    def created_at(self) -> datetime: ...


@dataclass
class CheckTiming:
    """How often orders and tasks are checked, and when an unconfirmed placement is
    reconciled."""

    min_check_s: float = 1.0
    max_check_s: float = 300.0
    reconcile_after_s: float = 150.0
    """Longer than any native call can take, so reconciliation never races the caller."""

    def next_check(self, record: Dated, now: datetime | None = None) -> timedelta:
        """Young records are checked often, old ones rarely (backoff by age)."""
        age = ((now or datetime.now(UTC)) - record.created_at).total_seconds()
        return timedelta(seconds=min(self.max_check_s, max(self.min_check_s, age / 4)))
