"""One skill call paid by a voucher on a prepaid channel (x402 ``batch-settlement``).

The voucher is checked and its channel reserved before the model runs; the call is
charged to the channel only once its result is stored, and a failed call releases the
channel uncharged (the customer's next voucher signs the same amount again). The
charge is a database write; the money reaches the treasury when the runtime claims
the channel's vouchers and settles them (:mod:`agents.runtime.claims`).

Replays need no task lookup: a voucher must sign exactly the channel's charged amount
plus the price, so one that was already charged no longer matches and is refused
with the channel's state (x402's corrective 402), never with another's result.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from dataclasses import dataclass

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
            # One task per attempt: a failed call leaves the channel where it was, so
            # the retry signs the same cumulative amount.
            nonce=f"{channel_id}:{cumulative}:{uuid.uuid4().hex}",
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

    task = await asyncio.to_thread(verify_and_open)
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
