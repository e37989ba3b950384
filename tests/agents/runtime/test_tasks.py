"""The task state machine: only allowed moves, one task per payment, in-flight tasks found."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import create_engine

from agents.app.database import upgrade
from agents.core.errors import InvalidTransitionError
from agents.runtime.tasks import (
    COMMITTED,
    IN_FLIGHT,
    TRANSITIONS,
    NewTask,
    Task,
    TaskState,
    TaskStore,
)

HAPPY_PATH = [TaskState.VERIFIED, TaskState.RUNNING, TaskState.SUCCEEDED, TaskState.SETTLED]
FAILED_FINAL = {TaskState.FAILED, TaskState.SETTLE_FAILED}


@pytest.fixture
def store(tmp_path: Path) -> TaskStore:
    engine = create_engine(f"sqlite:///{tmp_path / 'tasks.db'}")
    upgrade(engine)  # the schema comes from the migrations, as in the runtime
    return TaskStore(engine)


def new_task(nonce: str = "0x" + "11" * 32, payer: str = "0xPayer") -> NewTask:
    return NewTask(
        agent="scribe",
        skill="summarize",
        input="text",
        payer=payer,
        nonce=nonce,
        amount=50_000,
        valid_before=2**40,
        config_version=1,
        config_hash="0xabc",
        payment="{}",
        requirements="{}",
    )


def test_a_task_walks_the_happy_path_and_each_step_is_stored(store: TaskStore) -> None:
    task, created = store.open(new_task())
    assert created
    assert task.state is TaskState.RECEIVED
    for state in HAPPY_PATH:
        store.move(task.id, state)
        stored = store.get(task.id)
        assert stored is not None
        assert stored.state is state
    final = store.get(task.id)
    assert final is not None
    assert final.charged


def test_fields_are_written_with_the_move(store: TaskStore) -> None:
    task, _ = store.open(new_task())
    for state in HAPPY_PATH[:2]:
        store.move(task.id, state)
    store.move(task.id, TaskState.SUCCEEDED, result="done", model="offline:echo-1")
    settled = store.move(task.id, TaskState.SETTLED, settlement_tx="0xtx")
    assert (settled.result, settled.model, settled.settlement_tx) == (
        "done",
        "offline:echo-1",
        "0xtx",
    )


ALLOWED = {
    (TaskState.RECEIVED, TaskState.VERIFIED),
    (TaskState.RECEIVED, TaskState.FAILED),
    (TaskState.VERIFIED, TaskState.RUNNING),
    (TaskState.VERIFIED, TaskState.FAILED),
    (TaskState.RUNNING, TaskState.SUCCEEDED),
    (TaskState.RUNNING, TaskState.FAILED),
    (TaskState.SUCCEEDED, TaskState.SETTLED),
    (TaskState.SUCCEEDED, TaskState.SETTLE_FAILED),
    (TaskState.SUCCEEDED, TaskState.FAILED),
    (TaskState.SETTLED, TaskState.SUCCEEDED),  # the chain lost the settlement: reopened
}
"""Written out by hand, not read from TRANSITIONS: a wrong table must fail this test."""


def put_in(store: TaskStore, task_id: str, state: TaskState) -> None:
    with store.engine.begin() as connection:  # past the state machine, on purpose
        connection.exec_driver_sql("UPDATE task SET state = ? WHERE id = ?", (state.name, task_id))


@pytest.mark.parametrize("source", list(TaskState))
@pytest.mark.parametrize("target", list(TaskState))
def test_only_the_allowed_moves_are_made(
    store: TaskStore, source: TaskState, target: TaskState
) -> None:
    task, _ = store.open(new_task())
    put_in(store, task.id, source)
    if (source, target) in ALLOWED:
        assert store.move(task.id, target).state is target
    else:
        with pytest.raises(InvalidTransitionError):
            store.move(task.id, target)
        again = store.get(task.id)
        assert again is not None
        assert again.state is source


def test_failed_states_are_final_and_in_flight_is_what_recovery_resolves() -> None:
    assert {s for s, targets in TRANSITIONS.items() if not targets} == FAILED_FINAL
    assert set(IN_FLIGHT) == {
        TaskState.RECEIVED,
        TaskState.VERIFIED,
        TaskState.RUNNING,
        TaskState.SUCCEEDED,
    }
    assert set(COMMITTED) == {TaskState.VERIFIED, TaskState.RUNNING, TaskState.SUCCEEDED}


def test_a_move_narrowed_to_one_source_refuses_the_other(store: TaskStore) -> None:
    task, _ = store.open(new_task())
    put_in(store, task.id, TaskState.RUNNING)
    with pytest.raises(InvalidTransitionError):
        store.move(task.id, TaskState.SUCCEEDED, source=TaskState.SETTLED, result="x")
    assert store.move(task.id, TaskState.SUCCEEDED, source=TaskState.RUNNING).result is None


def test_committed_amount_counts_what_will_be_settled(store: TaskStore) -> None:
    states = [*TaskState]
    ids = {}
    for i, state in enumerate(states):
        task, _ = store.open(new_task(nonce=f"0x{i:02x}"))
        put_in(store, task.id, state)
        ids[state] = task.id
    store.open(new_task(nonce="0xff", payer="0xOther"))
    assert store.committed_amount("0xPayer") == 3 * 50_000  # verified, running, succeeded
    assert store.committed_amount("0xPayer", excluding=ids[TaskState.RUNNING]) == 2 * 50_000
    assert store.committed_amount("0xNobody") == 0


def test_settled_since_lists_recent_settlements_oldest_first(store: TaskStore) -> None:
    first, _ = store.open(new_task(nonce="0x01"))
    second, _ = store.open(new_task(nonce="0x02"))
    for task in (first, second):
        put_in(store, task.id, TaskState.SUCCEEDED)
    early = store.move(first.id, TaskState.SETTLED, settlement_tx="0x1")
    late = store.move(second.id, TaskState.SETTLED, settlement_tx="0x2")
    assert store.last_settled_at() == late.updated_at
    assert [t.id for t in store.settled_since(early.updated_at)] == [first.id, second.id]
    assert [t.id for t in store.settled_since(late.updated_at)] == [second.id]


def test_one_payment_opens_one_task(store: TaskStore) -> None:
    first, created = store.open(new_task())
    again, created_again = store.open(new_task())
    assert created
    assert not created_again
    assert again.id == first.id
    other, created_other = store.open(new_task(nonce="0x" + "22" * 32))
    assert created_other
    assert other.id != first.id
    assert len(store.list()) == 2


def test_a_stale_move_loses_to_the_one_made_first(store: TaskStore) -> None:
    task, _ = store.open(new_task())
    store.move(task.id, TaskState.VERIFIED)
    store.move(task.id, TaskState.RUNNING)
    store.move(task.id, TaskState.FAILED, error="lost")
    with pytest.raises(InvalidTransitionError):
        store.move(task.id, TaskState.SUCCEEDED, result="late")
    final = store.get(task.id)
    assert final is not None
    assert (final.state, final.result) == (TaskState.FAILED, None)


def test_in_flight_lists_unfinished_tasks_only(store: TaskStore) -> None:
    done, _ = store.open(new_task(nonce="0x01"))
    for state in HAPPY_PATH:
        store.move(done.id, state)
    running, _ = store.open(new_task(nonce="0x02"))
    store.move(running.id, TaskState.VERIFIED)
    store.move(running.id, TaskState.RUNNING)
    fresh, _ = store.open(new_task(nonce="0x03"))
    assert {t.id for t in store.in_flight()} == {running.id, fresh.id}


def test_a_rejected_payment_is_forgotten_but_an_accepted_one_is_kept(store: TaskStore) -> None:
    rejected, _ = store.open(new_task(nonce="0x01"))
    store.discard(rejected.id)
    assert store.get(rejected.id) is None
    _, created = store.open(new_task(nonce="0x01"))
    assert created
    accepted, _ = store.open(new_task(nonce="0x02"))
    store.move(accepted.id, TaskState.VERIFIED)
    with pytest.raises(InvalidTransitionError):
        store.discard(accepted.id)
    assert store.get(accepted.id) is not None


def test_listing_filters_by_agent(store: TaskStore) -> None:
    store.open(new_task(nonce="0x01"))
    other = new_task(nonce="0x02")
    other.agent = "auditor"
    store.open(other)
    assert [t.agent for t in store.list(agent="auditor")] == ["auditor"]
    assert all(isinstance(t, Task) for t in store.list())
