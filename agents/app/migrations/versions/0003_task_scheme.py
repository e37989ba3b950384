"""Tasks say how they pay: ``exact`` or ``batch-settlement``.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("scheme", sa.String(), nullable=False, server_default="exact"))


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_column("scheme")
