"""Read-only views of tasking ledger rows, and the request stored with each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from bridge.core.tasking_contract import TaskingRequest
from bridge.db.schema import TaskingEvent, TaskingOrder

PLACING = "placing"


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes even for timezone=True columns: they are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def request_json(request: TaskingRequest) -> str:
    """The request as stored in the ledger."""
    return orjson.dumps(
        {
            "product_id": request.product_id,
            "start": request.start.isoformat(),
            "end": request.end.isoformat(),
            "geometry": request.geometry,
            "constraints": request.constraints,
            "order_parameters": request.order_parameters,
            "opportunity_id": request.opportunity_id,
        }
    ).decode()


def request_of(raw: str) -> TaskingRequest:
    """The request a ledger row stores."""
    data: dict[str, Any] = orjson.loads(raw)
    return TaskingRequest(
        product_id=data["product_id"],
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]),
        geometry=data["geometry"],
        constraints=data["constraints"],
        order_parameters=data["order_parameters"],
        opportunity_id=data["opportunity_id"],
    )


@dataclass(frozen=True)
class TaskingRecord:
    """One tasking order as recorded."""

    id: str
    tenant_id: int
    provider: str
    product_id: str
    idempotency_key: str | None
    request: TaskingRequest
    state: str
    native_id: str | None
    native_status: str | None
    awaiting_approval: bool
    amount: int | None
    currency: str | None
    error: str | None
    delivered: list[tuple[str, str]]
    created_at: datetime
    updated_at: datetime

    @property
    def status(self) -> str:
        """The STAPI status code (a task still being placed is ``received``)."""
        return "received" if self.state == PLACING else self.state

    @classmethod
    def of(cls, row: TaskingOrder) -> TaskingRecord:
        """From an ORM row."""
        delivered = orjson.loads(row.delivered) if row.delivered else []
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            provider=row.provider,
            product_id=row.product_id,
            idempotency_key=row.idempotency_key,
            request=request_of(row.request),
            state=row.state,
            native_id=row.native_id,
            native_status=row.native_status,
            awaiting_approval=bool(row.awaiting_approval),
            amount=row.amount,
            currency=row.currency,
            error=row.error,
            delivered=[(c, i) for c, i in delivered],
            created_at=aware(row.created_at) or datetime.now(UTC),
            updated_at=aware(row.updated_at) or datetime.now(UTC),
        )


@dataclass(frozen=True)
class EventRecord:
    """One recorded status of a tasking order."""

    time: datetime
    status: str
    native_status: str
    reason: str | None

    @classmethod
    def of(cls, row: TaskingEvent) -> EventRecord:
        """From an ORM row."""
        return cls(aware(row.time) or datetime.now(UTC), row.status, row.native_status, row.reason)
