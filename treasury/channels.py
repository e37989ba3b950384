"""Batch-settlement channels kept in the runtime's database, shared by every replica.

x402's batch-settlement server keeps each payment channel (its config, the voucher
with the highest signed amount, what was charged and claimed, the request holding it)
behind one storage interface whose only write is ``update_channel(id, update)``: read
the channel, let ``update`` compute the next one, store it. This store makes that write
a compare-and-set on a version column, so any number of processes on one PostgreSQL
(or one SQLite file) can serve the same channels:

- a write lands only if nobody wrote the channel since it was read; otherwise the
  update runs again on the fresh row, so two replicas never both reserve a channel,
  charge the same voucher twice or lose a charge;
- every write is committed before ``update_channel`` returns, so a charge recorded for
  an answer survives a crash of the process that sent it, and the claim job of any
  replica finds it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select
from x402.mechanisms.evm.batch_settlement.server.storage import (
    Channel,
    ChannelUpdate,
    ChannelUpdateResult,
)
from x402.mechanisms.evm.batch_settlement.utils import normalize_channel_id

from agents.core.database import session_scope

__all__ = ["ChannelRecord", "ChannelStore"]

_MAX_ATTEMPTS = 64
"""Compare-and-set rounds before giving up: each lost round means another writer
committed, so the limit is reached only under a storm of writes to one channel."""


class ChannelRecord(SQLModel, table=True):
    """One payment channel's state, as x402's server keeps it, with a write version."""

    __tablename__ = "payment_channel"

    channel_id: str = Field(primary_key=True, max_length=66)
    """The channel's id: the EIP-712 hash of its config (0x + 64 hex digits)."""
    receiver: str = Field(index=True, max_length=42)
    """Who the channel pays: an agent's treasury."""
    payer: str = Field(index=True, max_length=42)
    state: str
    """x402's ``Channel.to_dict()`` as JSON."""
    version: int = 0
    """Bumped by every write; a write names the version it read."""
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ChannelStore:
    """x402's ``ChannelStorage`` on the runtime's database (see the module docstring).

    ``receiver`` scopes the store to one agent's treasury: x402 builds one server
    scheme per receiver and lists "all channels" to find claims, which must be its own.
    """

    def __init__(self, engine: Engine, receiver: str) -> None:
        self.engine = engine
        self.receiver = receiver.lower()

    def get(self, channel_id: str) -> Channel | None:
        """The channel, or None if it has never been reserved (or was drained)."""
        with Session(self.engine) as session:
            record = session.get(ChannelRecord, normalize_channel_id(channel_id))
            if record is None or record.receiver != self.receiver:
                return None
            return Channel.from_dict(json.loads(record.state))

    def list(self) -> list[Channel]:
        """Every channel paying this receiver, oldest write first."""
        with Session(self.engine) as session:
            records = session.exec(
                select(ChannelRecord)
                .where(ChannelRecord.receiver == self.receiver)
                .order_by(ChannelRecord.updated_at)  # type: ignore[arg-type]
            ).all()
            return [Channel.from_dict(json.loads(r.state)) for r in records]

    def update_channel(self, channel_id: str, update_fn: ChannelUpdate) -> ChannelUpdateResult:
        """Apply ``update_fn`` to the stored channel as one compare-and-set write.

        ``update_fn`` may run more than once (once per lost race) and must not act
        outside what it returns; x402's updates only compute the next state.
        """
        key = normalize_channel_id(channel_id)
        for _ in range(_MAX_ATTEMPTS):
            with Session(self.engine) as session:
                record = session.get(ChannelRecord, key)
            if record is not None and record.receiver != self.receiver:
                raise ValueError(f"channel {key} pays {record.receiver}, not {self.receiver}")
            current = None if record is None else Channel.from_dict(json.loads(record.state))
            following = update_fn(current)
            # x402's updates return the channel they were given to change nothing.
            if following is current:
                return ChannelUpdateResult(channel=current, status="unchanged")
            if self._write(key, record, following):
                if following is None:
                    return ChannelUpdateResult(channel=None, status="deleted")
                return ChannelUpdateResult(channel=following.copy(), status="updated")
        raise RuntimeError(f"channel {key}: {_MAX_ATTEMPTS} writes in a row lost their race")

    def _write(self, key: str, read: ChannelRecord | None, following: Channel | None) -> bool:
        """Store ``following`` if the row is still as ``read`` saw it; False if not."""
        try:
            with session_scope(self.engine) as session:
                if read is None:
                    assert following is not None
                    session.add(
                        ChannelRecord(
                            channel_id=key,
                            receiver=self.receiver,
                            payer=following.channel_config.payer.lower(),
                            state=json.dumps(following.to_dict()),
                        )
                    )
                    return True
                where = (ChannelRecord.channel_id == key) & (ChannelRecord.version == read.version)
                if following is None:
                    done = session.execute(delete(ChannelRecord).where(where))  # type: ignore[arg-type]
                else:
                    done = session.execute(
                        update(ChannelRecord)
                        .where(where)  # type: ignore[arg-type]
                        .values(
                            state=json.dumps(following.to_dict()),
                            version=read.version + 1,
                            updated_at=datetime.now(UTC),
                        )
                    )
                return bool(done.rowcount == 1)  # type: ignore[attr-defined]
        except IntegrityError:  # another writer created the channel first
            return False
