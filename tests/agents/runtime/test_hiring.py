"""Hiring on anvil without HTTP: a paid result goes only to its payer, a payer runs no
more work than it can pay for, and an unreachable chain is an outage, not a refusal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hexbytes import HexBytes
from web3 import Web3
from x402.schemas import PaymentPayload

import agents.runtime.hiring
import agents.runtime.skills
from agents.app.database import open_database
from agents.core.errors import ChainUnreachableError, PaymentRejectedError
from agents.runtime.hiring import Quote, hire, quote
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.customers import sign_payment

pytestmark = pytest.mark.anyio

CUSTOMER = 1
HEADLINE = 10_000


@pytest.fixture
def runtime(deployment: Deployment, chain: Chain, tmp_path: Path) -> Runtime:
    settings = deployment.settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'runtime.db'}"}
    )
    return Runtime.open(settings, chain, open_database(settings))


@pytest.fixture
def model_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The inputs the model was run on, in order (the offline model, counted)."""
    runs: list[str] = []
    real = agents.runtime.skills.arun_skill

    async def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(args[3])
        await asyncio.sleep(0.05)  # a model takes time: let concurrent hires overlap
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", counted)
    return runs


async def paid(
    runtime: Runtime, skill: str = "headline", index: int = CUSTOMER
) -> tuple[Quote, PaymentPayload]:
    offer = quote(runtime, "scribe", skill)
    return offer, await sign_payment(index, offer.requirements)


def rebuilt_from_chain(chain: Chain, tx: str, offer: Quote) -> PaymentPayload:
    """What a stranger makes of a settlement: its calldata is the whole authorization."""
    calldata = chain.w3.eth.get_transaction(HexBytes(tx))["input"]
    _, args = chain.contract("MockUSDC", offer.requirements.asset).decode_function_input(calldata)
    sender, to, value, after, before, nonce = (
        args[k] for k in ("from", "to", "value", "validAfter", "validBefore", "nonce")
    )
    if "signature" in args:
        signature = bytes(args["signature"])
    else:  # the (v, r, s) overload x402 uses for plain accounts
        signature = bytes(args["r"]) + bytes(args["s"]) + bytes([args["v"]])
    authorization = {
        "from": Web3.to_checksum_address(sender),
        "to": Web3.to_checksum_address(to),
        "value": str(value),
        "validAfter": str(after),
        "validBefore": str(before),
        "nonce": "0x" + nonce.hex(),
    }
    return PaymentPayload(
        x402_version=2,
        payload={"authorization": authorization, "signature": "0x" + signature.hex()},
        accepted=offer.requirements,
    )


async def test_a_stranger_replaying_a_settled_authorization_gets_no_result(
    runtime: Runtime, chain: Chain
) -> None:
    offer, payment = await paid(runtime)
    secret = "a confidential contract"
    task = await hire(runtime, offer, secret, payment)
    assert task.state is TaskState.SETTLED
    assert task.settlement_tx is not None

    stolen = rebuilt_from_chain(chain, task.settlement_tx, quote(runtime, "scribe", "headline"))
    with pytest.raises(PaymentRejectedError) as refused:
        await hire(runtime, quote(runtime, "scribe", "headline"), "I am not the customer", stolen)
    assert refused.value.reason == "reused"
    assert task.id not in refused.value.message  # the id would open GET /tasks/{id}
    assert secret not in refused.value.message

    again = await hire(runtime, quote(runtime, "scribe", "headline"), secret, payment)
    assert (again.id, again.result) == (task.id, task.result)


async def test_replay_guard_same_authorization(runtime: Runtime) -> None:
    offer, payment = await paid(runtime)
    await hire(runtime, offer, "mine", payment)
    forged = payment.model_copy(deep=True)  # same payer and nonce, other terms
    forged.payload["authorization"]["validBefore"] = str(
        int(forged.payload["authorization"]["validBefore"]) - 1
    )
    with pytest.raises(PaymentRejectedError) as refused:
        await hire(runtime, offer, "mine", forged)
    assert refused.value.reason == "reused"


async def test_replay_guard_same_call(runtime: Runtime) -> None:
    offer, payment = await paid(runtime)
    await hire(runtime, offer, "mine", payment)
    other = quote(runtime, "scribe", "summarize")
    with pytest.raises(PaymentRejectedError) as refused:
        await hire(runtime, other, "mine", payment)
    assert refused.value.reason == "reused"


async def test_replay_guard_same_input(runtime: Runtime) -> None:
    offer, payment = await paid(runtime)
    task = await hire(runtime, offer, "mine", payment)
    with pytest.raises(PaymentRejectedError) as refused:
        await hire(runtime, offer, "theirs", payment)
    assert refused.value.reason == "reused"
    assert (await hire(runtime, offer, "mine", payment)).id == task.id


async def test_ten_payments_from_a_wallet_that_covers_one_run_the_model_once(
    runtime: Runtime, chain: Chain, model_runs: list[str]
) -> None:
    customer = dev_account(CUSTOMER)
    usdc = runtime.payments._contract
    extra = runtime.payments.balance_of(customer.address) - HEADLINE
    chain.send(usdc.functions.transfer(dev_account(9).address, extra), customer)
    offer = quote(runtime, "scribe", "headline")
    payments = [await sign_payment(CUSTOMER, offer.requirements) for _ in range(10)]

    outcomes = await asyncio.gather(
        *(hire(runtime, offer, f"job {i}", p) for i, p in enumerate(payments)),
        return_exceptions=True,
    )
    settled = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, PaymentRejectedError)]
    assert len(settled) == 1, outcomes
    assert len(refused) == 9, outcomes
    assert {r.reason for r in refused} == {"insufficient_funds"}
    assert len(model_runs) == 1
    assert runtime.payments.balance_of(customer.address) == 0
    assert len(runtime.tasks.list()) == 1  # refused payments leave no task behind


async def test_payments_within_the_balance_all_run(runtime: Runtime, model_runs: list[str]) -> None:
    offer = quote(runtime, "scribe", "headline")
    payments = [await sign_payment(CUSTOMER, offer.requirements) for _ in range(3)]
    done = await asyncio.gather(*(hire(runtime, offer, f"j{i}", p) for i, p in enumerate(payments)))
    assert {t.state for t in done} == {TaskState.SETTLED}
    assert sorted(model_runs) == ["j0", "j1", "j2"]


@pytest.fixture
def outage(runtime: Runtime) -> Iterator[None]:
    """The node stops answering (the runtime's and the facilitator's connections)."""
    providers = [runtime.chain.w3.provider, runtime.payments.facilitator.signer._w3.provider]  # type: ignore[attr-defined]
    urls = [p.endpoint_uri for p in providers]
    try:
        for provider in providers:
            provider.endpoint_uri = "http://127.0.0.1:9"  # discard port: refused
        yield
    finally:
        for provider, url in zip(providers, urls, strict=True):
            provider.endpoint_uri = url


async def test_a_valid_payment_during_an_outage_is_an_outage_not_a_refusal(
    runtime: Runtime, anvil: EmbeddedChain, model_runs: list[str], request: pytest.FixtureRequest
) -> None:
    offer, payment = await paid(runtime)
    await asyncio.sleep(1.1)  # the chain's clock reading is cached for a second
    request.getfixturevalue("outage")
    with pytest.raises(ChainUnreachableError):
        await hire(runtime, offer, "x", payment)
    assert model_runs == []
    assert runtime.tasks.list() == []  # the customer may send the same payment again
