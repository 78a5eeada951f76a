"""STAPI tasking: orders (native tasks) and their status history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasking_orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("product_id", sa.String(200), nullable=False),
        sa.Column("claim_key", sa.String(255), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_key", sa.String(64), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("native_id", sa.String(200), nullable=True),
        sa.Column("native_status", sa.String(100), nullable=True),
        sa.Column("awaiting_approval", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("delivered", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "product_id", "claim_key", name="uq_tasking_claim"),
    )
    op.create_index("ix_tasking_tenant_created", "tasking_orders", ["tenant_id", "created_at"])
    op.create_index("ix_tasking_provider_native", "tasking_orders", ["provider", "native_id"])
    op.create_index("ix_tasking_due", "tasking_orders", ["state", "next_check_at"])
    op.create_table(
        "tasking_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "order_id",
            sa.String(36),
            sa.ForeignKey("tasking_orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("native_status", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("order_id", "time", "status", "native_status", name="uq_tasking_event"),
    )
    op.create_index("ix_tasking_events_order_id", "tasking_events", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_tasking_events_order_id", table_name="tasking_events")
    op.drop_table("tasking_events")
    op.drop_index("ix_tasking_due", table_name="tasking_orders")
    op.drop_index("ix_tasking_provider_native", table_name="tasking_orders")
    op.drop_index("ix_tasking_tenant_created", table_name="tasking_orders")
    op.drop_table("tasking_orders")
