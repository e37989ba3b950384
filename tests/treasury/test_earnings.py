"""Earnings end to end on anvil: three holders stake at different times, customers pay, the
distribution job distributes, the stakers' share streams over the reward duration, and each
claims exactly its stake x time share as the streaming accumulator defines it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from agents.app.database import open_database
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.manifest import Manifest
from tests.conftest import Deployment, settings_for
from tests.treasury.support import Accumulator, now, pay, settings
from treasury.distribution import DistributionJob, DistributionStatus
from treasury.ledger import distribution_history, read_treasury
from treasury.staking import claim, stake, unstake

TOKEN = 10**18
USDC = 10**6
ALICE, BOB, CAROL = dev_account(1), dev_account(2), dev_account(3)
OPERATOR = dev_account(0).address


@pytest.fixture
def engine(deployment: Deployment, tmp_path: Path) -> Engine:
    """A database of its own: the chain is reverted after each test, so must the job's state be."""
    return open_database(settings_for(deployment.settings.rpc_url or "", tmp_path))


@pytest.fixture
def manifest(deployment: Deployment) -> Manifest:
    return deployment.result.manifest


def test_three_stakers_claim_exactly_their_share(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    addresses = manifest.agents["scribe"]
    assert manifest.payment_token is not None
    usdc = chain.contract("MockUSDC", manifest.payment_token)
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    job = DistributionJob(chain, engine, manifest, settings())
    stake_contract = chain.contract("AgentStake", addresses.stake)
    model = Accumulator(duration=int(stake_contract.functions.rewardDuration().call()))
    paid_in = 0

    def distribute_via_job() -> None:
        before = treasury.functions.totalToStakers().call()
        (outcome,) = job.run_due(["scribe"])
        assert outcome.status is DistributionStatus.DISTRIBUTED, outcome.reason
        model.notify(treasury.functions.totalToStakers().call() - before, now(chain))

    # Alice stakes first; income arrives while she is alone.
    stake(chain, addresses, ALICE, 100_000 * TOKEN)
    model.stake(ALICE.address, 100_000 * TOKEN, now(chain))
    for amount in (1_250_000, 3_000_001):
        pay(chain, manifest, "scribe", amount)
        paid_in += amount
    distribute_via_job()

    # Bob joins an hour later with half as much.
    advance_time(chain.w3, 3600)
    stake(chain, addresses, BOB, 50_000 * TOKEN)
    model.stake(BOB.address, 50_000 * TOKEN, now(chain))
    pay(chain, manifest, "scribe", 7_777_777, customer=6)
    paid_in += 7_777_777
    distribute_via_job()

    # Carol joins with an odd amount; Alice adds to her stake (settling first).
    advance_time(chain.w3, 600)
    stake(chain, addresses, CAROL, 33_333 * TOKEN + 7)
    model.stake(CAROL.address, 33_333 * TOKEN + 7, now(chain))
    stake(chain, addresses, ALICE, 1 * TOKEN)
    model.stake(ALICE.address, 1 * TOKEN, now(chain))
    pay(chain, manifest, "scribe", 2_000_003, customer=7)
    paid_in += 2_000_003
    distribute_via_job()

    # Alice leaves entirely; what she earned so far stays claimable, and nothing more.
    advance_time(chain.w3, 900)
    unstake(chain, addresses, ALICE)
    model.unstake(ALICE.address, 100_001 * TOKEN, now(chain))
    alice_owed = model.claimable(ALICE.address, now(chain))
    pay(chain, manifest, "scribe", 9_999_999)
    paid_in += 9_999_999
    distribute_via_job()
    advance_time(chain.w3, model.duration)  # every stream has run to its end
    assert model.claimable(ALICE.address, now(chain)) == alice_owed

    for holder in (ALICE, BOB, CAROL):
        assert stake_contract.functions.claimable(holder.address).call() == model.claimable(
            holder.address, now(chain)
        )
    assert stake_contract.functions.rewardPerToken().call() == model._streamed(now(chain))[0]
    assert stake_contract.functions.totalNotified().call() == model.notified

    # Each claims; the money that moves is exactly the model's figure, to the unit.
    for holder in (ALICE, BOB, CAROL):
        before = usdc.functions.balanceOf(holder.address).call()
        amount, tx = claim(chain, addresses, holder)
        expected = model.claim(holder.address, now(chain))
        assert expected > 0
        assert tx is not None
        assert amount == expected
        assert usdc.functions.balanceOf(holder.address).call() - before == expected
        assert stake_contract.functions.claimable(holder.address).call() == 0
    # a second claim finds nothing
    assert claim(chain, addresses, BOB) == (0, None)

    # Alice, unstaked, earns nothing from later income.
    pay(chain, manifest, "scribe", 4_000_000)
    paid_in += 4_000_000
    distribute_via_job()
    advance_time(chain.w3, model.duration)
    assert stake_contract.functions.claimable(ALICE.address).call() == 0
    assert stake_contract.functions.claimable(BOB.address).call() == model.claimable(
        BOB.address, now(chain)
    )

    # Nothing unaccounted: every unit paid in is distributed, and what the treasury holds
    # is exactly its reserve plus its buyback fund (nothing pending after the last run).
    state = read_treasury(chain, "scribe", addresses)
    assert state.total_income == paid_in
    assert state.pending_income == 0
    assert usdc.functions.balanceOf(addresses.treasury).call() == (
        state.reserve + state.buyback_fund + state.operator_owed
    )
    assert (
        state.total_to_stakers
        + state.total_to_operator
        + state.total_to_buyback
        + state.total_to_reserve
        == paid_in
    )
    assert state.total_to_stakers == model.notified
    # the operator's share waits in the treasury until the operator pulls it
    assert state.operator == OPERATOR
    assert state.operator_owed == state.total_to_operator
    # the split is scribe's 50/20/10/20 of each distribution, rounding to the reserve
    history = distribution_history(chain, addresses)
    assert [d.income for d in history] == [4_250_001, 7_777_777, 2_000_003, 9_999_999, 4_000_000]
    for d in history:
        assert d.to_stakers == d.income * 5000 // 10_000
        assert d.to_operator == d.income * 2000 // 10_000
        assert d.to_buyback == d.income * 1000 // 10_000
        assert d.to_reserve == d.income - d.to_stakers - d.to_operator - d.to_buyback
    # the stake holds what it owes (plus rounding dust below one unit per staker per update)
    owed = sum(model.claimable(h.address, now(chain)) for h in (ALICE, BOB, CAROL))
    held = usdc.functions.balanceOf(addresses.stake).call()
    assert owed <= held <= owed + 3 * 2 * len(history)
    # the CLI/API view finds the three stakers from their Staked events
    assert [p.account for p in state.stakers] == [ALICE.address, BOB.address, CAROL.address]
    assert state.stakers[0].staked == 0


def test_income_without_stakers_goes_to_the_reserve(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    addresses = manifest.agents["auditor"]
    pay(chain, manifest, "auditor", 10 * USDC)
    (outcome,) = DistributionJob(chain, engine, manifest, settings()).run_due(["auditor"])
    assert outcome.income == 10 * USDC
    state = read_treasury(chain, "auditor", addresses)
    # auditor: 60/25/5/10, and with nobody staked the stakers' 60 % stays in the reserve
    assert state.total_to_stakers == 0
    assert state.reserve == 7 * USDC
    assert state.buyback_fund == USDC // 2
