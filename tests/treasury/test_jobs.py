"""The scheduler hook: one tick distributes what is due, then buys back and burns."""

from __future__ import annotations

from pathlib import Path

from agents.app.database import open_database
from contracts.client import Chain
from tests.conftest import Deployment, settings_for
from tests.treasury.support import mature_price_floor, pay, settings
from treasury.buyback import BuybackStatus
from treasury.distribution import DistributionStatus
from treasury.jobs import EarningsJobs
from treasury.ledger import read_treasury

USDC = 10**6


def test_tick_distributes_then_burns(chain: Chain, deployment: Deployment, tmp_path: Path) -> None:
    manifest = deployment.result.manifest
    engine = open_database(settings_for(deployment.settings.rpc_url or "", tmp_path))
    jobs = EarningsJobs(chain, engine, manifest, settings())
    token = chain.contract("AgentToken", manifest.agents["scribe"].token)
    supply = token.functions.totalSupply().call()
    pay(chain, manifest, "scribe", 50 * USDC)
    mature_price_floor(chain, manifest, "scribe")

    tick = jobs.tick()

    by_agent = {o.agent: o for o in tick.distributions}
    assert by_agent["scribe"].status is DistributionStatus.DISTRIBUTED
    assert by_agent["auditor"].status is DistributionStatus.NOTHING_PENDING
    # the runtime's key is scribe's operator: it pulls its 20 % in the same tick
    (withdrawal,) = tick.operator_withdrawals
    assert (withdrawal.agent, withdrawal.amount) == ("scribe", 10 * USDC)
    burns = {o.agent: o for o in tick.buybacks}
    assert burns["scribe"].status is BuybackStatus.BURNED
    assert burns["scribe"].amount_in == 5 * USDC
    assert burns["auditor"].status is BuybackStatus.BELOW_MINIMUM
    state = read_treasury(chain, "scribe", manifest.agents["scribe"])
    assert state.total_burned == burns["scribe"].burned > 0
    assert token.functions.totalSupply().call() == supply - state.total_burned

    # the next tick finds nothing to do
    again = jobs.tick()
    assert {o.status for o in again.distributions} == {DistributionStatus.NOTHING_PENDING}
    assert {o.status for o in again.buybacks} == {BuybackStatus.BELOW_MINIMUM}
