"""One paid skill call: quote, claim the payment, run the skill, settle, answer.

The customer is charged only after the result is stored: the payment is verified
first, the task runs with the live config of the moment it was quoted, and the
authorization is settled on chain only once the task succeeded. A payment opens
at most one task; presenting it again returns that task.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from x402.schemas import PaymentPayload, PaymentRequirements

from agents.core.errors import (
    AgentDaoError,
    AgentPausedError,
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


class Receipt(BaseModel):
    """Proof of a paid call: the task, the settlement transaction and the config used."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    settlement_tx: str
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
    requirements = runtime.payments.requirements(served.addresses.treasury, live_skill.price)
    return Quote(served, live_skill, requirements)


async def hire(runtime: Runtime, offer: Quote, task_input: str, payment: PaymentPayload) -> Task:
    """Run a paid call and return its settled task (or the task this payment already paid).

    Raises:
        PaymentRejectedError: the payment does not pay for this call; nothing charged.
        PaymentInUseError: the payment is paying for a task still in flight.
        TaskFailedError: the model call failed; nothing charged.
        SettlementError: the result exists but the payment could not be settled;
            nothing charged.
    """
    tasks, payments = runtime.tasks, runtime.payments
    auth = Authorization.of(payment)
    existing = tasks.find_payment(auth.payer, auth.nonce)
    if existing is not None:
        return await _replay(tasks, payments, existing, offer, auth)
    auth = payments.check(payment, offer.requirements)
    live = offer.agent.live
    task, created = tasks.open(
        NewTask(
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
    )
    if not created:  # the same payment arrived twice at once; the other one owns it
        return await _replay(tasks, payments, task, offer, auth)
    try:
        await payments.verify(payment, offer.requirements)
    except PaymentRejectedError:
        tasks.discard(task.id)
        raise
    tasks.move(task.id, TaskState.VERIFIED)
    tasks.move(task.id, TaskState.RUNNING)
    try:
        chat_model = build_chat_model(live.model, float(live.temperature), runtime.model_settings)
        result = await arun_skill(
            chat_model, live.system_prompt, offer.skill.instructions, task_input
        )
    except AgentDaoError as exc:
        tasks.move(task.id, TaskState.FAILED, error=exc.message)
        raise TaskFailedError(task.id, exc.message) from exc
    except Exception as exc:  # an unexpected bug must still leave the task failed, unpaid
        tasks.move(task.id, TaskState.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    task = tasks.move(task.id, TaskState.SUCCEEDED, result=result.text, model=result.model)
    return await settle_task(tasks, payments, task)


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
            tasks.move(task.id, TaskState.SETTLE_FAILED, error=exc.reason)
            raise SettlementError(exc.reason, task.id) from exc
    try:
        return tasks.move(task.id, TaskState.SETTLED, settlement_tx=tx)
    except InvalidTransitionError:  # a concurrent retry of the same payment settled it
        settled = tasks.get(task.id)
        if settled is None or settled.state is not TaskState.SETTLED:
            raise
        return settled


def _spent_in(payments: Payments, task: Task) -> str | None:
    """The transaction that spent the task's authorization, if it was spent."""
    if not payments.is_used(task.payer, task.nonce):
        return None
    return payments.settlement_of(task.payer, task.nonce)


async def _replay(
    tasks: TaskStore, payments: Payments, task: Task, offer: Quote, auth: Authorization
) -> Task:
    """Answer a payment that already opened ``task``: its result, never a second charge.

    A task whose result exists but whose settlement is pending is settled now (the
    authorization can be spent once only, so a concurrent settlement is harmless)."""
    if Authorization.of(PaymentPayload.model_validate_json(task.payment)) != auth:
        # Same payer and nonce but another authorization: not the customer's retry.
        raise PaymentRejectedError("reused", "this authorization nonce was already used")
    if (task.agent, task.skill) != (offer.agent.name, offer.skill.name):
        raise PaymentRejectedError(
            "reused", f"this payment already paid for {task.agent}/{task.skill} (task {task.id})"
        )
    if task.state is TaskState.SETTLED:
        return task
    if task.state is TaskState.SUCCEEDED:
        return await settle_task(tasks, payments, task)
    if task.state in IN_FLIGHT:
        raise PaymentInUseError(task.id)
    if task.state is TaskState.SETTLE_FAILED:
        raise SettlementError(task.error or "unknown", task.id)
    raise TaskFailedError(task.id, task.error or "unknown")
