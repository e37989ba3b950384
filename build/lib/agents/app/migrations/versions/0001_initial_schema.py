"""The schema as ``create_all`` made it before migrations: tasks, launched agents,
config history and sync cursors, distribution state.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config_hash", sa.String(), nullable=False),
        sa.Column("config_json", sa.String(), nullable=False),
        sa.Column("changes_json", sa.String(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(), nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.String(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("ACCEPTED", "REJECTED", "SUPERSEDED", name="versionstatus"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "agent", "version"),
    )
    with op.batch_alter_table("config_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_config_version_agent"), ["agent"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_config_version_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_config_version_chain_id"), ["chain_id"], unique=False)

    op.create_table(
        "distribution_state",
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("treasury", sa.String(), nullable=False),
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("last_distributed_at", sa.Integer(), nullable=True),
        sa.Column("last_tx", sa.String(), nullable=True),
        sa.Column("last_income", sa.String(), nullable=False),
        sa.Column("in_flight_tx", sa.String(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "treasury"),
    )
    with op.batch_alter_table("distribution_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distribution_state_agent"), ["agent"], unique=False)

    op.create_table(
        "launched_agent",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("stake", sa.String(), nullable=False),
        sa.Column("governor", sa.String(), nullable=False),
        sa.Column("timelock", sa.String(), nullable=False),
        sa.Column("config", sa.String(), nullable=False),
        sa.Column("treasury", sa.String(), nullable=False),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "chain_id"),
    )
    op.create_table(
        "sync_cursor",
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(), nullable=False),
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "contract"),
    )
    op.create_table(
        "task",
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("skill", sa.String(), nullable=False),
        sa.Column("input", sa.String(), nullable=False),
        sa.Column("payer", sa.String(), nullable=False),
        sa.Column("nonce", sa.String(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("valid_before", sa.BigInteger(), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("config_hash", sa.String(), nullable=False),
        sa.Column("payment", sa.String(), nullable=False),
        sa.Column("requirements", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "RECEIVED",
                "VERIFIED",
                "RUNNING",
                "SUCCEEDED",
                "SETTLED",
                "FAILED",
                "SETTLE_FAILED",
                name="taskstate",
            ),
            nullable=False,
        ),
        sa.Column("result", sa.String(), nullable=True),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("settlement_tx", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payer", "nonce", name="uq_task_payment"),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_agent"), ["agent"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_payer"), ["payer"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_state"))
        batch_op.drop_index(batch_op.f("ix_task_payer"))
        batch_op.drop_index(batch_op.f("ix_task_agent"))

    op.drop_table("task")
    op.drop_table("sync_cursor")
    op.drop_table("launched_agent")
    with op.batch_alter_table("distribution_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distribution_state_agent"))

    op.drop_table("distribution_state")
    with op.batch_alter_table("config_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_config_version_chain_id"))
        batch_op.drop_index(batch_op.f("ix_config_version_block_number"))
        batch_op.drop_index(batch_op.f("ix_config_version_agent"))

    op.drop_table("config_version")
