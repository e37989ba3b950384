"""One skill call paid by a voucher on a prepaid channel (x402 ``batch-settlement``).

The voucher is checked and its channel reserved before the model runs; the call is
charged to the channel only once its result is stored, and a failed call releases the
channel uncharged (the customer's next voucher signs the same amount again). The
charge is a database write; the money reaches the treasury when the runtime claims
the channel's vouchers and settles them (``Runtime.claim_vouchers``).

A voucher must sign exactly the channel's charged amount plus the price, so one that
was already charged no longer matches: refused with the channel's state (x402's
corrective 402), unless it is the customer's retry of the very call it paid (same
voucher, skill and input, after a lost answer), which gets that call's answer again
and is not charged twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass

from x402.mechanisms.evm.batch_settlement.errors import ERR_CUMULATIVE_AMOUNT_MISMATCH
from x402.schemas import PaymentPayload, PaymentRequirements, SettleResponse

from agents.core.errors import (
    AgentDaoError,
    InvalidTransitionError,
    PaymentRejectedError,
    SettlementError,
    TaskFailedError,
)
from agents.core.live_config import LiveSkill
from agents.runtime.models import build_chat_model
from agents.runtime.runtime import Runtime, ServedAgent
from agents.runtime.skills import arun_skill
from agents.runtime.tasks import NewTask, Task, TaskState, TaskStore
from treasury.batch import BATCH_SCHEME, BatchSettlement, channel_of

__all__ = ["VoucherHire", "hire_by_voucher"]


@dataclass(frozen=True, slots=True)
class VoucherHire:
    """A call paid by voucher: its settled task and x402's answer for the customer's
    client (the channel's new state, in the ``PAYMENT-RESPONSE`` header)."""

    task: Task
    settlement: SettleResponse


async def hire_by_voucher(
    runtime: Runtime,
    agent: ServedAgent,
    skill: LiveSkill,
    requirements: PaymentRequirements,
    task_input: str,
    payment: PaymentPayload,
) -> VoucherHire:
    """Run a call paid by ``payment`` (a voucher, or a deposit and its first voucher).

    Raises:
        PaymentRejectedError: the voucher does not pay for this call (x402's reason,
            e.g. a cumulative amount that does not follow the channel, ``channel_busy``,
            too small a deposit); nothing charged.
        TaskFailedError: the model call failed; nothing charged.
        SettlementError: the result exists but the charge did not land (the channel
            moved on, or the deposit failed); nothing charged, the result withheld.
    """
    batch = runtime.payments.batch
    if batch is None or requirements.scheme != BATCH_SCHEME:
        raise PaymentRejectedError("unsupported_scheme", "this runtime takes no vouchers")
    channel_id, cumulative = channel_of(payment)
    tasks = runtime.tasks
    live = agent.live

    def verify_and_open() -> Task:
        batch.verify(payment, requirements)
        payer = str(payment.payload["channelConfig"]["payer"])
        new = NewTask(
            agent=agent.name,
            skill=skill.name,
            input=task_input,
            payer=payer,
            # One task per attempt (a failed call leaves the channel where it was, so
            # the retry signs the same cumulative amount), told apart by its reservation.
            nonce=f"{channel_id}:{cumulative}:{batch.reservation(payment, requirements)}",
            amount=int(requirements.amount),
            valid_before=0,
            config_version=live.version,
            config_hash=live.config_hash,
            payment=payment.model_dump_json(by_alias=True),
            requirements=requirements.model_dump_json(by_alias=True),
            scheme=BATCH_SCHEME,
        )
        try:
            task, _ = tasks.open(new)
            tasks.move(task.id, TaskState.VERIFIED)
            return tasks.move(task.id, TaskState.RUNNING)
        except BaseException:
            batch.release(payment, requirements)
            raise

    try:
        task = await asyncio.to_thread(verify_and_open)
    except PaymentRejectedError as exc:
        if exc.reason != ERR_CUMULATIVE_AMOUNT_MISMATCH:
            raise
        # Charged already? Then this is the customer's retry of a call whose answer it
        # lost: the answer, not a second charge.
        answered = await asyncio.to_thread(
            _answered, tasks, payment, channel_id, cumulative, agent.name, skill.name, task_input
        )
        if answered is None:
            raise
        return answered
    try:
        chat_model = build_chat_model(live.model, float(live.temperature), runtime.model_settings)
        result = await arun_skill(chat_model, live.system_prompt, skill.instructions, task_input)
    except BaseException as exc:
        error = exc.message if isinstance(exc, AgentDaoError) else f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(_fail, batch, payment, requirements, tasks, task.id, error)
        if isinstance(exc, AgentDaoError):
            raise TaskFailedError(task.id, error) from exc
        raise
    return await asyncio.to_thread(
        _charge, batch, payment, requirements, tasks, task.id, result.text, result.model
    )


def _answered(
    tasks: TaskStore,
    payment: PaymentPayload,
    channel_id: str,
    cumulative: int,
    agent: str,
    skill: str,
    task_input: str,
) -> VoucherHire | None:
    """The settled call this very voucher paid, presented again for the same call and
    input (the customer's retry after a lost answer), with x402's answer for its client;
    None if there is none.

    Only the same signed voucher, for the same skill and the same input, gets it: a
    voucher's signature may be seen by others (a corrective 402 shows the channel's
    latest), the input never leaves the customer and the runtime.
    """
    try:
        payer = str(payment.payload["channelConfig"]["payer"])
        signature = str(payment.payload["voucher"]["signature"]).lower()
    except (KeyError, TypeError):
        return None
    for task in tasks.voucher_tasks(payer, channel_id, cumulative):
        if task.state is not TaskState.SETTLED or (task.agent, task.skill, task.input) != (
            agent,
            skill,
            task_input,
        ):
            continue
        paid = PaymentPayload.model_validate_json(task.payment)
        if str(paid.payload["voucher"].get("signature", "")).lower() != signature:
            continue
        settlement = SettleResponse(
            success=True,
            payer=payer.lower(),
            transaction="",
            network=paid.accepted.network,
            amount="",
            extra={
                "channelState": {
                    "channelId": channel_id,
                    "chargedCumulativeAmount": str(cumulative),
                },
                "chargedAmount": str(task.amount),
            },
        )
        return VoucherHire(task, settlement)
    return None


def _fail(
    batch: BatchSettlement,
    payment: PaymentPayload,
    requirements: PaymentRequirements,
    tasks: TaskStore,
    task_id: str,
    error: str,
) -> None:
    batch.release(payment, requirements)
    # Recovery may have failed it already (its reservation expired).
    with contextlib.suppress(InvalidTransitionError):
        tasks.move(task_id, TaskState.FAILED, error=error)


def _charge(
    batch: BatchSettlement,
    payment: PaymentPayload,
    requirements: PaymentRequirements,
    tasks: TaskStore,
    task_id: str,
    result: str,
    model: str,
) -> VoucherHire:
    """Store the result, then charge the channel, then release the result: one worker-
    thread trip. A charge refused (the channel moved on) fails the task uncharged."""
    move = functools.partial(tasks.move, task_id)
    try:
        move(TaskState.SUCCEEDED, source=TaskState.RUNNING, result=result, model=model)
    except InvalidTransitionError as exc:
        # Recovery failed the call: it outlived its channel reservation, which recovery
        # cleared, so it can no longer be charged.
        batch.release(payment, requirements)
        raise SettlementError("the call outlived its channel reservation", task_id) from exc
    try:
        charge = batch.charge(payment, requirements)
    except SettlementError as exc:
        # Recovery may have failed it meanwhile: uncharged either way.
        with contextlib.suppress(InvalidTransitionError):
            move(TaskState.SETTLE_FAILED, error=exc.reason)
        raise SettlementError(exc.reason, task_id) from exc
    try:
        task = move(TaskState.SETTLED, settlement_tx=charge.reference)
    except InvalidTransitionError:
        # Recovery found the charge and settled the task first.
        found = tasks.get(task_id)
        if found is None or found.state is not TaskState.SETTLED:
            raise
        task = found
    return VoucherHire(task, charge.response)
