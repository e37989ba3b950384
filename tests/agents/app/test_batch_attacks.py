"""Attacks on selling by voucher (x402 ``batch-settlement``), against the live runtime on
anvil: payloads the hire route must refuse, claims one payer must not be able to stop,
and replicas that must not undo each other's work."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import httpx
import pytest
from x402 import x402Client
from x402.http import decode_payment_required_header, encode_payment_signature_header
from x402.http.clients.httpx import PaymentError, x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.batch_settlement.client.config import BatchSettlementEvmSchemeOptions
from x402.mechanisms.evm.batch_settlement.client.scheme import BatchSettlementEvmScheme
from x402.mechanisms.evm.batch_settlement.client.voucher import sign_voucher
from x402.schemas import PaymentPayload, PaymentRequired, PaymentRequirements

import agents.runtime.skills
import agents.runtime.vouchers
from contracts import artifacts
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.escrow import ESCROW_ADDRESS
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.anyio

HEADLINE = "/agents/scribe/skills/headline"
PRICE = 10_000


def stock_client(index: int, url: str, deposit_calls: int = 100) -> httpx.AsyncClient:
    """x402's own client: deposits ``deposit_calls`` prices into a fresh channel, then
    pays each call by voucher."""
    client = x402Client()
    options = BatchSettlementEvmSchemeOptions(
        deposit_strategy=lambda context: str(
            deposit_calls * int(context.payment_requirements.amount)
        ),
        salt="0x" + secrets.token_hex(32),
    )
    scheme = BatchSettlementEvmScheme(EthAccountSigner(dev_account(index)), options)
    client.register("eip155:*", scheme)
    client.set_spend_controls(False)
    return httpx.AsyncClient(transport=x402AsyncTransport(client), base_url=url, timeout=60)


def usdc_balance(live: LiveServer, address: str) -> int:
    token = live.runtime.chain.contract("MockUSDC", live.runtime.payments.token.address)
    return int(token.functions.balanceOf(address).call())


async def voucher_requirements(url: str) -> tuple[PaymentRequired, PaymentRequirements]:
    async with httpx.AsyncClient(base_url=url) as plain:
        answer = await plain.post(HEADLINE, json={"input": "price?"})
    required = decode_payment_required_header(answer.headers["PAYMENT-REQUIRED"])
    assert isinstance(required, PaymentRequired)
    return required, required.accepts[0]


def stored_payload(live: LiveServer, task_id: str) -> dict[str, Any]:
    task = live.runtime.task(task_id)
    assert task is not None
    payload: dict[str, Any] = json.loads(task.payment)["payload"]
    return payload


def counting_model(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every input the model ran on, in order."""
    runs: list[str] = []
    real = agents.runtime.skills.arun_skill

    async def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(args[3])
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", counted)
    return runs


def escrow(chain: Chain) -> Any:
    return chain.w3.eth.contract(ESCROW_ADDRESS, abi=artifacts.load("BatchSettlement").abi)


def config_tuple(config: dict[str, Any]) -> tuple[Any, ...]:
    return (
        config["payer"],
        config["payerAuthorizer"],
        config["receiver"],
        config["receiverAuthorizer"],
        config["token"],
        int(config["withdrawDelay"]),
        bytes.fromhex(config["salt"][2:]),
    )


async def test_a_refund_payload_buys_no_work(
    live: LiveServer, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """x402's cooperative refund payload (type ``refund``: the channel's config and a
    voucher for what was already charged) is no payment for a call. Sent to the hire
    route it must not run the model, and the runtime must not hand the deposit back on
    the way (a free call for every refund)."""
    payer = dev_account(9)
    runs = counting_model(monkeypatch)
    async with stock_client(9, live.url) as customer:
        first = await customer.post(HEADLINE, json={"input": "paid"})
    assert first.status_code == 200, first.text
    paid = stored_payload(live, first.json()["receipt"]["task_id"])
    payer_before = usdc_balance(live, payer.address)

    _, requirements = await voucher_requirements(live.url)
    channel_id = paid["voucher"]["channelId"]
    # A voucher for what the channel was already charged: nothing new.
    voucher = sign_voucher(EthAccountSigner(payer), channel_id, PRICE, requirements.network)
    refund = PaymentPayload(
        x402_version=2,
        accepted=requirements,
        payload={
            "type": "refund",
            "channelConfig": paid["channelConfig"],
            "voucher": voucher.to_dict(),
        },
    )
    headers = {"PAYMENT-SIGNATURE": encode_payment_signature_header(refund)}
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as attacker:
        answer = await attacker.post(HEADLINE, json={"input": "free work"}, headers=headers)

    assert "free work" not in runs, "the model ran for a refund payload"
    assert answer.status_code != 200, answer.text
    assert usdc_balance(live, payer.address) == payer_before


async def test_claims_of_many_channels_land(live: LiveServer, chain: Chain) -> None:
    """Twelve customers' channels owe the agent a call each: one claim round claims them
    all and settles them into the treasury (a batch of twelve vouchers needs ~280k gas)."""
    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(live, treasury)
    for i in range(12):  # one payer, twelve channels (each client has its own salt)
        async with stock_client(9, live.url) as customer:
            answer = await customer.post(HEADLINE, json={"input": f"customer {i}"})
        assert answer.status_code == 200, answer.text

    rounds = await asyncio.to_thread(live.runtime.claim_vouchers)

    assert sum(r.vouchers for r in rounds) == 12
    assert usdc_balance(live, treasury) == before + 12 * PRICE


async def _withdraw_everything(live: LiveServer, chain: Chain, payer: int, task_id: str) -> None:
    """The payer of ``task_id``'s channel asks for all its unclaimed escrow back."""
    config = config_tuple(stored_payload(live, task_id)["channelConfig"])
    available = (
        escrow(chain)
        .functions.channels(stored_payload(live, task_id)["voucher"]["channelId"])
        .call()
    )
    Chain(chain.rpc_url, dev_account(payer)).send(
        escrow(chain).functions.initiateWithdraw(config, available[0] - available[1])
    )


async def _finalize(live: LiveServer, chain: Chain, payer: int, task_id: str) -> None:
    config = config_tuple(stored_payload(live, task_id)["channelConfig"])
    Chain(chain.rpc_url, dev_account(payer)).send(escrow(chain).functions.finalizeWithdraw(config))


async def test_one_unclaimable_channel_does_not_stop_the_claims_of_the_others(
    live: LiveServer, chain: Chain
) -> None:
    """A bad day: the runtime was down longer than the withdrawal delay, and one payer
    took its whole deposit back meanwhile, so its charged voucher can no longer be claimed
    (the escrow reverts a claim above the channel's balance). The other payers' vouchers
    must still be claimed: one bad row must not revert the batch, round after round,
    until every other payer has withdrawn too."""
    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(live, treasury)
    async with stock_client(9, live.url) as leaver:
        left = await leaver.post(HEADLINE, json={"input": "leaver"})
    assert left.status_code == 200, left.text
    async with stock_client(8, live.url) as honest:
        for i in range(3):
            paid = await honest.post(HEADLINE, json={"input": f"honest {i}"})
            assert paid.status_code == 200, paid.text

    await _withdraw_everything(live, chain, 9, left.json()["receipt"]["task_id"])
    advance_time(chain.w3, live.settings.withdraw_delay + 1)
    await _finalize(live, chain, 9, left.json()["receipt"]["task_id"])

    for _ in range(2):  # and the next round alike
        await asyncio.to_thread(live.runtime.claim_vouchers)
    assert usdc_balance(live, treasury) == before + 3 * PRICE


async def test_a_voucher_the_runtime_cannot_claim_before_the_withdrawal_lands_is_refused(
    live: LiveServer, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payer asks to withdraw everything, waits until the delay has all but passed,
    pays one more call by voucher and finalizes the withdrawal at once: no claim can land
    in between, so the call was free. A voucher on a channel whose withdrawal can land
    before the runtime's next claim must be refused before the model runs."""
    runs = counting_model(monkeypatch)
    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(live, treasury)
    async with stock_client(9, live.url) as customer:
        first = await customer.post(HEADLINE, json={"input": "paid"})
        assert first.status_code == 200, first.text
        await asyncio.to_thread(live.runtime.claim_vouchers)  # the runtime claims on time
        await _withdraw_everything(live, chain, 9, first.json()["receipt"]["task_id"])
        advance_time(chain.w3, live.settings.withdraw_delay - 5)
        _age_channel_state(live, first.json()["receipt"]["task_id"])  # the wall clock too
        await asyncio.sleep(1.1)  # the runtime reads the chain's clock once a second
        last = await customer.post(HEADLINE, json={"input": "moments before"})
    advance_time(chain.w3, 6)  # the delay is over: the payer finalizes at once
    await _finalize(live, chain, 9, first.json()["receipt"]["task_id"])
    await asyncio.to_thread(live.runtime.claim_vouchers)

    if last.status_code == 200:  # then it must have been paid for
        assert usdc_balance(live, treasury) == before + 2 * PRICE, "an unpaid result"
    else:
        assert last.status_code == 402, last.text
        assert runs == ["paid"]


def _age_channel_state(live: LiveServer, task_id: str) -> None:
    """Make the runtime's reading of a channel's on-chain state as old as x402's limit
    (the chain's clock was moved forward; the wall clock passes alike in real life)."""
    from x402.mechanisms.evm.batch_settlement.server.storage import Channel

    channel_id = stored_payload(live, task_id)["voucher"]["channelId"]
    treasury = live.runtime.agent("scribe").addresses.treasury
    assert live.runtime.payments.batch is not None
    store = live.runtime.payments.batch.channels(treasury)

    def age(current: Channel | None) -> Channel | None:
        assert current is not None
        aged = current.copy()
        aged.onchain_synced_at = 0
        return aged

    store.update_channel(channel_id, age)


async def test_a_channel_the_database_lost_is_not_charged_below_its_claims(
    live: LiveServer, chain: Chain
) -> None:
    """The runtime's database lost a channel's row (restored from a backup, a failover
    that dropped the last commits) after its vouchers were claimed on chain. x402 then
    takes the next voucher's amount minus the price as what the channel was charged, so
    a payer signing one unit above the claimed total gets a call for one unit. The base
    must not be below what the chain already claimed."""
    from sqlmodel import Session, delete

    from treasury.channels import ChannelRecord

    treasury = live.runtime.agent("scribe").addresses.treasury
    async with stock_client(9, live.url) as customer:
        for i in range(3):
            paid = await customer.post(HEADLINE, json={"input": f"call {i}"})
            assert paid.status_code == 200, paid.text
    await asyncio.to_thread(live.runtime.claim_vouchers)
    before = usdc_balance(live, treasury)
    payload = stored_payload(live, paid.json()["receipt"]["task_id"])
    with Session(live.runtime.tasks.engine) as session:  # the row is gone
        session.exec(delete(ChannelRecord))
        session.commit()

    _, requirements = await voucher_requirements(live.url)
    one_unit_more = 3 * PRICE + 1
    voucher = sign_voucher(
        EthAccountSigner(dev_account(9)),
        payload["voucher"]["channelId"],
        one_unit_more,
        requirements.network,
    )
    cheap = PaymentPayload(
        x402_version=2,
        accepted=requirements,
        payload={
            "type": "voucher",
            "channelConfig": payload["channelConfig"],
            "voucher": voucher.to_dict(),
        },
    )
    headers = {"PAYMENT-SIGNATURE": encode_payment_signature_header(cheap)}
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as attacker:
        answer = await attacker.post(HEADLINE, json={"input": "one unit"}, headers=headers)
    await asyncio.to_thread(live.runtime.claim_vouchers)

    if answer.status_code == 200:
        assert usdc_balance(live, treasury) >= before + PRICE, "a call for one unit"
    else:
        assert answer.status_code == 402, answer.text
        # and the payer's next voucher, for the claimed total plus the price, is taken
        fair = sign_voucher(
            EthAccountSigner(dev_account(9)),
            payload["voucher"]["channelId"],
            4 * PRICE,
            requirements.network,
        )
        headers = {
            "PAYMENT-SIGNATURE": encode_payment_signature_header(
                cheap.model_copy(update={"payload": cheap.payload | {"voucher": fair.to_dict()}})
            )
        }
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as payer:
            again = await payer.post(HEADLINE, json={"input": "fair"}, headers=headers)
        assert again.status_code == 200, again.text
        await asyncio.to_thread(live.runtime.claim_vouchers)
        assert usdc_balance(live, treasury) == before + PRICE


async def test_a_deposit_below_the_smallest_asked_for_is_refused(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 402 asks for a deposit of ``deposit_calls`` prices (``extra.minDeposit``), since
    every deposit is a transaction the operator pays ~137k gas for (a new channel, and a
    claim row later). A customer depositing one price per call, in a new channel each
    time, makes the operator pay a deposit's gas for every call and fills the database
    with channels: the smallest deposit must be enforced, not only hinted."""
    runs = counting_model(monkeypatch)
    _, requirements = await voucher_requirements(live.url)
    assert requirements.extra is not None
    assert int(requirements.extra["minDeposit"]) == live.settings.deposit_calls * PRICE
    async with stock_client(9, live.url, deposit_calls=1) as cheap:
        answer = await cheap.post(HEADLINE, json={"input": "one price deposited"})
    assert answer.status_code == 402, answer.text
    assert runs == []


async def test_money_claimed_but_not_settled_reaches_the_treasury_next_round(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim round claims the vouchers, then its settle fails (a node hiccup, a kill -9
    between the two transactions). "The next round settles it", says the claim job; but
    the next round finds nothing left to claim and so settles nothing: the money stays in
    the escrow until some other customer's voucher is claimed, maybe never."""
    from x402.mechanisms.evm.batch_settlement.server.channel_manager_sync import (
        BatchSettlementChannelManagerSync,
    )

    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(live, treasury)
    async with stock_client(9, live.url) as customer:
        paid = await customer.post(HEADLINE, json={"input": "paid"})
    assert paid.status_code == 200, paid.text

    real_settle = BatchSettlementChannelManagerSync.settle
    failures = [RuntimeError("Settle failed: the node dropped the connection")]

    def flaky_settle(self: BatchSettlementChannelManagerSync) -> Any:
        if failures:
            raise failures.pop()
        return real_settle(self)

    monkeypatch.setattr(BatchSettlementChannelManagerSync, "settle", flaky_settle)
    await asyncio.to_thread(live.runtime.claim_vouchers)  # claimed; the settle failed
    assert usdc_balance(live, treasury) == before
    await asyncio.to_thread(live.runtime.claim_vouchers)  # the next round
    assert usdc_balance(live, treasury) == before + PRICE


class _LosesOneAnswer(httpx.AsyncBaseTransport):
    """Delivers requests, but loses the answer to the ``lose``-th paid one (the
    connection drops after the server finished it)."""

    def __init__(self, lose: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paid = 0
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "PAYMENT-SIGNATURE" in request.headers and response.status_code == 200:
            self.paid += 1
            if self.paid == self.lose:
                await response.aread()
                raise httpx.ReadError("connection reset", request=request)
        return response


async def test_a_call_whose_answer_was_lost_is_answered_when_sent_again_and_charged_once(
    live: LiveServer,
) -> None:
    """The customer's connection drops after the runtime charged a call's voucher and
    before the answer arrived, and the customer sends the call again with x402's own
    client (whose channel state moves only on an answer, so it signs the same voucher).
    It must get the answer it paid for, charged once, as a retried ``exact`` payment is;
    and its client must not be stuck on the channel (a 402 it cannot resynchronise from)."""
    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(live, treasury)
    stock = x402Client()
    options = BatchSettlementEvmSchemeOptions(salt="0x" + secrets.token_hex(32))
    stock.register("eip155:*", BatchSettlementEvmScheme(EthAccountSigner(dev_account(9)), options))
    stock.set_spend_controls(False)
    transport = x402AsyncTransport(stock, transport=_LosesOneAnswer(lose=2))
    async with httpx.AsyncClient(transport=transport, base_url=live.url, timeout=60) as client:
        first = await client.post(HEADLINE, json={"input": "deposit"})
        assert first.status_code == 200, first.text
        with pytest.raises(PaymentError):  # x402's transport wraps the dropped connection
            await client.post(HEADLINE, json={"input": "the work"})
        again = await client.post(HEADLINE, json={"input": "the work"})
        assert again.status_code == 200, again.text
        after = await client.post(HEADLINE, json={"input": "more work"})
        assert after.status_code == 200, after.text

    await asyncio.to_thread(live.runtime.claim_vouchers)
    assert usdc_balance(live, treasury) == before + 3 * PRICE  # three calls, three prices


async def test_claims_the_chain_lost_are_claimed_again(live: LiveServer, chain: Chain) -> None:
    """The chain loses the blocks of a claim round (a reorg; the embedded node killed and
    restarted from state saved a moment earlier). The database still says the vouchers
    were claimed, so no later round claims them, and the payer may withdraw the money it
    owes: the database claims a settlement the chain does not hold."""
    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(live, treasury)
    async with stock_client(9, live.url) as customer:
        paid = await customer.post(HEADLINE, json={"input": "paid"})
    assert paid.status_code == 200, paid.text
    provider = chain.w3.provider
    saved = provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    await asyncio.to_thread(live.runtime.claim_vouchers)
    assert usdc_balance(live, treasury) == before + PRICE
    provider.make_request("evm_revert", [saved])  # type: ignore[arg-type]
    live.runtime.payments.facilitator.resync()  # as recovery does when blocks vanish
    assert usdc_balance(live, treasury) == before  # the claim and settle are gone

    for _ in range(2):  # the reconcile job notices, the next claim rounds run
        await live.runtime.reconcile_settlements()
        await asyncio.to_thread(live.runtime.claim_vouchers)
    assert usdc_balance(live, treasury) == before + PRICE


async def test_a_call_whose_model_outlasts_the_withdrawal_window_is_not_charged_unclaimably(
    live: LiveServer, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The voucher arrives just before the withdrawal window closes (so it is taken), and
    the model (an agent loop with tools) runs long enough that the payer's withdrawal can
    land before any claim round after the charge: the charge must be refused (the result
    withheld), not recorded as money nobody can claim."""
    treasury = live.runtime.agent("scribe").addresses.treasury
    before = usdc_balance(live, treasury)
    real = agents.runtime.skills.arun_skill
    margin = 2 * int(live.settings.claim_seconds) + 60

    async def long_agent_loop(*args: Any, **kwargs: Any) -> Any:
        if args[3] == "long work":
            advance_time(chain.w3, margin)  # the model runs this long (chain time)
            await asyncio.sleep(1.1)  # and the runtime's chain clock catches up
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", long_agent_loop)
    async with stock_client(9, live.url) as customer:
        first = await customer.post(HEADLINE, json={"input": "paid"})
        assert first.status_code == 200, first.text
        await asyncio.to_thread(live.runtime.claim_vouchers)
        await _withdraw_everything(live, chain, 9, first.json()["receipt"]["task_id"])
        advance_time(chain.w3, live.settings.withdraw_delay - margin - 20)
        _age_channel_state(live, first.json()["receipt"]["task_id"])
        await asyncio.sleep(1.1)
        last = await customer.post(HEADLINE, json={"input": "long work"})
    advance_time(chain.w3, 30)  # the delay is over: the payer finalizes at once
    await _finalize(live, chain, 9, first.json()["receipt"]["task_id"])
    await asyncio.to_thread(live.runtime.claim_vouchers)

    if last.status_code == 200:
        assert usdc_balance(live, treasury) == before + 2 * PRICE, "an unpaid result"
    else:
        assert last.status_code == 402, last.text
