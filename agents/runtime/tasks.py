"""Paid tasks and their state machine, stored so a crash loses nothing.

    received -> verified -> running -> succeeded <-> settled
        \\__________\\__________\\           \\
                                failed        settle_failed

``settled -> succeeded`` is the one way back: the chain lost the settlement (a
reorg, or a local node restarted from state older than the transaction), so the
task holds an unpaid result again and is settled anew or failed.

A task is created when a payment arrives, keyed by the payment's (payer, nonce)
under a unique constraint, so the same payment can never open two tasks and a
retried request finds the task it already paid for. Every transition is written
(and committed) before the side effect it guards: ``running`` before the model
call, ``succeeded`` with its result before the settlement transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BigInteger, Column, UniqueConstraint, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from agents.core.errors import InvalidTransitionError

__all__ = [
    "COMMITTED",
    "IN_FLIGHT",
    "TRANSITIONS",
    "NewTask",
    "Task",
    "TaskState",
    "TaskStore",
]


class TaskState(StrEnum):
    """Where a paid task is in its life."""

    RECEIVED = "received"
    """The payment arrived and claimed its (payer, nonce); not yet verified."""
    VERIFIED = "verified"
    """The facilitator accepted the payment; the skill has not started."""
    RUNNING = "running"
    """The model call is under way."""
    SUCCEEDED = "succeeded"
    """The result is stored; the payment is not settled yet."""
    SETTLED = "settled"
    """The payment moved to the treasury on chain; the customer has the result."""
    FAILED = "failed"
    """No result; the payment was never settled, so nothing was charged."""
    SETTLE_FAILED = "settle_failed"
    """The result exists but settling the payment failed; nothing was charged."""


TRANSITIONS: Final[dict[TaskState, frozenset[TaskState]]] = {
    TaskState.RECEIVED: frozenset({TaskState.VERIFIED, TaskState.FAILED}),
    TaskState.VERIFIED: frozenset({TaskState.RUNNING, TaskState.FAILED}),
    TaskState.RUNNING: frozenset({TaskState.SUCCEEDED, TaskState.FAILED}),
    TaskState.SUCCEEDED: frozenset({TaskState.SETTLED, TaskState.SETTLE_FAILED, TaskState.FAILED}),
    # Reopened: the settlement vanished from the chain (see the module docstring).
    TaskState.SETTLED: frozenset({TaskState.SUCCEEDED}),
    TaskState.FAILED: frozenset(),
    TaskState.SETTLE_FAILED: frozenset(),
}
"""Every allowed move. Failed and settle_failed are final; settled is final unless the
chain loses its settlement."""

IN_FLIGHT: Final = frozenset(
    {TaskState.RECEIVED, TaskState.VERIFIED, TaskState.RUNNING, TaskState.SUCCEEDED}
)
"""States a crash can leave a task in; the runtime resolves them at start."""

COMMITTED: Final = frozenset({TaskState.VERIFIED, TaskState.RUNNING, TaskState.SUCCEEDED})
"""States whose payment the runtime means to settle: their amounts are spoken for in the
payer's balance."""


def _now() -> datetime:
    return datetime.now(UTC)


class NewTask(SQLModel):
    """What the runtime knows when a payment arrives."""

    agent: str = Field(index=True)
    skill: str
    input: str
    payer: str = Field(index=True)
    """Checksummed address that signed the payment authorization."""
    nonce: str
    """The authorization's 32-byte nonce, 0x-hex, lower case."""
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    """Payment-token units the authorization moves."""
    valid_before: int = Field(sa_column=Column(BigInteger, nullable=False))
    """Unix time after which the authorization can no longer be settled."""
    config_version: int
    config_hash: str
    payment: str
    """The x402 PaymentPayload as JSON, kept so a restart can still settle it."""
    requirements: str
    """The x402 PaymentRequirements it was verified against, as JSON."""
    owner: str | None = Field(default=None, index=True)
    """The replica serving the task (its lease holder id): while that replica lives, no
    other one resolves the task; None for tasks from before replicas had ids."""
    scheme: str = Field(default="exact", sa_column_kwargs={"server_default": "exact"})
    """How it pays: ``exact`` (one transfer, settled before the answer) or
    ``batch-settlement`` (a voucher on a prepaid channel, claimed later)."""


class Task(NewTask, table=True):
    """One paid skill call."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("payer", "nonce", name="uq_task_payment"),)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True)
    state: TaskState = Field(default=TaskState.RECEIVED, index=True)
    result: str | None = None
    model: str | None = None
    """The model that answered, as its provider named it."""
    error: str | None = None
    """Why the task failed or could not be settled."""
    settlement_tx: str | None = None
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)

    @property
    def charged(self) -> bool:
        """True once the customer was charged: the transfer landed (``exact``), or the
        voucher was counted against the channel's deposit (``batch-settlement``)."""
        return self.state is TaskState.SETTLED


_PREDECESSORS: dict[TaskState, tuple[TaskState, ...]] = {
    state: tuple(s for s, nexts in TRANSITIONS.items() if state in nexts) for state in TaskState
}
"""For each state, the states a task may move to it from."""


class TaskStore:
    """The task table, with transitions that only the state machine allows."""

    def __init__(self, engine: Engine, owner: str | None = None) -> None:
        """``engine`` is a database at the newest migration (``agents.app.database``);
        ``owner`` the id of the replica whose tasks this store opens."""
        self.engine = engine
        self.owner = owner

    def open(self, new: NewTask) -> tuple[Task, bool]:
        """Create the task a payment pays for, or find the one it already opened.

        Returns:
            The task, and True when this call created it (False: a replayed payment).
        """
        task = Task.model_validate(new.model_dump() | {"owner": self.owner})
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                session.add(task)
                session.commit()
            return task, True
        except IntegrityError:
            existing = self.find_payment(new.payer, new.nonce)
            if existing is None:  # a constraint other than the payment's: a real error
                raise
            return existing, False

    def move(
        self, task_id: str, to: TaskState, *, source: TaskState | None = None, **fields: Any
    ) -> Task:
        """Move a task to ``to`` and set ``fields`` in one committed write.

        The update only applies if the task is still in the state it was read in, so
        two processes cannot both make the same move. ``source`` narrows the move to
        one of the states ``to`` may be reached from (``succeeded`` has two).

        Raises:
            InvalidTransitionError: the machine forbids the move, or the task moved on.
        """
        sources = _PREDECESSORS[to]
        if source is not None:
            sources = tuple(s for s in sources if s is source)
        values = {**fields, "state": to, "updated_at": _now()}
        # One statement: the WHERE clause is the transition table, RETURNING the result.
        statement = (
            update(Task)
            .where(col(Task.id) == task_id, col(Task.state).in_(sources))
            .values(**values)
            .returning(Task)
        )
        with Session(self.engine, expire_on_commit=False) as session:
            moved: Task | None = session.execute(statement).scalars().one_or_none()
            session.commit()
        if moved is not None:
            return moved
        current = self.get(task_id)
        if current is None:
            raise InvalidTransitionError(f"no task {task_id}")
        raise InvalidTransitionError(
            f"task {task_id}: {current.state.value} -> {to.value} is not allowed"
        )

    def discard(self, task_id: str) -> None:
        """Forget a task whose payment failed verification: it was never accepted, and
        keeping it would let a forged payment block the real payer's nonce.

        Raises:
            InvalidTransitionError: the task is past ``received``.
        """
        with Session(self.engine) as session:
            task = session.get(Task, task_id)
            if task is None:
                return
            if task.state is not TaskState.RECEIVED:
                raise InvalidTransitionError(f"task {task_id} is {task.state.value}; kept")
            session.delete(task)
            session.commit()

    def get(self, task_id: str) -> Task | None:
        """The task with this id."""
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(Task, task_id)

    def find_payment(self, payer: str, nonce: str) -> Task | None:
        """The task a payment opened, if any."""
        statement = select(Task).where(Task.payer == payer, Task.nonce == nonce)
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(statement).first()

    def voucher_tasks(self, payer: str, channel_id: str, cumulative: int) -> Sequence[Task]:
        """The tasks opened by a voucher of ``channel_id`` signing ``cumulative`` (one per
        attempt: their nonces are ``<channel>:<cumulative>:<random>``), oldest first; a
        range on the payment's unique index."""
        prefix = f"{channel_id}:{cumulative}:"
        statement = (
            select(Task)
            .where(Task.payer == payer, col(Task.nonce) >= prefix, col(Task.nonce) < prefix + "~")
            .order_by(col(Task.created_at))
        )
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(statement).all()

    def list(self, agent: str | None = None, limit: int = 100) -> Sequence[Task]:
        """The newest tasks first, of one agent or all."""
        statement = select(Task).order_by(col(Task.created_at).desc()).limit(limit)
        if agent is not None:
            statement = statement.where(Task.agent == agent)
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(statement).all()

    def committed_amount(self, payer: str, excluding: str | None = None) -> int:
        """Units of ``payer``'s ``exact`` payments that tasks past verification will
        settle (:data:`COMMITTED`), except task ``excluding``: what its balance must still
        cover. (A voucher is covered by its channel's deposit, not by the balance.)"""
        statement = select(func.coalesce(func.sum(Task.amount), 0)).where(
            Task.payer == payer, col(Task.state).in_(list(COMMITTED)), Task.scheme == "exact"
        )
        if excluding is not None:
            statement = statement.where(Task.id != excluding)
        with Session(self.engine) as session:
            return int(session.exec(statement).one())

    def settled_since(self, since: datetime) -> Sequence[Task]:
        """Settled tasks last written at or after ``since``, oldest first (what a chain
        that lost recent blocks may no longer hold)."""
        statement = (
            select(Task)
            .where(
                Task.state == TaskState.SETTLED,
                col(Task.updated_at) >= since,
                Task.scheme == "exact",  # a voucher's charge lives in the database
            )
            .order_by(col(Task.updated_at))
        )
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(statement).all()

    def newest_settled_before(self, before: datetime) -> Task | None:
        """The settled task last written before ``before``, if any."""
        statement = (
            select(Task)
            .where(
                Task.state == TaskState.SETTLED,
                col(Task.updated_at) < before,
                Task.scheme == "exact",
            )
            .order_by(col(Task.updated_at).desc())
            .limit(1)
        )
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(statement).first()

    def last_settled_at(self) -> datetime | None:
        """When the newest settled task was written, or None without any."""
        statement = select(func.max(Task.updated_at)).where(
            Task.state == TaskState.SETTLED, Task.scheme == "exact"
        )
        with Session(self.engine) as session:
            latest: datetime | None = session.exec(statement).one()
        return latest

    def in_flight(self, alive: Collection[str] | None = None) -> Sequence[Task]:
        """Tasks not in a final state; with ``alive`` (the ids of live replicas), only
        those no live replica serves: what a crash left for the others to resolve."""
        statement = select(Task).where(col(Task.state).in_(list(IN_FLIGHT)))
        if alive is not None:
            statement = statement.where(
                or_(col(Task.owner).is_(None), col(Task.owner).not_in(list(alive)))
            )
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(statement).all()
