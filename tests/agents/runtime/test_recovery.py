"""After a crash, every task in flight is settled or failed, and nobody pays without a result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col
from x402.schemas import PaymentPayload, PaymentRequirements

from agents.app.database import open_database
from agents.runtime.hiring import settle_task
from agents.runtime.recovery import LOST_RESULT, RECHECK_WINDOW, ChainWatch, reconcile, recover
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import NewTask, Task, TaskState
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.customers import sign_payment
from treasury.payments import CLOCK_CACHE_SECONDS, Authorization

pytestmark = pytest.mark.anyio

PAYER = dev_account(3).address
PRICE = 10_000


@pytest.fixture
def runtime(deployment: Deployment, chain: Chain, tmp_path: Path) -> Runtime:
    settings = deployment.settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'runtime.db'}"}
    )
    return Runtime.open(settings, chain, open_database(settings))


async def task_in(runtime: Runtime, state: TaskState, valid_for: int = 300) -> Task:
    """A task left in ``state`` by a crash, with a real signed payment."""
    wanted: PaymentRequirements = runtime.payments.requirements(
        runtime.agent("scribe").addresses.treasury, PRICE
    ).model_copy(update={"max_timeout_seconds": valid_for})
    payment = await sign_payment(3, wanted)
    auth = Authorization.of(payment)
    task, _ = runtime.tasks.open(
        NewTask(
            agent="scribe",
            skill="headline",
            input="x",
            payer=auth.payer,
            nonce=auth.nonce,
            amount=auth.value,
            valid_before=auth.valid_before,
            config_version=1,
            config_hash="0x",
            payment=payment.model_dump_json(by_alias=True),
            requirements=wanted.model_dump_json(by_alias=True),
        )
    )
    path = [TaskState.VERIFIED, TaskState.RUNNING, TaskState.SUCCEEDED]
    for step in path[: path.index(state) + 1] if state in path else []:
        fields: dict[str, Any] = {"result": "the answer"} if step is TaskState.SUCCEEDED else {}
        task = runtime.tasks.move(task.id, step, **fields)
    return task


@pytest.mark.parametrize("state", [TaskState.RECEIVED, TaskState.VERIFIED, TaskState.RUNNING])
async def test_a_task_without_its_result_fails_and_is_never_settled(
    runtime: Runtime, state: TaskState
) -> None:
    task = await task_in(runtime, state)
    before = runtime.payments.balance_of(PAYER)
    [resolved] = await recover(runtime.tasks, runtime.payments)
    assert resolved.state is TaskState.FAILED
    assert resolved.error == LOST_RESULT
    assert not runtime.payments.is_used(task.payer, task.nonce)
    assert runtime.payments.balance_of(PAYER) == before


async def test_a_succeeded_task_is_settled_at_restart(runtime: Runtime) -> None:
    task = await task_in(runtime, TaskState.SUCCEEDED)
    before = runtime.payments.balance_of(PAYER)
    [resolved] = await recover(runtime.tasks, runtime.payments)
    assert resolved.state is TaskState.SETTLED
    assert resolved.result == "the answer"
    assert resolved.settlement_tx == runtime.payments.settlement_of(task.payer, task.nonce)
    assert runtime.payments.balance_of(PAYER) == before - PRICE


async def test_a_task_settled_just_before_the_crash_is_marked_settled_not_charged_again(
    runtime: Runtime,
) -> None:
    task = await task_in(runtime, TaskState.SUCCEEDED)
    payment, wanted = task_payment(task)
    tx = await runtime.payments.settle(payment, wanted)  # broadcast, then the crash
    before = runtime.payments.balance_of(PAYER)
    [resolved] = await recover(runtime.tasks, runtime.payments)
    assert (resolved.state, resolved.settlement_tx) == (TaskState.SETTLED, tx)
    assert runtime.payments.balance_of(PAYER) == before


async def test_a_succeeded_task_whose_authorization_expired_fails_not_charged(
    runtime: Runtime,
) -> None:
    task = await task_in(runtime, TaskState.SUCCEEDED, valid_for=3)
    before = runtime.payments.balance_of(PAYER)
    [resolved] = await recover(runtime.tasks, runtime.payments)
    assert resolved.state is TaskState.FAILED
    assert "expired" in (resolved.error or "")
    assert not runtime.payments.is_used(task.payer, task.nonce)
    assert runtime.payments.balance_of(PAYER) == before


async def test_finished_tasks_are_left_alone(runtime: Runtime) -> None:
    task = await task_in(runtime, TaskState.RUNNING)
    runtime.tasks.move(task.id, TaskState.FAILED, error="model down")
    assert await recover(runtime.tasks, runtime.payments) == []
    again = runtime.tasks.get(task.id)
    assert again is not None
    assert again.error == "model down"


def task_payment(task: Task) -> tuple[PaymentPayload, PaymentRequirements]:
    return (
        PaymentPayload.model_validate_json(task.payment),
        PaymentRequirements.model_validate_json(task.requirements),
    )


def snapshot(chain: Chain) -> str:
    return str(chain.w3.provider.make_request("evm_snapshot", [])["result"])  # type: ignore[arg-type]


def revert(chain: Chain, snapshot_id: str) -> None:
    assert chain.w3.provider.make_request("evm_revert", [snapshot_id])["result"]  # type: ignore[arg-type]


async def hired(runtime: Runtime, valid_for: int = 300) -> Task:
    """A task that went all the way to settled, as a hire does."""
    task = await task_in(runtime, TaskState.SUCCEEDED, valid_for)
    settled = await settle_task(runtime.tasks, runtime.payments, task)
    assert settled.state is TaskState.SETTLED
    return settled


async def test_a_settlement_the_chain_lost_is_reopened_and_settled_again(
    runtime: Runtime, chain: Chain
) -> None:
    before = runtime.payments.balance_of(PAYER)
    lost = snapshot(chain)
    task = await hired(runtime)
    revert(chain, lost)  # the node restarts from state saved before the settlement
    assert not runtime.payments.landed(task.settlement_tx or "")
    [resolved] = await recover(runtime.tasks, runtime.payments)
    assert resolved.id == task.id
    assert resolved.state is TaskState.SETTLED
    # (the same nonce and calldata may sign to the same hash: landing is what counts)
    assert runtime.payments.landed(resolved.settlement_tx or "")
    assert runtime.payments.balance_of(PAYER) == before - PRICE


async def test_a_lost_settlement_whose_authorization_expired_fails_uncharged(
    runtime: Runtime, chain: Chain
) -> None:
    before = runtime.payments.balance_of(PAYER)
    lost = snapshot(chain)
    task = await hired(runtime, valid_for=30)  # room for a slow, loaded machine to settle
    revert(chain, lost)
    # past the authorization's end by chain time, wherever the session left the chain's clock
    chain_now = int(chain.w3.eth.get_block("latest")["timestamp"])
    advance_time(chain.w3, max(0, task.valid_before - chain_now) + 60)
    await asyncio.sleep(CLOCK_CACHE_SECONDS)  # the runtime reads the chain's new clock
    [resolved] = await recover(runtime.tasks, runtime.payments)
    assert resolved.state is TaskState.FAILED
    assert not resolved.charged
    assert runtime.payments.balance_of(PAYER) == before
    assert runtime.tasks.get(task.id) == resolved


async def test_settlements_still_on_chain_are_left_alone(runtime: Runtime) -> None:
    task = await hired(runtime)
    assert await recover(runtime.tasks, runtime.payments) == []
    assert runtime.tasks.get(task.id) == task


async def test_the_reconcile_job_notices_lost_blocks_and_reopens_what_they_held(
    runtime: Runtime, chain: Chain
) -> None:
    watch = ChainWatch()
    assert await reconcile(runtime.tasks, runtime.payments, watch=watch) == []
    lost = snapshot(chain)
    task = await hired(runtime)
    assert await reconcile(runtime.tasks, runtime.payments, watch=watch) == []  # intact
    revert(chain, lost)
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]  # a new block there
    [resolved] = await reconcile(runtime.tasks, runtime.payments, watch=watch)
    assert resolved.id == task.id
    assert resolved.state is TaskState.SETTLED
    assert runtime.payments.landed(resolved.settlement_tx or "")
    assert await reconcile(runtime.tasks, runtime.payments, watch=watch) == []


async def test_a_chain_that_lost_more_than_the_window_has_every_lost_settlement_reopened(
    runtime: Runtime, chain: Chain
) -> None:
    """A node restarted from a save older than the last one (the kill tore its last save)
    lost settlements from well before the newest: each is found, not just the window's."""
    before = runtime.payments.balance_of(PAYER)
    lost = snapshot(chain)
    old, new = await hired(runtime), await hired(runtime)
    long_ago = datetime.now(UTC) - timedelta(seconds=3 * RECHECK_WINDOW)
    with Session(runtime.tasks.engine) as session:  # `old` settled long before `new`
        session.execute(update(Task).where(col(Task.id) == old.id).values(updated_at=long_ago))
        session.commit()
    revert(chain, lost)
    resolved = await recover(runtime.tasks, runtime.payments)
    assert {task.id for task in resolved} == {old.id, new.id}
    for task in resolved:
        assert task.state is TaskState.SETTLED
        assert runtime.payments.landed(task.settlement_tx or "")
    assert runtime.payments.balance_of(PAYER) == before - 2 * PRICE
