"""The facilitators against the test anvil: the in-process one (its signer sends through
the operator's shared sender) and the remote one (what runs when
``AGENTDAO_FACILITATOR_URL`` is set), a real x402 facilitator service over HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from eth_typing import HexStr
from web3 import Web3
from web3.types import RPCEndpoint
from x402.schemas import PaymentRequirements, SettleResponse

from agents.app.database import open_database
from agents.app.http import create_app
from agents.core.errors import SettlementPendingError
from agents.runtime.hiring import hire, quote
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.client import Chain
from contracts.manifest import Manifest
from tests.conftest import Deployment
from tests.support.customers import header, paying_client, plain_client, sign_payment
from tests.support.facilitator_server import FacilitatorServer
from tests.support.raw_contracts import BURNER_ABI, BURNER_BYTECODE, SLOT_GAS
from treasury.facilitator import LocalFacilitator, RemoteFacilitator
from treasury.payments import Payments, PaymentToken, network_of

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


# ---------------------------------------------------------------- the in-process facilitator

PRICE = 50_000
OPERATOR = dev_account(0)
OLD_SETTLE_GAS_LIMIT = 200_000
"""The fixed limit the signer sent every settlement with before the shared sender."""


@pytest.fixture
def local(chain: Chain) -> LocalFacilitator:
    key = Web3.to_hex(OPERATOR.key)
    return LocalFacilitator(chain.rpc_url, key, network_of(chain.chain_id))


@pytest.fixture
def manifest(deployment: Deployment) -> Manifest:
    loaded = Manifest.load(deployment.settings.manifest_path)
    assert loaded is not None
    return loaded


@pytest.fixture
def usdc(manifest: Manifest) -> str:
    assert manifest.payment_token is not None
    return manifest.payment_token


@pytest.fixture
def wanted(manifest: Manifest, usdc: str, chain: Chain) -> PaymentRequirements:
    token = PaymentToken.read(chain, usdc)
    payments = Payments(chain, token, RemoteFacilitator("http://unused"))
    return payments.requirements(manifest.agents["scribe"].treasury, PRICE)


@contextmanager
def mining_paused(chain: Chain) -> Iterator[None]:
    """anvil keeps what is sent in its pool until ``evm_mine`` (mined again after)."""
    provider = chain.w3.provider
    provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
    try:
        yield
    finally:
        provider.make_request(RPCEndpoint("evm_setAutomine"), [True])
        provider.make_request(RPCEndpoint("evm_mine"), [])


def nonce_of(chain: Chain, tx_hash: str) -> int:
    return int(chain.w3.eth.get_transaction(HexStr(tx_hash))["nonce"])


async def test_settlements_do_not_wait_for_each_others_receipts(
    local: LocalFacilitator, wanted: PaymentRequirements, chain: Chain
) -> None:
    payloads = [await sign_payment(1 + i % 3, wanted) for i in range(6)]
    sender = local.signer.sender
    with mining_paused(chain):
        settling = [asyncio.ensure_future(local.settle(payload, wanted)) for payload in payloads]
        # all six broadcast, each at its own nonce, while none is mined
        await until(lambda: len(sender.in_flight) == 6)
        first = sender.in_flight[0].nonce
        assert [p.nonce for p in sender.in_flight] == list(range(first, first + 6))
        assert not any(task.done() for task in settling)
        chain.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        settled = await asyncio.gather(*settling)
    assert all(response.success for response in settled)
    assert sorted(nonce_of(chain, r.transaction) for r in settled) == list(range(first, first + 6))


async def test_settlements_and_the_operators_own_sends_share_one_nonce_count(
    local: LocalFacilitator, wanted: PaymentRequirements, chain: Chain, usdc: str
) -> None:
    token = chain.contract("MockUSDC", usdc)
    start = chain.w3.eth.get_transaction_count(OPERATOR.address)
    payloads = [await sign_payment(1 + i % 3, wanted) for i in range(12)]

    def mint() -> str:
        receipt = chain.send(token.functions.mint(dev_account(6).address, 1))
        return str(receipt["transactionHash"].to_0x_hex())

    results = await asyncio.gather(
        *(local.settle(payload, wanted) for payload in payloads),
        *(asyncio.to_thread(mint) for _ in range(6)),
    )
    settled = [r for r in results if isinstance(r, SettleResponse)]
    assert all(response.success for response in settled)
    hashes = [r.transaction for r in settled] + [r for r in results if isinstance(r, str)]
    assert sorted(nonce_of(chain, tx) for tx in hashes) == list(range(start, start + 18))


async def test_a_stuck_settlement_is_replaced_and_the_answer_names_the_one_that_landed(
    local: LocalFacilitator,
    wanted: PaymentRequirements,
    chain: Chain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sender = local.signer.sender
    monkeypatch.setattr(sender, "policy", replace(sender.policy, stuck_seconds=0.3))
    payload = await sign_payment(1, wanted)
    with mining_paused(chain):
        settling = asyncio.ensure_future(local.settle(payload, wanted))
        await until(lambda: bool(sender.in_flight) and len(sender.in_flight[0].hashes) == 2)
        first, replacement = sender.in_flight[0].hashes
        chain.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        settled = await settling
    assert settled.success
    assert settled.transaction == replacement != first
    assert chain.w3.eth.get_transaction_receipt(HexStr(replacement))["status"] == 1


def test_the_signer_estimates_gas_instead_of_a_fixed_limit(
    local: LocalFacilitator, chain: Chain
) -> None:
    factory = chain.w3.eth.contract(abi=BURNER_ABI, bytecode=BURNER_BYTECODE)
    burner = chain.send(factory.constructor(), what="deploy the burner")["contractAddress"]
    assert burner is not None
    signer = local.signer
    tx_hash = signer.write_contract(burner, BURNER_ABI, "fill", 20)
    receipt = signer.wait_for_transaction_receipt(tx_hash)
    assert receipt.status == 1
    used = chain.w3.eth.get_transaction_receipt(HexStr(tx_hash))["gasUsed"]
    assert used > 20 * SLOT_GAS > OLD_SETTLE_GAS_LIMIT


async def until(condition: Callable[[], bool]) -> None:
    """Wait for what the sender's threads do (nothing on this loop to wait on)."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
