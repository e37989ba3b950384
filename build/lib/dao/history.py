"""Every config version an agent ever had, and what the runtime made of it.

The chain sync writes one ``ConfigVersion`` row per ``ConfigUpdated`` event; the
API serves them as the agent's config history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from agents.core.live_config import LiveConfig

__all__ = [
    "ConfigHistory",
    "ConfigVersion",
    "ConfigVersionPublic",
    "VersionStatus",
    "config_history",
    "last_accepted",
]


class VersionStatus(StrEnum):
    """Whether the runtime adopted a version."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    """Written and replaced within the same transaction (a proposal with several
    changes), so never served on its own; the transaction's last version is applied."""


class ConfigVersion(SQLModel, table=True):
    """One ``ConfigUpdated`` event of one agent, as the sync saw and applied it."""

    __tablename__ = "config_version"
    __table_args__ = (UniqueConstraint("chain_id", "agent", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    chain_id: int = Field(index=True)
    agent: str = Field(index=True)
    version: int
    config_hash: str
    config_json: str
    """The full config (``LiveConfig`` as JSON)."""
    changes_json: str
    """What changed against the previous version: a JSON list of phrases."""
    tx_hash: str
    block_number: int = Field(index=True)
    block_hash: str
    block_time: datetime
    log_index: int
    proposal_id: str | None = None
    """Decimal id of the proposal whose execution wrote this version (uint256: text)."""
    status: VersionStatus
    reason: str | None = None
    """Why the runtime rejected the version."""
    recorded_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def live_config(self) -> LiveConfig:
        """The stored config."""
        return LiveConfig.model_validate_json(self.config_json)

    @property
    def changes(self) -> list[str]:
        """What changed against the previous version."""
        decoded: list[str] = json.loads(self.changes_json)
        return decoded


class ConfigVersionPublic(BaseModel):
    """One version in the config history, as the API shows it."""

    version: int
    config_hash: str
    changes: list[str]
    proposal_id: str | None
    tx_hash: str
    block_number: int
    block_time: datetime
    status: VersionStatus
    reason: str | None
    config: dict[str, Any]

    @classmethod
    def from_row(cls, row: ConfigVersion) -> ConfigVersionPublic:
        """Shape a stored row for the API."""
        block_time = row.block_time
        if block_time.tzinfo is None:  # SQLite drops the zone; we store UTC
            block_time = block_time.replace(tzinfo=UTC)
        return cls(
            version=row.version,
            config_hash=row.config_hash,
            changes=row.changes,
            proposal_id=row.proposal_id,
            tx_hash=row.tx_hash,
            block_number=row.block_number,
            block_time=block_time,
            status=row.status,
            reason=row.reason,
            config=json.loads(row.config_json),
        )


class ConfigHistory(BaseModel):
    """An agent's config history: which version is live, and every version."""

    agent: str
    live_version: int | None
    """The newest accepted version: the one the runtime serves with."""
    versions: list[ConfigVersionPublic]


def _rows(session: Session, agent: str, chain_id: int | None) -> list[ConfigVersion]:
    query = select(ConfigVersion).where(ConfigVersion.agent == agent)
    if chain_id is not None:
        query = query.where(ConfigVersion.chain_id == chain_id)
    return list(session.exec(query.order_by(col(ConfigVersion.version))))


def config_history(engine: Engine, agent: str, chain_id: int | None = None) -> ConfigHistory:
    """Every stored version of ``agent``, oldest first."""
    with Session(engine) as session:
        rows = _rows(session, agent, chain_id)
    accepted = [r.version for r in rows if r.status == VersionStatus.ACCEPTED]
    return ConfigHistory(
        agent=agent,
        live_version=accepted[-1] if accepted else None,
        versions=[ConfigVersionPublic.from_row(r) for r in rows],
    )


def last_accepted(engine: Engine, agent: str, chain_id: int | None = None) -> LiveConfig | None:
    """The newest version the runtime accepted, if any."""
    with Session(engine) as session:
        rows = _rows(session, agent, chain_id)
    accepted = [r for r in rows if r.status == VersionStatus.ACCEPTED]
    return accepted[-1].live_config if accepted else None
