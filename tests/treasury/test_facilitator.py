"""The remote facilitator (what runs when ``AGENTDAO_FACILITATOR_URL`` is set) against a
real x402 facilitator service over HTTP, in front of the test anvil."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from agents.app.database import open_database
from agents.app.http import create_app
from agents.core.errors import SettlementPendingError
from agents.runtime.hiring import hire, quote
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.customers import header, paying_client, plain_client, sign_payment
from tests.support.facilitator_server import FacilitatorServer
from treasury.facilitator import RemoteFacilitator
from treasury.payments import network_of

pytestmark = pytest.mark.anyio

CUSTOMER = 2
HEADLINE = 10_000  # scribe/headline: 0.01 USDC


@pytest.fixture
def facilitator(chain: Chain) -> Iterator[FacilitatorServer]:
    """A facilitator per test: its signer counts nonces, and the chain is reverted after
    every test."""
    with FacilitatorServer(chain.rpc_url, network_of(chain.chain_id)) as server:
        yield server


@pytest.fixture
def runtime(
    deployment: Deployment, chain: Chain, facilitator: FacilitatorServer, tmp_path: Path
) -> Runtime:
    settings = deployment.settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'runtime.db'}",
            "facilitator_url": facilitator.url,
        }
    )
    return Runtime.open(settings, chain, open_database(settings))


@pytest.fixture
async def app_transport(runtime: Runtime) -> AsyncIterator[httpx.ASGITransport]:
    yield httpx.ASGITransport(app=create_app(runtime))
    await runtime.stop()


def balance(runtime: Runtime, who: str) -> int:
    return runtime.payments.balance_of(who)


async def test_the_runtime_with_a_facilitator_url_speaks_to_that_service(
    runtime: Runtime,
) -> None:
    assert isinstance(runtime.payments.facilitator, RemoteFacilitator)
    assert runtime.payments.facilitator.url == runtime.settings.facilitator_url


async def test_a_hire_is_verified_and_settled_over_http_and_moves_the_money(
    runtime: Runtime, app_transport: httpx.ASGITransport
) -> None:
    payer = dev_account(CUSTOMER).address
    treasury = runtime.agent("scribe").addresses.treasury
    before = balance(runtime, payer), balance(runtime, treasury)
    async with paying_client(CUSTOMER, app_transport, "http://runtime") as client:
        response = await client.post("/agents/scribe/skills/headline", json={"input": "paid"})
    assert response.status_code == 200, response.text
    receipt = response.json()["receipt"]
    # Settled by the facilitator service: its gas payer sent the transaction.
    tx = runtime.chain.w3.eth.get_transaction(receipt["settlement_tx"])
    assert tx["from"] == dev_account(7).address
    assert runtime.payments.landed(receipt["settlement_tx"])
    assert (balance(runtime, payer), balance(runtime, treasury)) == (
        before[0] - HEADLINE,
        before[1] + HEADLINE,
    )
    task = runtime.tasks.get(receipt["task_id"])
    assert task is not None
    assert task.state is TaskState.SETTLED


async def test_a_bad_signature_is_refused_with_our_reason_and_charges_nothing(
    runtime: Runtime, app_transport: httpx.ASGITransport
) -> None:
    offer = quote(runtime, "scribe", "headline")
    payment = await sign_payment(CUSTOMER, offer.requirements)
    body = dict(payment.payload)
    signature = bytearray.fromhex(str(body["signature"])[2:])
    signature[10] ^= 0xFF  # still 65 bytes of hex: only the signer would notice
    body["signature"] = "0x" + signature.hex()
    forged = payment.model_copy(update={"payload": body})
    before = balance(runtime, dev_account(CUSTOMER).address)
    async with plain_client(app_transport, "http://runtime") as client:
        response = await client.post(
            "/agents/scribe/skills/headline", json={"input": "forged"}, headers=header(forged)
        )
    assert response.status_code == 402, response.text
    assert response.json()["reason"] == "bad_signature"
    assert balance(runtime, dev_account(CUSTOMER).address) == before
    assert runtime.tasks.list() == []  # never accepted, so no task holds the nonce


async def test_a_facilitator_that_is_down_refuses_the_payment_and_charges_nothing(
    runtime: Runtime, facilitator: FacilitatorServer, app_transport: httpx.ASGITransport
) -> None:
    facilitator.stop()
    payer = dev_account(CUSTOMER).address
    before = balance(runtime, payer)
    async with paying_client(CUSTOMER, app_transport, "http://runtime") as client:
        response = await client.post("/agents/scribe/skills/headline", json={"input": "down"})
    assert response.status_code == 402, response.text
    assert response.json()["reason"] == "facilitator_unavailable"
    assert balance(runtime, payer) == before
    assert runtime.tasks.list() == []

    facilitator.start()  # back: the same customer's next try goes through
    async with paying_client(CUSTOMER, app_transport, "http://runtime") as client:
        response = await client.post("/agents/scribe/skills/headline", json={"input": "up"})
    assert response.status_code == 200, response.text
    assert balance(runtime, payer) == before - HEADLINE


async def test_a_facilitator_gone_before_settlement_holds_the_result_until_it_returns(
    runtime: Runtime, facilitator: FacilitatorServer
) -> None:
    """Verified, run, then the facilitator goes down: the task waits (202), the customer
    is not charged and gets no result; when it is back, the same payment settles once."""
    offer = quote(runtime, "scribe", "headline")
    payment = await sign_payment(CUSTOMER, offer.requirements)
    payer = dev_account(CUSTOMER).address
    before = balance(runtime, payer)
    real_settle = runtime.payments.facilitator.settle

    async def settle_after_outage(*args: object) -> object:
        facilitator.stop()
        return await real_settle(*args)  # type: ignore[arg-type]

    runtime.payments.facilitator.settle = settle_after_outage  # type: ignore[method-assign,assignment]
    with pytest.raises(SettlementPendingError) as pending:
        await hire(runtime, offer, "late", payment)
    task = runtime.tasks.get(pending.value.task_id)
    assert task is not None
    assert task.state is TaskState.SUCCEEDED
    assert balance(runtime, payer) == before

    runtime.payments.facilitator.settle = real_settle  # type: ignore[method-assign]
    facilitator.start()
    settled = await hire(runtime, offer, "late", payment)  # the customer's retry
    assert settled.state is TaskState.SETTLED
    assert balance(runtime, payer) == before - HEADLINE


def test_each_event_loop_gets_its_own_http_client(runtime: Runtime) -> None:
    """An httpx client belongs to the loop it first ran on: the remote facilitator used
    from several loops (the app's; a worker thread's ``asyncio.run``) must work on each,
    so it must not share one client between them."""
    remote = runtime.payments.facilitator
    assert isinstance(remote, RemoteFacilitator)
    offer = quote(runtime, "scribe", "headline")
    answers = []

    async def verify_once() -> None:
        payment = await sign_payment(CUSTOMER, offer.requirements)
        answers.append(await remote.verify(payment, offer.requirements))

    asyncio.run(verify_once())
    asyncio.run(verify_once())  # a second loop, after the first one closed
    worker = threading.Thread(target=asyncio.run, args=(verify_once(),))
    worker.start()
    worker.join()
    assert [answer.is_valid for answer in answers] == [True, True, True]
