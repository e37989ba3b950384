"""Batch-settlement payment channels (x402's server state, shared by replicas).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_channel",
        sa.Column("channel_id", sa.String(length=66), nullable=False),
        sa.Column("receiver", sa.String(length=42), nullable=False),
        sa.Column("payer", sa.String(length=42), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    with op.batch_alter_table("payment_channel") as batch:
        batch.create_index("ix_payment_channel_receiver", ["receiver"])
        batch.create_index("ix_payment_channel_payer", ["payer"])


def downgrade() -> None:
    op.drop_table("payment_channel")
