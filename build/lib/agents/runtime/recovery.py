"""Resolve the tasks a stopped or crashed runtime left in flight.

Run once at start, before serving. No task stays in flight, and no customer is
charged without a stored result:

- received, verified, running: the result (if any) is lost, so the task fails
  and its authorization is never settled.
- succeeded: the result is stored. If the authorization was already spent (the
  crash came after the settlement was broadcast), the task is settled with that
  transaction; if it is still valid and unused, it is settled now; else (expired)
  the task fails, not charged.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from agents.core.errors import SettlementError, SettlementPendingError
from agents.runtime.hiring import settle_task
from agents.runtime.tasks import Task, TaskState, TaskStore
from treasury.payments import Payments

__all__ = ["LOST_RESULT", "reconcile", "recover"]

LOST_RESULT = "the runtime stopped before the task finished; not charged"
EXPIRED = "the payment authorization expired before it could be settled; not charged"


async def recover(tasks: TaskStore, payments: Payments) -> list[Task]:
    """Resolve every in-flight task; return them in their final states."""
    resolved = []
    for task in tasks.in_flight():
        resolved.append(await _resolve(tasks, payments, task))
    return resolved


async def _resolve(tasks: TaskStore, payments: Payments, task: Task) -> Task:
    if task.state is not TaskState.SUCCEEDED:
        return tasks.move(task.id, TaskState.FAILED, error=LOST_RESULT)
    if await asyncio.to_thread(payments.is_used, task.payer, task.nonce):
        tx = await asyncio.to_thread(payments.settlement_of, task.payer, task.nonce)
        if tx is not None:
            return tasks.move(task.id, TaskState.SETTLED, settlement_tx=tx)
        # Spent without a transfer to us: the payer cancelled the authorization.
        return tasks.move(task.id, TaskState.FAILED, error="the payer cancelled the payment")
    if not await asyncio.to_thread(payments.still_spendable, task.valid_before):
        return tasks.move(task.id, TaskState.FAILED, error=EXPIRED)
    try:
        return await settle_task(tasks, payments, task)
    except (SettlementError, SettlementPendingError):
        moved = tasks.get(task.id)
        assert moved is not None
        return moved


async def reconcile(tasks: TaskStore, payments: Payments, older_than: float = 30.0) -> list[Task]:
    """Finish the settlements a hire left pending (a periodic job).

    Only tasks whose result is stored and that no request has touched for
    ``older_than`` seconds: each is settled, found settled on chain, or failed
    uncharged once its authorization expired.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    resolved = []
    for task in tasks.in_flight():
        updated = task.updated_at if task.updated_at.tzinfo else task.updated_at.replace(tzinfo=UTC)
        if task.state is TaskState.SUCCEEDED and updated < cutoff:
            resolved.append(await _resolve(tasks, payments, task))
    return resolved
