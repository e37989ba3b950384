"""Revenue over time from settled tasks: only settled money counts, in bounded buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, create_engine

from agents.app.database import upgrade
from agents.runtime.revenue import MAX_BUCKETS, revenue_over_time
from agents.runtime.tasks import NewTask, Task, TaskState, TaskStore

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'tasks.db'}")
    upgrade(engine)
    return engine


def new_task(n: int, amount: int, agent: str = "scribe") -> NewTask:
    return NewTask(
        agent=agent,
        skill="summarize",
        input="text",
        payer="0xPayer",
        nonce=f"0x{n:064x}",
        amount=amount,
        valid_before=2**40,
        config_version=1,
        config_hash="0xabc",
        payment="{}",
        requirements="{}",
    )


def settle(
    store: TaskStore, n: int, at: datetime, amount: int = 50_000, agent: str = "scribe"
) -> None:
    task, _ = store.open(new_task(n, amount, agent))
    for state in (TaskState.VERIFIED, TaskState.RUNNING, TaskState.SUCCEEDED, TaskState.SETTLED):
        store.move(task.id, state)
    with Session(store.engine) as session:
        session.execute(update(Task).where(col(Task.id) == task.id).values(updated_at=at))
        session.commit()


def test_settled_hires_are_revenue_by_time_and_nothing_else_is(engine: Engine) -> None:
    store = TaskStore(engine)
    settle(store, 1, START)
    settle(store, 2, START + timedelta(seconds=10), 10_000)
    settle(store, 3, START + timedelta(hours=2))
    settle(store, 4, START, agent="auditor")
    store.open(new_task(5, 999))  # paid for, never settled
    buckets = revenue_over_time(engine, "scribe")
    assert sum(b.income for b in buckets) == 110_000  # the unsettled task is not revenue
    assert sum(b.hires for b in buckets) == 3
    assert buckets[0].start == START
    assert (buckets[0].income, buckets[0].hires) == (60_000, 2)
    assert revenue_over_time(engine, "nobody") == []


def test_a_long_history_fits_in_a_bounded_number_of_points(engine: Engine) -> None:
    store = TaskStore(engine)
    for n in range(200):
        settle(store, n, START + timedelta(hours=n))
    buckets = revenue_over_time(engine, "scribe")
    assert len(buckets) <= MAX_BUCKETS
    assert sum(b.hires for b in buckets) == 200
    assert [b.start for b in buckets] == sorted(b.start for b in buckets)
