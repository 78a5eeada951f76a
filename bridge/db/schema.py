"""Tables. Changes to them go through a new Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Tenant(Base):
    """A customer of the bridge: owns keys, provider contracts and orders."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiKey(Base):
    """An API key of a tenant, stored only as its SHA-256 digest."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The first characters of the key, so an operator can tell keys apart."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Order(Base):
    """One order of one item by one tenant with one set of options.

    ``active_key`` holds the options digest while the order is live and is cleared when it
    fails or is canceled: the unique index on (tenant, collection, item, active_key) is what
    guarantees one live native order per (tenant, item, options), across processes.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "collection_id", "item_id", "active_key", name="uq_live_order"
        ),
        Index("ix_orders_tenant_created", "tenant_id", "created_at"),
        Index("ix_orders_provider_native", "provider", "native_id"),
        Index("ix_orders_due", "state", "next_check_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(50))
    collection_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(300))
    options_key: Mapped[str] = mapped_column(String(64))
    active_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    options: Mapped[str] = mapped_column(Text)
    """The chosen options as JSON."""
    state: Mapped[str] = mapped_column(String(20))
    """``placing`` (intent recorded, native call not confirmed) or an Order-extension state."""
    native_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    native_status: Mapped[str | None] = mapped_column(String(50), nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checks: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key`` and the order it produced."""

    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SharedSecret(Base):
    """A secret generated once per deployment and shared by every process using it."""

    __tablename__ = "shared_secrets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Lease(Base):
    """A role one process holds at a time, until ``expires_at`` unless renewed."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateCounter(Base):
    """One rate-limit window's request count; ``expires_at`` in Unix seconds."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_expires", "expires_at"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)


class TaskingOrder(Base):
    """One STAPI order (a native task) of one tenant, recorded before the native call.

    ``claim_key`` is the client's ``Idempotency-Key`` or, without one, the request's
    digest: the unique index on (tenant, product, claim_key) is what guarantees one native
    task per request across processes. A digest claim is cleared when the provider refuses
    the task (nothing was bought), so the same request may be tried again.
    """

    __tablename__ = "tasking_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "product_id", "claim_key", name="uq_tasking_claim"),
        Index("ix_tasking_tenant_created", "tenant_id", "created_at"),
        Index("ix_tasking_provider_native", "provider", "native_id"),
        Index("ix_tasking_due", "state", "next_check_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(50))
    product_id: Mapped[str] = mapped_column(String(200))
    claim_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_key: Mapped[str] = mapped_column(String(64))
    request: Mapped[str] = mapped_column(Text)
    """The validated request as JSON (what ``find_tasks`` and a retry need)."""
    state: Mapped[str] = mapped_column(String(20))
    """``placing`` (intent recorded, native call not confirmed) or a STAPI status code."""
    native_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    native_status: Mapped[str | None] = mapped_column(String(100), nullable=True)
    awaiting_approval: Mapped[bool] = mapped_column(default=False)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON list of the delivered items ``[collection, item]`` once recorded."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TaskingEvent(Base):
    """One step of a tasking order's status history."""

    __tablename__ = "tasking_events"
    __table_args__ = (
        UniqueConstraint("order_id", "time", "status", "native_status", name="uq_tasking_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("tasking_orders.id", ondelete="CASCADE"), index=True
    )
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    native_status: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
