"""One paid skill call: quote, claim the payment, run the skill, settle, answer.

The customer is charged only after the result is stored: the payment is verified
first, the task runs with the live config of the moment it was quoted, and the
authorization is settled on chain only once the task succeeded. A payment opens
at most one task; the customer presenting it again (same call, same input) gets that
task, anyone else a refusal. A payer's payments run the model only while its balance
covers all of them.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from x402.schemas import PaymentPayload, PaymentRequirements

from agents.core.errors import (
    AgentDaoError,
    AgentPausedError,
    ChainUnreachableError,
    InvalidTransitionError,
    PaymentInUseError,
    PaymentRejectedError,
    SettlementError,
    SettlementPendingError,
    TaskFailedError,
    UnknownSkillError,
)
from agents.core.live_config import LiveSkill
from agents.runtime.models import build_chat_model
from agents.runtime.runtime import Runtime, ServedAgent
from agents.runtime.skills import arun_skill
from agents.runtime.tasks import IN_FLIGHT, NewTask, Task, TaskState, TaskStore
from treasury.payments import Authorization, Payments

__all__ = ["Quote", "Receipt", "hire", "quote", "settle_task"]


@dataclass(frozen=True, slots=True)
class Quote:
    """What one call of a skill costs right now, and what it will run with."""

    agent: ServedAgent
    skill: LiveSkill
    requirements: PaymentRequirements
    """Paying by one ``exact`` transfer."""
    by_voucher: PaymentRequirements | None = None
    """Paying by voucher on a prepaid channel (``batch-settlement``), when offered."""

    @property
    def accepts(self) -> list[PaymentRequirements]:
        """Every way to pay, cheapest for both sides first (what a 402 offers)."""
        return [r for r in (self.by_voucher, self.requirements) if r is not None]


class Receipt(BaseModel):
    """Proof of a paid call: the task, the settlement transaction and the config used."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    settlement_tx: str
    """``exact``: the transfer's transaction. ``batch-settlement``:
    ``voucher:<channel id>:<signed cumulative amount>``, the voucher this call was charged
    to (the money reaches the treasury when the runtime claims it)."""
    scheme: str = "exact"
    """How the call was paid: ``exact`` or ``batch-settlement``."""
    payer: str
    amount: int
    config_version: int
    config_hash: str
    agent: str
    skill: str

    @classmethod
    def of(cls, task: Task) -> Receipt:
        """The receipt of a settled task."""
        if task.state is not TaskState.SETTLED or task.settlement_tx is None:
            raise ValueError(f"task {task.id} is {task.state.value}, not settled")
        return cls(
            task_id=task.id,
            settlement_tx=task.settlement_tx,
            scheme=task.scheme,
            payer=task.payer,
            amount=task.amount,
            config_version=task.config_version,
            config_hash=task.config_hash,
            agent=task.agent,
            skill=task.skill,
        )


def quote(runtime: Runtime, agent: str, skill: str) -> Quote:
    """The price of one call of ``agent``'s ``skill`` under its live config.

    Raises:
        UnknownAgentError, UnknownSkillError: nothing to sell.
        AgentPausedError: the agent takes no payments now.
    """
    served = runtime.agent(agent)
    live_skill = served.live.skill(skill)
    if live_skill is None:
        raise UnknownSkillError(agent, skill)
    if served.live.paused:
        raise AgentPausedError(agent)
    payments = runtime.payments
    treasury = served.addresses.treasury
    requirements = payments.requirements(treasury, live_skill.price)
    by_voucher = None
    if payments.batch is not None:
        by_voucher = payments.batch.requirements(
            treasury, live_skill.price, requirements.max_timeout_seconds
        )
    return Quote(served, live_skill, requirements, by_voucher)


async def hire(runtime: Runtime, offer: Quote, task_input: str, payment: PaymentPayload) -> Task:
    """Run a paid call and return its settled task (or the task this payment already paid).

    A payment already seen returns its task only to the customer's retry: the same
    authorization, for the same skill, with the same input. Anyone else presenting it
    (it is public in the settlement's calldata) is refused as ``reused``.

    Raises:
        PaymentRejectedError: the payment does not pay for this call; nothing charged.
            ``insufficient_funds`` also when the payer's balance does not cover this
            payment on top of its others still to be settled.
        PaymentInUseError: the payment is paying for a task still in flight.
        TaskFailedError: the model call failed; nothing charged.
        SettlementError: the result exists but the payment could not be settled;
            nothing charged.
        SettlementPendingError: the result is held until the payment settles.
        ChainUnreachableError: the chain does not answer; nothing charged (a task whose
            result exists is settled by a retry or the reconcile job).
    """
    tasks, payments = runtime.tasks, runtime.payments
    live = offer.agent.live

    def open_task() -> tuple[Task, bool, Authorization]:
        """Find the task this payment opened, or check the payment and open one: one trip
        to a worker thread for the database and the chain's clock."""
        auth = Authorization.of(payment)
        existing = tasks.find_payment(auth.payer, auth.nonce)
        if existing is not None:
            return existing, False, auth
        auth = payments.check(payment, offer.requirements)
        new = NewTask(
            agent=offer.agent.name,
            skill=offer.skill.name,
            input=task_input,
            payer=auth.payer,
            nonce=auth.nonce,
            amount=auth.value,
            valid_before=auth.valid_before,
            config_version=live.version,
            config_hash=live.config_hash,
            payment=payment.model_dump_json(by_alias=True),
            requirements=offer.requirements.model_dump_json(by_alias=True),
        )
        task, created = tasks.open(new)
        return task, created, auth

    task, created, auth = await asyncio.to_thread(open_task)
    if not created:  # seen before, or the same payment arrived twice at once
        return await _replay(tasks, payments, task, offer, auth, task_input)
    try:
        await payments.verify(payment, offer.requirements)
        await _commit_funds(tasks, payments, task)
    except Exception:
        # Never accepted: forget it, or a forged payment would block the payer's nonce.
        await asyncio.to_thread(tasks.discard, task.id)
        raise
    try:
        chat_model = build_chat_model(live.model, float(live.temperature), runtime.model_settings)
        result = await arun_skill(
            chat_model, live.system_prompt, offer.skill.instructions, task_input
        )
    except AgentDaoError as exc:
        await asyncio.to_thread(tasks.move, task.id, TaskState.FAILED, error=exc.message)
        raise TaskFailedError(task.id, exc.message) from exc
    except Exception as exc:  # an unexpected bug must still leave the task failed, unpaid
        error = f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(tasks.move, task.id, TaskState.FAILED, error=error)
        raise
    task = await asyncio.to_thread(
        functools.partial(
            tasks.move,
            task.id,
            TaskState.SUCCEEDED,
            source=TaskState.RUNNING,
            result=result.text,
            model=result.model,
        )
    )
    return await _settle_for_customer(tasks, payments, task)


_payer_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
"""One lock per payer while its funds are counted; a lock lives only while in use, so
it never outlives the event loop it was used on."""


async def _commit_funds(tasks: TaskStore, payments: Payments, task: Task) -> None:
    """Move a verified payment's task to ``running`` if the payer's balance covers it on
    top of every other payment of its that the runtime will settle.

    The facilitator checks each payment against the balance alone, so ten payments from
    a wallet that holds one price would all pass and run the model ten times.

    Raises:
        PaymentRejectedError: ``insufficient_funds``.
    """
    lock = _payer_locks.get(task.payer)
    if lock is None:
        lock = _payer_locks.setdefault(task.payer, asyncio.Lock())
    async with lock:  # count and claim in one step, or two payments count the same funds
        # Committed first, then the balance: a settlement in between counts twice (a
        # refusal at the margin), never not at all.
        await asyncio.to_thread(_claim_funds, tasks, payments, task)


def _claim_funds(tasks: TaskStore, payments: Payments, task: Task) -> None:
    """Count, compare and claim in one worker-thread trip (the caller holds the payer's
    lock): the task moves to ``verified`` and on to ``running``, or nothing changes."""
    committed = tasks.committed_amount(task.payer, task.id)
    # Alone, the payment's own verification already compared it with the balance (the
    # facilitator simulates the transfer); only payments in flight beside it need a read.
    balance = payments.balance_of(task.payer) if committed else task.amount
    if committed + task.amount > balance:
        token = payments.token
        raise PaymentRejectedError(
            "insufficient_funds",
            f"the payer holds {token.dollars(balance)} {token.symbol} and "
            f"{token.dollars(committed)} of it is promised to payments still in flight",
        )
    tasks.move(task.id, TaskState.VERIFIED)
    tasks.move(task.id, TaskState.RUNNING)


async def settle_task(tasks: TaskStore, payments: Payments, task: Task) -> Task:
    """Settle a succeeded task's payment and mark it settled.

    If the facilitator reports a failure but the authorization was spent on chain
    anyway (a receipt that timed out, a crash after broadcast), the task is settled
    with the transaction found on chain. A failure is final only once the
    authorization can no longer be spent (expired on chain); until then the task
    stays ``succeeded`` with its result held, because a transaction already
    broadcast may still land.

    Raises:
        SettlementPendingError: not settled yet, but it still may be.
        SettlementError: the payment can never settle; the task is ``settle_failed``.
        ChainUnreachableError: the chain does not answer; the task stays ``succeeded``.
    """
    payment = PaymentPayload.model_validate_json(task.payment)
    requirements = PaymentRequirements.model_validate_json(task.requirements)
    try:
        tx: str | None = await payments.settle(payment, requirements)
    except SettlementError as exc:
        tx = await asyncio.to_thread(_spent_in, payments, task)
        if tx is None:
            if await asyncio.to_thread(payments.still_spendable, task.valid_before):
                raise SettlementPendingError(exc.reason, task.id) from exc
            await asyncio.to_thread(tasks.move, task.id, TaskState.SETTLE_FAILED, error=exc.reason)
            raise SettlementError(exc.reason, task.id) from exc
    try:
        return await asyncio.to_thread(tasks.move, task.id, TaskState.SETTLED, settlement_tx=tx)
    except InvalidTransitionError:  # a concurrent retry of the same payment settled it
        settled = await asyncio.to_thread(tasks.get, task.id)
        if settled is None or settled.state is not TaskState.SETTLED:
            raise
        return settled


async def _settle_for_customer(tasks: TaskStore, payments: Payments, task: Task) -> Task:
    """:func:`settle_task` for the customer waiting on the answer: a chain outage after the
    result exists is a pending settlement (202, the same payment finishes it), never
    "nothing charged" (the reconcile job may still settle it, so a new payment would pay
    twice)."""
    try:
        return await settle_task(tasks, payments, task)
    except ChainUnreachableError as exc:
        raise SettlementPendingError(f"the chain does not answer: {exc.message}", task.id) from exc


def _spent_in(payments: Payments, task: Task) -> str | None:
    """The transaction that spent the task's authorization, if it was spent."""
    if not payments.is_used(task.payer, task.nonce):
        return None
    return payments.settlement_of(task.payer, task.nonce)


async def _replay(
    tasks: TaskStore,
    payments: Payments,
    task: Task,
    offer: Quote,
    auth: Authorization,
    task_input: str,
) -> Task:
    """Answer a payment that already opened ``task``: its result, never a second charge.

    Only the customer's retry gets it. A settled authorization is public (it is the
    settlement's calldata), so each guard below refuses a stranger who rebuilt it; none
    of their messages names the task, whose id would open ``GET /tasks/{id}``.

    A task whose result exists but whose settlement is pending is settled now (the
    authorization can be spent once only, so a concurrent settlement is harmless)."""
    if Authorization.of(PaymentPayload.model_validate_json(task.payment)) != auth:
        # Same payer and nonce but another authorization: not the customer's retry.
        raise PaymentRejectedError("reused", "this authorization nonce was already used")
    if (task.agent, task.skill) != (offer.agent.name, offer.skill.name):
        raise PaymentRejectedError(
            "reused", f"this payment already paid for another call ({task.agent}/{task.skill})"
        )
    if task.input != task_input:
        # The input never goes on chain: only the customer can send it again.
        raise PaymentRejectedError("reused", "this payment already paid for another input")
    if task.state is TaskState.SETTLED:
        return task
    if task.state is TaskState.SUCCEEDED:
        return await _settle_for_customer(tasks, payments, task)
    if task.state in IN_FLIGHT:
        raise PaymentInUseError(task.id)
    if task.state is TaskState.SETTLE_FAILED:
        raise SettlementError(task.error or "unknown", task.id)
    raise TaskFailedError(task.id, task.error or "unknown")
