"""Resolve the tasks a stopped or crashed runtime left in flight, and keep settled
tasks true to the chain.

Run once at start, before serving. No task stays in flight, and no customer is
charged without a stored result:

- received, verified, running: the result (if any) is lost, so the task fails
  and its authorization is never settled.
- succeeded: the result is stored. If the authorization was already spent (the
  crash came after the settlement was broadcast), the task is settled with that
  transaction; if it is still valid and unused, it is settled now; else (expired)
  the task fails, not charged.

A task marked settled is true only while the chain holds its transfer. A chain can
lose recent blocks (a reorg; a local node killed with the runtime restarts from
state saved a moment earlier, or from an older one if the kill tore its last save),
so recovery re-checks the settlements written in the last :data:`RECHECK_WINDOW`
seconds before the newest one, and further back while the settlement just before
that window is gone too (until one the chain still holds), and the reconcile job
re-checks everything settled since the chain last looked intact. A settlement that
vanished reopens its task (``settled -> succeeded``), which is then settled again
while its authorization is valid, or failed uncharged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from web3 import Web3
from web3.exceptions import BlockNotFound
from x402.mechanisms.evm.batch_settlement.server.storage import Channel
from x402.schemas import PaymentPayload, PaymentRequirements

from agents.core.errors import InvalidTransitionError, SettlementError, SettlementPendingError
from agents.runtime.hiring import settle_task
from agents.runtime.tasks import Task, TaskState, TaskStore
from treasury.batch import BATCH_SCHEME, channel_of
from treasury.payments import Payments

__all__ = ["LOST_RESULT", "RECHECK_WINDOW", "ChainWatch", "recheck", "reconcile", "recover"]

log = logging.getLogger(__name__)

LOST_RESULT = "the runtime stopped before the task finished; not charged"
EXPIRED = "the payment authorization expired before it could be settled; not charged"
UNCHARGED_VOUCHER = "the runtime stopped before charging the voucher; not charged"
RECHECK_WINDOW = 60.0
"""Seconds of settlements before the newest one that recovery re-checks: far more than
a local node loses when killed (its state is saved every few seconds)."""


async def recover(
    tasks: TaskStore, payments: Payments, alive: Collection[str] | None = None
) -> list[Task]:
    """Reopen recent settlements the chain lost, then resolve every in-flight task that
    no live replica serves (``alive``: their ids; None: no replica but this one);
    return the tasks touched, in their final states."""
    resolved = []
    newest = await asyncio.to_thread(tasks.last_settled_at)
    if newest is not None:
        resolved += await recheck(tasks, payments, await _intact_before(tasks, payments, newest))
    done = {task.id for task in resolved}
    for task in await asyncio.to_thread(tasks.in_flight, alive):
        if task.id not in done:  # a reopened task still pending was tried just now
            moved = await _resolve(tasks, payments, task)
            if moved.state is not task.state:  # a voucher call still served is left alone
                resolved.append(moved)
    return resolved


async def recheck(tasks: TaskStore, payments: Payments, since: datetime) -> list[Task]:
    """Re-check the tasks settled at or after ``since`` against the chain; reopen and
    resolve each whose settlement is gone. Returns those, in their new states.

    Raises:
        ChainUnreachableError: the chain does not answer (nothing was reopened on a guess).
    """
    resolved = []
    for task in await asyncio.to_thread(tasks.settled_since, since):
        if await asyncio.to_thread(_paid_on_chain, payments, task):
            continue
        log.warning(
            "task %s: settlement %s is not on chain any more; reopened",
            task.id,
            task.settlement_tx,
        )
        try:
            reopened = await asyncio.to_thread(
                tasks.move, task.id, TaskState.SUCCEEDED, source=TaskState.SETTLED
            )
        except InvalidTransitionError:  # something else moved it meanwhile
            continue
        payments.facilitator.resync()
        resolved.append(await _resolve(tasks, payments, reopened))
    return resolved


async def _intact_before(tasks: TaskStore, payments: Payments, newest: datetime) -> datetime:
    """A time before which the chain still holds every settlement: a window before the
    newest, widened while the settlement just before the window is gone as well (a chain
    that lost blocks lost its newest ones, however many)."""
    since = newest - timedelta(seconds=RECHECK_WINDOW)
    while True:
        older = await asyncio.to_thread(tasks.newest_settled_before, since)
        if older is None or await asyncio.to_thread(_paid_on_chain, payments, older):
            return since
        since = older.updated_at - timedelta(seconds=RECHECK_WINDOW)


def _paid_on_chain(payments: Payments, task: Task) -> bool:
    # The receipt is the direct proof; a node restarted from saved state may keep the
    # token's storage but not old receipts, so a spent authorization also counts.
    if task.settlement_tx is not None and payments.landed(task.settlement_tx):
        return True
    return payments.is_used(task.payer, task.nonce)


async def _resolve(tasks: TaskStore, payments: Payments, task: Task) -> Task:
    if task.scheme == BATCH_SCHEME:
        return await asyncio.to_thread(_resolve_voucher, tasks, payments, task)
    if task.state is not TaskState.SUCCEEDED:
        return await asyncio.to_thread(tasks.move, task.id, TaskState.FAILED, error=LOST_RESULT)
    if await asyncio.to_thread(payments.is_used, task.payer, task.nonce):
        tx = await asyncio.to_thread(payments.settlement_of, task.payer, task.nonce)
        if tx is not None:
            return await asyncio.to_thread(tasks.move, task.id, TaskState.SETTLED, settlement_tx=tx)
        # Spent without a transfer to us: the payer cancelled the authorization.
        return await asyncio.to_thread(
            tasks.move, task.id, TaskState.FAILED, error="the payer cancelled the payment"
        )
    if not await asyncio.to_thread(payments.still_spendable, task.valid_before):
        return await asyncio.to_thread(tasks.move, task.id, TaskState.FAILED, error=EXPIRED)
    try:
        return await settle_task(tasks, payments, task)
    except (SettlementError, SettlementPendingError):
        moved = await asyncio.to_thread(tasks.get, task.id)
        assert moved is not None
        return moved


def _resolve_voucher(tasks: TaskStore, payments: Payments, task: Task) -> Task:
    """A voucher task left in flight: settled if its channel counted the voucher (the
    charge landed), failed uncharged if not, and left alone while the call may still be
    served.

    The channel's reservation for the voucher is the call's lease: while it is live, the
    replica serving the call (this one before a restart, or another, alive) may still
    charge it, so the task stays as it is (the reconcile job looks again). An expired
    reservation is cleared before the task is judged: both that and a charge are
    compare-and-set writes naming the reservation, so a replica that outlived it can no
    longer charge a call this one failed.
    """
    channel_id, cumulative = channel_of(PaymentPayload.model_validate_json(task.payment))
    channel = None
    if payments.batch is not None:
        pay_to = PaymentRequirements.model_validate_json(task.requirements).pay_to
        now_ms = int(time.time() * 1000)

        def clear_expired(current: Channel | None) -> Channel | None:
            pending = None if current is None else current.pending_request
            if current is None or pending is None or pending.expires_at > now_ms:
                return current
            if int(pending.signed_max_claimable) != cumulative:
                return current
            cleared = current.copy()
            cleared.pending_request = None
            return cleared

        channel = payments.batch.channels(pay_to).update_channel(channel_id, clear_expired).channel
    pending = None if channel is None else channel.pending_request
    if (
        pending is not None
        and pending.expires_at > int(time.time() * 1000)
        and int(pending.signed_max_claimable) == cumulative
    ):
        return task  # still being served
    try:
        if (
            task.state is TaskState.SUCCEEDED
            and channel is not None
            and int(channel.charged_cumulative_amount) >= cumulative
        ):
            reference = f"voucher:{channel_id}:{cumulative}"
            return tasks.move(task.id, TaskState.SETTLED, settlement_tx=reference)
        error = UNCHARGED_VOUCHER if task.state is TaskState.SUCCEEDED else LOST_RESULT
        return tasks.move(task.id, TaskState.FAILED, error=error)
    except InvalidTransitionError:  # the replica serving it moved it meanwhile
        moved = tasks.get(task.id)
        assert moved is not None
        return moved


class ChainWatch:
    """Notices when the chain loses blocks it showed before (a reorg, or a node
    restarted from older state), by remembering recent heads and looking them up again."""

    def __init__(self, depth: int = 64) -> None:
        self._marks: deque[tuple[int, bytes, datetime]] = deque(maxlen=depth)

    def lost_since(self, w3: Web3) -> datetime | None:
        """If the chain lost blocks it showed before: when it last looked intact (the
        newest remembered head it still holds, else the oldest remembered); else None.
        Either way the watch then remembers the current head.

        A settlement written before a remembered head was read is in that block or an
        earlier one, so it survived if that block did (each block hashes its parent).
        """
        now = datetime.now(UTC)  # before reading the head: see the docstring
        head = w3.eth.get_block("latest")
        lost: datetime | None = None
        while self._marks:
            number, block_hash, seen_at = self._marks[-1]
            if _hash_of(w3, number) == block_hash:
                break
            lost = seen_at  # gone: look further back (the oldest gone one if all are)
            self._marks.pop()
        else:
            return self._remember(head, now, lost)
        if lost is not None:
            lost = self._marks[-1][2]
        return self._remember(head, now, lost)

    def _remember(self, head: Any, now: datetime, lost: datetime | None) -> datetime | None:
        self._marks.append((int(head["number"]), bytes(head["hash"]), now))
        return lost


def _hash_of(w3: Web3, number: int) -> bytes | None:
    try:
        block: Any = w3.eth.get_block(number)
    except BlockNotFound:
        return None
    return bytes(block["hash"])


async def reconcile(
    tasks: TaskStore,
    payments: Payments,
    older_than: float = 30.0,
    watch: ChainWatch | None = None,
    alive: Collection[str] | None = None,
) -> list[Task]:
    """Finish the settlements a hire left pending, and (with a ``watch``) reopen the
    ones the chain lost (a periodic job).

    Pending: only tasks whose result is stored and that no request has touched for
    ``older_than`` seconds: each is settled, found settled on chain, or failed
    uncharged once its authorization expired. Orphans (with ``alive``, the ids of the
    live replicas): every in-flight task of a replica that died, resolved as at start.
    Lost: when ``watch`` finds that the chain lost blocks, every task settled since it
    last looked intact is re-checked.
    """
    resolved = []
    if watch is not None:
        lost_since = await asyncio.to_thread(watch.lost_since, payments.chain.w3)
        if lost_since is not None:
            log.warning("the chain lost blocks seen at %s; re-checking settlements", lost_since)
            resolved += await recheck(tasks, payments, lost_since)
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    for task in await asyncio.to_thread(tasks.in_flight):
        orphan = alive is not None and task.owner is not None and task.owner not in alive
        if orphan:  # its replica died: whatever state it is in, nobody else will finish it
            resolved.append(await _resolve(tasks, payments, task))
            continue
        updated = task.updated_at if task.updated_at.tzinfo else task.updated_at.replace(tzinfo=UTC)
        # A voucher call in any state: its channel's reservation tells whether it is still
        # served (an ``exact`` call before its result has no such lease: start-up only).
        voucher = task.scheme == BATCH_SCHEME
        if (task.state is TaskState.SUCCEEDED or voucher) and updated < cutoff:
            moved = await _resolve(tasks, payments, task)
            if moved.state is not task.state:
                resolved.append(moved)
    return resolved
