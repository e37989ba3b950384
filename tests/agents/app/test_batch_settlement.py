"""Prepaid calls with x402's stock ``batch-settlement`` client, against the live runtime:
deposit once, pay each call by voucher, charged only for success, claimed and settled
into the treasury by the runtime, the rest withdrawable by the payer."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from x402 import x402Client
from x402.http import decode_payment_required_header
from x402.http.clients.httpx import x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.batch_settlement.client.config import BatchSettlementEvmSchemeOptions
from x402.mechanisms.evm.batch_settlement.client.scheme import BatchSettlementEvmScheme
from x402.mechanisms.evm.exact import ExactEvmClientScheme
from x402.schemas import PaymentRequired

import agents.runtime.skills
import agents.runtime.vouchers
from agents.core.errors import SkillExecutionError
from agents.runtime.tasks import TaskState
from contracts import artifacts
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.escrow import ESCROW_ADDRESS
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.anyio

PAYER = 8
HEADLINE = "/agents/scribe/skills/headline"
PRICE = 10_000  # scribe/headline: $0.01 in 6-decimal units


def stock_client(index: int, url: str, deposit_calls: int) -> httpx.AsyncClient:
    """x402's own client with both EVM schemes (no code of this project): it deposits
    ``deposit_calls`` prices into a fresh channel, then pays each call by voucher."""
    client = x402Client()
    options = BatchSettlementEvmSchemeOptions(
        # Deposit exactly ``deposit_calls`` prices whenever the channel runs dry.
        deposit_strategy=lambda context: str(
            deposit_calls * int(context.payment_requirements.amount)
        ),
        salt="0x" + secrets.token_hex(32),
    )
    signer = EthAccountSigner(dev_account(index))
    client.register("eip155:*", BatchSettlementEvmScheme(signer, options))
    client.register("eip155:*", ExactEvmClientScheme(signer))
    client.set_spend_controls(False)  # MockUSDC is no asset the SDK knows
    return httpx.AsyncClient(transport=x402AsyncTransport(client), base_url=url, timeout=60)


def usdc_balance(chain: Chain, live: LiveServer, address: str) -> int:
    token = chain.contract("MockUSDC", live.runtime.payments.token.address)
    return int(token.functions.balanceOf(address).call())


async def test_a_402_offers_vouchers_first_then_exact(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url) as plain:
        answer = await plain.post(HEADLINE, json={"input": "x"})
    assert answer.status_code == 402
    required = decode_payment_required_header(answer.headers["PAYMENT-REQUIRED"])
    assert isinstance(required, PaymentRequired)
    assert [r.scheme for r in required.accepts] == ["batch-settlement", "exact"]
    voucher = required.accepts[0]
    assert voucher.amount == str(PRICE)
    assert voucher.extra is not None
    assert voucher.extra["withdrawDelay"] == live.settings.withdraw_delay
    assert int(voucher.extra["minDeposit"]) >= PRICE
    assert voucher.extra["receiverAuthorizer"] == live.runtime.chain.signer.address


async def test_a_hundred_prepaid_calls_charge_a_hundred_prices_and_a_failed_one_nothing(
    live: LiveServer, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    treasury = live.runtime.agent("scribe").addresses.treasury
    payer = dev_account(PAYER).address
    treasury_before = usdc_balance(chain, live, treasury)
    payer_before = usdc_balance(chain, live, payer)

    real = agents.runtime.skills.arun_skill

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        if args[3] == "this one fails":
            raise SkillExecutionError("offline", "the model broke")
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", failing_once)

    results = []
    async with stock_client(PAYER, live.url, deposit_calls=150) as customer:
        for i in range(100):
            if i == 50:
                failed = await customer.post(HEADLINE, json={"input": "this one fails"})
                assert failed.status_code == 502, failed.text
                assert failed.json()["reason"] == "task_failed"
            answer = await customer.post(HEADLINE, json={"input": f"call {i}: the news"})
            assert answer.status_code == 200, answer.text
            results.append(answer.json())
    assert len(results) == 100
    receipts = [r["receipt"] for r in results]
    assert all(r["scheme"] == "batch-settlement" for r in receipts)
    channel = receipts[0]["settlement_tx"].split(":")[1]
    # Each call's voucher signs the cumulative amount: 1, 2, ... 100 prices (the failed
    # call in the middle took no step).
    assert [r["settlement_tx"] for r in receipts] == [
        f"voucher:{channel}:{(i + 1) * PRICE}" for i in range(100)
    ]
    assert all(r["amount"] == PRICE for r in receipts)
    # Only the deposit touched the chain so far: the payer paid 150 prices into escrow.
    assert usdc_balance(chain, live, payer) == payer_before - 150 * PRICE
    assert usdc_balance(chain, live, treasury) == treasury_before

    rounds = await asyncio.to_thread(live.runtime.claim_vouchers)
    assert sum(r.vouchers for r in rounds) == 1  # one channel: one voucher, the latest
    assert usdc_balance(chain, live, treasury) == treasury_before + 100 * PRICE
    again = await asyncio.to_thread(live.runtime.claim_vouchers)  # nothing is claimed twice
    assert sum(r.vouchers for r in again) == 0
    assert usdc_balance(chain, live, treasury) == treasury_before + 100 * PRICE

    tasks = live.runtime.tasks.list(limit=200)
    assert sum(t.state is TaskState.SETTLED for t in tasks) == 100
    (broken,) = [t for t in tasks if t.input == "this one fails"]
    assert broken.state is TaskState.FAILED
    assert not broken.charged

    # The payer takes back what was not charged: 50 prices, after the withdrawal delay.
    escrow = chain.w3.eth.contract(ESCROW_ADDRESS, abi=artifacts.load("BatchSettlement").abi)
    channel_config = _channel_config_of(results, live)
    account = dev_account(PAYER)
    payer_chain = Chain(chain.rpc_url, account)
    payer_chain.send(escrow.functions.initiateWithdraw(channel_config, 50 * PRICE))
    advance_time(chain.w3, live.settings.withdraw_delay + 1)
    payer_chain.send(escrow.functions.finalizeWithdraw(channel_config))
    assert usdc_balance(chain, live, payer) == payer_before - 100 * PRICE


def _channel_config_of(results: list[dict[str, Any]], live: LiveServer) -> tuple[Any, ...]:
    """The channel config the stock client deposited into, from the stored payment."""
    import json

    task = live.runtime.task(results[0]["receipt"]["task_id"])
    assert task is not None
    config = json.loads(task.payment)["payload"]["channelConfig"]
    return (
        config["payer"],
        config["payerAuthorizer"],
        config["receiver"],
        config["receiverAuthorizer"],
        config["token"],
        int(config["withdrawDelay"]),
        bytes.fromhex(config["salt"][2:]),
    )


async def test_a_withdrawn_deposit_buys_no_more_work(
    live: LiveServer, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payer asks to withdraw, the runtime claims what it charged within the delay, the
    payer takes the rest: a voucher after that is refused before the model runs, although
    the runtime's copy of the deposit was read before the withdrawal."""
    runs: list[str] = []
    real = agents.runtime.skills.arun_skill

    async def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(args[3])
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", counted)
    payer = dev_account(PAYER).address
    payer_before = usdc_balance(chain, live, payer)
    async with stock_client(PAYER, live.url, deposit_calls=100) as customer:
        for i in range(2):
            assert (await customer.post(HEADLINE, json={"input": f"call {i}"})).status_code == 200
        task = live.runtime.tasks.list(limit=1)[0]
        config = _channel_config_of([{"receipt": {"task_id": task.id}}], live)
        escrow = chain.w3.eth.contract(ESCROW_ADDRESS, abi=artifacts.load("BatchSettlement").abi)
        payer_chain = Chain(chain.rpc_url, dev_account(PAYER))
        payer_chain.send(escrow.functions.initiateWithdraw(config, 100 * PRICE))
        _age_channel_state(live, task.payment)  # five minutes pass: the next voucher re-reads
        assert (await customer.post(HEADLINE, json={"input": "call 2"})).status_code == 200
        rounds = await asyncio.to_thread(live.runtime.claim_vouchers)
        assert sum(r.vouchers for r in rounds) == 1
        advance_time(chain.w3, live.settings.withdraw_delay + 1)
        payer_chain.send(escrow.functions.finalizeWithdraw(config))
        assert usdc_balance(chain, live, payer) == payer_before - 3 * PRICE

        refused = await customer.post(HEADLINE, json={"input": "after the withdrawal"})
    assert refused.status_code == 402
    assert runs == ["call 0", "call 1", "call 2"]


def _age_channel_state(live: LiveServer, payment_json: str) -> None:
    """Make the runtime's reading of a channel's on-chain state as old as x402's limit."""
    import json

    from x402.mechanisms.evm.batch_settlement.server.storage import Channel

    channel_id = json.loads(payment_json)["payload"]["voucher"]["channelId"]
    treasury = live.runtime.agent("scribe").addresses.treasury
    assert live.runtime.payments.batch is not None
    store = live.runtime.payments.batch.channels(treasury)

    def age(current: Channel | None) -> Channel | None:
        assert current is not None
        aged = current.copy()
        aged.onchain_synced_at = 0
        return aged

    store.update_channel(channel_id, age)


async def test_a_claim_of_many_channels_lands_in_one_transaction(
    live: LiveServer, chain: Chain
) -> None:
    """24 channels' vouchers in one claim: under a fixed 200k gas limit the claim ran out
    of gas at 8 vouchers, and at ~20 its calldata alone cost more than the limit (anvil
    dropped it and every later operator transaction queued behind the nonce gap)."""
    channels = 24
    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(chain, live, treasury)
    customers = [stock_client(1 + i % 8, live.url, deposit_calls=100) for i in range(channels)]
    for customer in customers:
        async with customer:
            answer = await customer.post(HEADLINE, json={"input": "one call"})
            assert answer.status_code == 200, answer.text

    rounds = await asyncio.to_thread(live.runtime.claim_vouchers)
    (scribe,) = [r for r in rounds if r.vouchers]
    assert scribe.vouchers == channels
    assert len(scribe.claim_txs) == 1
    assert usdc_balance(chain, live, treasury) == before + channels * PRICE
