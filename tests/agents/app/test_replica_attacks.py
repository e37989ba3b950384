"""Replicas that undo each other's work: a replica that starts (or the reconcile job)
must not fail, or leave unpaid, a voucher call another replica is still serving."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from x402 import x402Client
from x402.http.clients.httpx import x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.batch_settlement.client.config import BatchSettlementEvmSchemeOptions
from x402.mechanisms.evm.batch_settlement.client.scheme import BatchSettlementEvmScheme

import agents.runtime.skills
import agents.runtime.vouchers
from agents.app.database import open_database
from agents.app.http import create_app
from agents.runtime.recovery import reconcile
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.postgres import postgres_url

__all__ = ["postgres_url"]

pytestmark = pytest.mark.anyio
BASE = "http://agentdao.test"
HEADLINE = "/agents/scribe/skills/headline"
PRICE = 10_000


@pytest.fixture
def replicas(
    deployment: Deployment, chain: Chain, postgres_url: str, tmp_path: Path
) -> list[Runtime]:
    settings = deployment.settings.model_copy(update={"database_url": postgres_url})
    return [Runtime.open(settings, chain, open_database(settings)) for _ in range(2)]


def customer(index: int, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    stock = x402Client()
    options = BatchSettlementEvmSchemeOptions(salt="0x" + secrets.token_hex(32))
    stock.register(
        "eip155:*", BatchSettlementEvmScheme(EthAccountSigner(dev_account(index)), options)
    )
    stock.set_spend_controls(False)
    return httpx.AsyncClient(
        transport=x402AsyncTransport(stock, transport=transport), base_url=BASE, timeout=60
    )


async def test_a_replica_that_starts_leaves_the_calls_another_replica_serves_alone(
    replicas: list[Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replica 0 is running a paid call's model when replica 1 starts (a restart, a
    rolling deploy, a new machine). Replica 1's start-up recovery must not fail that call
    as "the runtime stopped": replica 0 is alive, and its customer is owed the answer."""
    model_started, finish_model = asyncio.Event(), asyncio.Event()
    real = agents.runtime.skills.arun_skill

    async def slow(*args: Any, **kwargs: Any) -> Any:
        model_started.set()
        await finish_model.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", slow)
    serving = httpx.ASGITransport(app=create_app(replicas[0]), raise_app_exceptions=False)
    async with customer(7, serving) as client:
        call = asyncio.create_task(client.post(HEADLINE, json={"input": "long work"}))
        await model_started.wait()
        await replicas[1].start()  # the other replica comes up meanwhile
        finish_model.set()
        answer = await call
        assert answer.status_code == 200, answer.text
        (task,) = replicas[0].tasks.list(limit=5)
        assert task.state is TaskState.SETTLED

        # and the customer's channel is free for its next call
        monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", real)
        again = await client.post(HEADLINE, json={"input": "next"})
        assert again.status_code == 200, again.text


async def test_the_reconcile_job_never_charges_a_call_it_failed(
    replicas: list[Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The result of a deposit call is stored and its deposit is on its way to the chain
    (a real chain can take the facilitator's whole 30 s confirmation timeout); the
    reconcile job of any replica sees a ``succeeded`` voucher task 30 s old whose channel
    is not charged yet and fails it. The deposit then lands and the channel is charged:
    the customer paid for a call whose answer it never gets."""
    from treasury.batch import BatchSettlement

    charging, resume = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    real_charge = BatchSettlement.charge

    def slow_charge(self: BatchSettlement, *args: Any) -> Any:
        loop.call_soon_threadsafe(charging.set)
        asyncio.run_coroutine_threadsafe(resume.wait(), loop).result()
        return real_charge(self, *args)

    monkeypatch.setattr(BatchSettlement, "charge", slow_charge)
    serving = httpx.ASGITransport(app=create_app(replicas[0]), raise_app_exceptions=False)
    async with customer(7, serving) as client:
        call = asyncio.create_task(client.post(HEADLINE, json={"input": "paid call"}))
        await charging.wait()
        # What the job (leased, so on any replica) does once the task is 30 s old.
        other = replicas[1]
        await reconcile(other.tasks, other.payments, older_than=0)
        resume.set()
        answer = await call

    (task,) = replicas[0].tasks.list(limit=5)
    assert replicas[0].payments.batch is not None
    store = replicas[0].payments.batch.channels(replicas[0].agent("scribe").addresses.treasury)
    (channel,) = store.list()
    charged = int(channel.charged_cumulative_amount)
    if charged:  # the customer paid: it must have the answer
        assert answer.status_code == 200, answer.text
        assert task.state is TaskState.SETTLED
    else:
        assert task.state is not TaskState.SETTLED


async def test_a_call_that_outlived_its_reservation_is_failed_and_never_charged(
    replicas: list[Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replica serving a voucher call hangs past the channel's reservation (or died):
    the reconcile job fails the call and frees the channel, and a late charge by the
    serving replica then fails, so the customer is never charged for a failed call."""
    from x402.mechanisms.evm.batch_settlement.server.storage import Channel

    model_started, finish_model = asyncio.Event(), asyncio.Event()
    real = agents.runtime.skills.arun_skill

    async def hung(*args: Any, **kwargs: Any) -> Any:
        model_started.set()
        await finish_model.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", hung)
    serving = httpx.ASGITransport(app=create_app(replicas[0]), raise_app_exceptions=False)
    assert replicas[0].payments.batch is not None
    store = replicas[0].payments.batch.channels(replicas[0].agent("scribe").addresses.treasury)
    async with customer(7, serving) as client:
        call = asyncio.create_task(client.post(HEADLINE, json={"input": "hung"}))
        await model_started.wait()
        (channel,) = store.list()

        def expire(current: Channel | None) -> Channel | None:
            assert current is not None
            assert current.pending_request is not None
            aged = current.copy()
            aged.pending_request = type(current.pending_request)(
                current.pending_request.pending_id, current.pending_request.signed_max_claimable, 0
            )
            return aged

        store.update_channel(channel.channel_id, expire)  # the reservation's time is up
        other = replicas[1]
        (failed,) = await reconcile(other.tasks, other.payments, older_than=0)
        assert failed.state is TaskState.FAILED
        finish_model.set()
        answer = await call

    assert answer.status_code == 402, answer.text
    (task,) = replicas[0].tasks.list(limit=5)
    assert task.state is TaskState.FAILED
    assert all(int(c.charged_cumulative_amount) == 0 for c in store.list())


async def test_a_replica_that_starts_leaves_an_exact_call_another_replica_serves_alone(
    replicas: list[Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a call paid by one ``exact`` transfer: replica 1's start-up recovery
    fails the task replica 0 is running the model for, and replica 0's customer gets a
    500 for work that was done (and the agent is not paid for it)."""
    import agents.runtime.hiring
    from tests.support.customers import paying_client

    model_started, finish_model = asyncio.Event(), asyncio.Event()
    real = agents.runtime.skills.arun_skill

    async def slow(*args: Any, **kwargs: Any) -> Any:
        model_started.set()
        await finish_model.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", slow)
    await replicas[0].start()  # what the app's lifespan does: it takes its replica lease
    serving = httpx.ASGITransport(app=create_app(replicas[0]), raise_app_exceptions=False)
    async with paying_client(6, serving, BASE) as client:
        call = asyncio.create_task(client.post(HEADLINE, json={"input": "long work"}))
        await model_started.wait()
        await replicas[1].start()
        finish_model.set()
        answer = await call
    assert answer.status_code == 200, answer.text
