"""What the database remembers about launched agents."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

__all__ = ["LaunchedAgent"]


class LaunchedAgent(SQLModel, table=True):
    """One agent launched on one chain, with its contract addresses."""

    __tablename__ = "launched_agent"

    name: str = Field(primary_key=True)
    chain_id: int = Field(primary_key=True)
    token: str
    stake: str
    governor: str
    timelock: str
    config: str
    treasury: str
    launched_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
