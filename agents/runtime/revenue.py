"""An agent's revenue over time, as this runtime's settled tasks record it.

Each settled task is one payment into the agent's treasury (a transfer, or a voucher
the runtime claims later), so its amount and settlement time are revenue at once,
before any distribution moves it on. The chain's ``Distributed`` events tell what was
paid out later (:mod:`treasury.ledger`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agents.runtime.tasks import Task, TaskState

__all__ = ["RevenueBucket", "revenue_over_time"]

MAX_BUCKETS = 48
"""At most this many points: a chart's width, whatever the history's length."""


@dataclass(frozen=True)
class RevenueBucket:
    """Settled hires in one span of time."""

    start: datetime
    income: int
    """Payment-token units."""
    hires: int


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def revenue_over_time(engine: Engine, agent: str) -> list[RevenueBucket]:
    """``agent``'s settled hires grouped into at most :data:`MAX_BUCKETS` equal spans
    (at least a minute each), oldest first; empty spans are left out."""
    statement = (
        select(Task.updated_at, Task.amount)
        .where(Task.agent == agent, Task.state == TaskState.SETTLED)
        .order_by(col(Task.updated_at))
    )
    with Session(engine) as session:
        rows = [(_utc(at), int(amount)) for at, amount in session.exec(statement)]
    if not rows:
        return []
    first, last = rows[0][0], rows[-1][0]
    width = max(timedelta(minutes=1), (last - first) / MAX_BUCKETS)
    buckets: dict[int, tuple[int, int]] = {}
    for at, amount in rows:
        index = min(int((at - first) / width), MAX_BUCKETS - 1)
        income, hires = buckets.get(index, (0, 0))
        buckets[index] = (income + amount, hires + 1)
    return [
        RevenueBucket(first + width * index, income, hires)
        for index, (income, hires) in sorted(buckets.items())
    ]
