"""Buyback-and-burn on anvil against the Uniswap V2 launch deployed and the pool it seeded."""

from __future__ import annotations

import pytest

from agents.core.errors import TransactionFailedError
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.deploy import ZERO_ADDRESS
from contracts.manifest import Manifest
from contracts.uniswap import pool_of, router
from tests.conftest import Deployment
from tests.treasury.support import pay, settings
from treasury.buyback import BuybackKeeper, BuybackOutcome, BuybackQuote, BuybackStatus
from treasury.errors import NotKeeperError
from treasury.ledger import buyback_history, read_treasury

USDC = 10**6
WHALE = dev_account(8)


@pytest.fixture
def manifest(deployment: Deployment) -> Manifest:
    return deployment.result.manifest


def _fund_buyback(chain: Chain, manifest: Manifest, income: int) -> int:
    """Pay and distribute; scribe's split books 10 % into the buyback fund. Then let the
    treasury's price floor mature: an observation of the pool a TWAP window old."""
    pay(chain, manifest, "scribe", income)
    treasury = chain.contract("AgentTreasury", manifest.agents["scribe"].treasury)
    chain.send(treasury.functions.distribute())
    window = int(treasury.functions.twapWindow().call())
    chain.send(treasury.functions.observePrice())  # a no-op while the last one is recent
    advance_time(chain.w3, window + 1)
    chain.send(treasury.functions.observePrice())
    return int(treasury.functions.buybackBalance().call())


def _books_hold(chain: Chain, manifest: Manifest) -> None:
    addresses = manifest.agents["scribe"]
    state = read_treasury(chain, "scribe", addresses)
    assert manifest.payment_token is not None
    usdc = chain.contract("MockUSDC", manifest.payment_token)
    balance = usdc.functions.balanceOf(addresses.treasury).call()
    assert balance == (
        state.reserve + state.buyback_fund + state.pending_income + state.operator_owed
    )


def test_buyback_burns_exactly_what_it_bought(chain: Chain, manifest: Manifest) -> None:
    fund = _fund_buyback(chain, manifest, 200 * USDC)
    assert fund == 20 * USDC
    addresses = manifest.agents["scribe"]
    token = chain.contract("AgentToken", addresses.token)
    supply = token.functions.totalSupply().call()
    keeper = BuybackKeeper(chain, manifest, settings())

    quote = keeper.quote("scribe")
    assert isinstance(quote, BuybackQuote)
    assert quote.amount_in == fund
    assert quote.min_out == quote.expected_out * 99 // 100
    # the treasury's own floor (TWAP less 3 %) sits under the keeper's 1 % bound
    assert quote.expected_out * 96 // 100 < quote.floor < quote.min_out
    outcome = keeper.execute(quote)

    assert outcome.status is BuybackStatus.BURNED
    assert outcome.burned == quote.expected_out  # nobody traded in between
    assert token.functions.totalSupply().call() == supply - outcome.burned
    assert token.functions.balanceOf(addresses.treasury).call() == 0
    state = read_treasury(chain, "scribe", addresses)
    assert state.buyback_fund == 0
    assert state.total_burned == outcome.burned
    assert state.total_bought_back == fund
    (record,) = buyback_history(chain, addresses)
    assert (record.amount_in, record.burned, record.tx) == (fund, outcome.burned, outcome.tx)
    _books_hold(chain, manifest)


def test_price_moved_beyond_the_bound_reverts_and_the_funds_stay(
    chain: Chain, manifest: Manifest
) -> None:
    fund = _fund_buyback(chain, manifest, 200 * USDC)
    addresses = manifest.agents["scribe"]
    assert manifest.dex is not None
    assert manifest.payment_token is not None
    keeper = BuybackKeeper(chain, manifest, settings(buyback_slippage_bps=100))
    quote = keeper.quote("scribe")
    assert isinstance(quote, BuybackQuote)

    # a front-runner buys the token between the quote and the buyback
    usdc = chain.contract("MockUSDC", manifest.payment_token)
    uni = router(chain, manifest.dex.router)
    chain.send(usdc.functions.approve(manifest.dex.router, 1_000 * USDC), WHALE)
    chain.send(
        uni.functions.swapExactTokensForTokens(
            1_000 * USDC,
            0,
            [manifest.payment_token, addresses.token],
            WHALE.address,
            quote.deadline,
        ),
        WHALE,
    )
    token = chain.contract("AgentToken", addresses.token)
    supply = token.functions.totalSupply().call()
    held = usdc.functions.balanceOf(addresses.treasury).call()

    with pytest.raises(TransactionFailedError, match="INSUFFICIENT_OUTPUT_AMOUNT"):
        keeper.execute(quote)

    state = read_treasury(chain, "scribe", addresses)
    assert state.buyback_fund == fund
    assert state.total_burned == 0
    assert token.functions.totalSupply().call() == supply
    assert usdc.functions.balanceOf(addresses.treasury).call() == held
    _books_hold(chain, manifest)
    # a fresh quote at the moved price is refused too: the treasury's floor is the pool's
    # time-weighted price, which one block's trade barely moves
    retry = BuybackKeeper(chain, manifest, settings(buyback_slippage_bps=0)).run("scribe")
    assert retry.status is BuybackStatus.FAILED
    assert "below the treasury's floor" in retry.reason
    # nor can a keeper that ignores the quote and asks for nothing
    with pytest.raises(TransactionFailedError, match="INSUFFICIENT_OUTPUT_AMOUNT"):
        keeper.execute(BuybackQuote(quote.agent, fund, quote.expected_out, 0, quote.deadline, 0))
    assert read_treasury(chain, "scribe", addresses).buyback_fund == fund


def test_an_expired_quote_reverts(chain: Chain, manifest: Manifest) -> None:
    _fund_buyback(chain, manifest, 200 * USDC)
    keeper = BuybackKeeper(chain, manifest, settings())
    quote = keeper.quote("scribe")
    assert isinstance(quote, BuybackQuote)
    late = BuybackQuote(quote.agent, quote.amount_in, quote.expected_out, quote.min_out, 1)
    with pytest.raises(TransactionFailedError, match="EXPIRED"):
        keeper.execute(late)


def test_only_the_keeper_buys_back(chain: Chain, manifest: Manifest) -> None:
    _fund_buyback(chain, manifest, 200 * USDC)
    stranger = BuybackKeeper(chain, manifest, settings(), signer=dev_account(4))
    quote = stranger.quote("scribe")
    assert isinstance(quote, BuybackQuote)
    with pytest.raises(NotKeeperError, match="is not the treasury's keeper"):
        stranger.execute(quote)
    assert stranger.run_due() == []  # not its treasuries: the scheduled run skips them


def test_small_fund_waits(chain: Chain, manifest: Manifest) -> None:
    _fund_buyback(chain, manifest, 2 * USDC)  # 0.20 USDC in the fund
    outcome = BuybackKeeper(chain, manifest, settings(buyback_min_amount="1")).run("scribe")
    assert isinstance(outcome, BuybackOutcome)
    assert outcome.status is BuybackStatus.BELOW_MINIMUM


def test_without_a_dex_the_buyback_share_accumulates(
    chain: Chain, manifest: Manifest, deployment: Deployment
) -> None:
    scribe = manifest.agents["scribe"]
    assert manifest.payment_token is not None
    bare = chain.deploy(
        "AgentTreasury",
        manifest.payment_token,
        scribe.config,
        scribe.stake,
        scribe.token,
        ZERO_ADDRESS,
        dev_account(0).address,
        dev_account(0).address,
        scribe.timelock,
        1800,
        300,
    )
    no_dex = manifest.model_copy(
        update={"agents": {"scribe": scribe.model_copy(update={"treasury": bare.address})}}
    )
    for _ in range(2):
        pay(chain, no_dex, "scribe", 100 * USDC)
        chain.send(bare.functions.distribute())
    assert bare.functions.buybackBalance().call() == 20 * USDC
    outcome = BuybackKeeper(chain, no_dex, settings()).run("scribe")
    assert outcome.status is BuybackStatus.NO_DEX
    assert "accumulates (20 USDC held)" in outcome.reason
    assert bare.functions.buybackBalance().call() == 20 * USDC
    assert not read_treasury(chain, "scribe", no_dex.agents["scribe"]).has_dex


def test_launch_pool_prices_the_token(chain: Chain, manifest: Manifest) -> None:
    assert manifest.dex is not None
    assert manifest.payment_token is not None
    scribe = manifest.agents["scribe"]
    pool = pool_of(chain, manifest.dex, scribe.token, manifest.payment_token)
    assert pool.exists
    # 5,000 USDC against 100,000 SCRIBE: 1 USDC buys just under 20 SCRIBE (0.3 % fee)
    out = (
        router(chain, manifest.dex.router)
        .functions.getAmountsOut(USDC, [manifest.payment_token, scribe.token])
        .call()[-1]
    )
    assert 19_900 * 10**15 < out < 20 * 10**18


def test_the_keeper_observes_the_pool_and_buys_once_the_floor_is_ready(
    chain: Chain, manifest: Manifest
) -> None:
    """An observation older than two windows no longer bounds anything; the scheduled
    keeper records a new one and buys a window later."""
    treasury = chain.contract("AgentTreasury", manifest.agents["scribe"].treasury)
    window = int(treasury.functions.twapWindow().call())
    pay(chain, manifest, "scribe", 200 * USDC)
    chain.send(treasury.functions.distribute())
    advance_time(chain.w3, 3 * window)
    keeper = BuybackKeeper(chain, manifest, settings())

    stale = keeper.quote("scribe")
    assert isinstance(stale, BuybackOutcome)
    assert stale.status is BuybackStatus.WAITING_FOR_PRICE
    assert "after the keeper's next observation" in stale.reason

    (waiting,) = keeper.run_due(["scribe"])  # observes, then finds the floor not ready
    assert waiting.status is BuybackStatus.WAITING_FOR_PRICE
    assert "ready at chain time" in waiting.reason
    assert keeper.observe("scribe") is None  # nothing due within the window

    advance_time(chain.w3, window + 1)
    (bought,) = keeper.run_due(["scribe"])
    assert bought.status is BuybackStatus.BURNED, bought.reason
    assert bought.amount_in == 20 * USDC
