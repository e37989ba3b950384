"""Short-lived capital against the live embedded deployment, as an attacker would try it:
through the CLI and plain contract calls.

- **Rented votes.** An account with no tokens borrows 250k SCRIBE, stakes, proposes,
  lets the snapshot pass, unstakes and tries to repay: the tokens are in the unstake
  cooldown until after the vote (and the timelock) would be over, so the loan cannot be
  repaid while its votes count.
- **Just-in-time staking.** A big stake arriving right before ``distribute`` and claiming
  12 s later takes at most 1 % of that distribution: the stakers' share streams over
  ``reward_duration``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner
from web3 import Web3
from web3.exceptions import ContractLogicError

from agents.app import money_cli as cli
from agents.core.errors import TransactionFailedError
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from dao import governor as gov
from dao.changes import ConfigCall, to_actions
from tests.conftest import Deployment
from tests.treasury.support import now, pay
from treasury.errors import TreasuryError
from treasury.staking import claim, stake, unstake, withdraw

TOKEN = 10**18
USDC = 10**6
LENDER, ATTACKER, HOLDER = dev_account(1), dev_account(7), dev_account(2)
LOAN = 250_000 * TOKEN


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    cli.register(app)
    return app


@pytest.fixture
def env(deployment: Deployment, tmp_path: Path) -> dict[str, str]:
    shutil.copy(deployment.settings.manifest_path, tmp_path / "deployments.json")
    return {
        "AGENTDAO_HOME": str(tmp_path),
        "AGENTDAO_RPC_URL": deployment.chain.rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
    }


def test_a_loan_staked_to_vote_cannot_be_repaid_before_the_vote_ends(
    app: typer.Typer, env: dict[str, str], chain: Chain, deployment: Deployment
) -> None:
    manifest = deployment.result.manifest
    addresses = manifest.agents["scribe"]
    token = chain.contract("AgentToken", addresses.token)
    governor = chain.contract("AgentGovernor", addresses.governor)
    config = chain.contract("AgentConfig", addresses.config)
    assert token.functions.balanceOf(ATTACKER.address).call() == 0

    # the loan: the lender hands over 250k and expects it back within the vote
    chain.send(token.functions.transfer(ATTACKER.address, LOAN), LENDER)
    stake(chain, addresses, ATTACKER, LOAN)
    advance_time(chain.w3, 1)
    actions = to_actions(config, [ConfigCall("setSkillPrice", ("headline", 999_000_000))])
    description = "raise the headline price"
    pid = gov.propose(chain, governor, actions, description, ATTACKER)
    snapshot = int(governor.functions.proposalSnapshot(pid).call())
    deadline = int(governor.functions.proposalDeadline(pid).call())
    # quorum is a share of the token's supply fixed at proposal time, not of what is staked
    supply = int(token.functions.totalSupply().call())
    quorum_percent = deployment.agents_file.agents["scribe"].governance.quorum_percent
    assert int(governor.functions.proposalQuorum(pid).call()) == supply * quorum_percent // 100

    # the snapshot second passes; the attacker votes with the borrowed weight, then leaves
    advance_time(chain.w3, snapshot - now(chain) + 1)
    gov.vote(chain, governor, pid, gov.Support.FOR, ATTACKER)
    result = CliRunner().invoke(app, ["unstake", "scribe", "--from", "7"], env=env)
    assert result.exit_code == 0, result.output
    assert "cooling down" in result.output
    assert "agentdao withdraw scribe" in result.output

    # repaying needs the tokens back: withdraw refuses, through the CLI and on chain
    result = CliRunner().invoke(app, ["withdraw", "scribe", "--from", "7"], env=env)
    assert result.exit_code != 0
    assert "cooling down" in result.output
    staking = chain.contract("AgentStake", addresses.stake)
    with pytest.raises((ContractLogicError, TransactionFailedError)):
        staking.functions.withdraw().call({"from": ATTACKER.address})
    with pytest.raises((ContractLogicError, TransactionFailedError)):
        token.functions.transfer(LENDER.address, LOAN).call({"from": ATTACKER.address})

    amount, ready_at = staking.functions.pendingWithdrawal(ATTACKER.address).call()
    assert amount == LOAN
    # locked past the end of the vote and past the earliest execution
    spec = deployment.agents_file.agents["scribe"].governance
    assert ready_at > deadline + spec.timelock_delay
    assert int(staking.functions.cooldown().call()) == (
        spec.voting_delay + spec.voting_period + spec.late_quorum_extension + spec.timelock_delay
    )

    # still locked one second before the vote ends
    advance_time(chain.w3, deadline - now(chain) - 1)
    with pytest.raises(TreasuryError, match="cooling down"):
        withdraw(chain, addresses, ATTACKER)
    # once the cooldown is over the loan can finally be repaid
    advance_time(chain.w3, ready_at - now(chain) + 1)
    paid, _ = withdraw(chain, addresses, ATTACKER)
    assert paid == LOAN
    chain.send(token.functions.transfer(LENDER.address, LOAN), ATTACKER)


def test_a_stake_arriving_just_before_distribute_takes_at_most_one_percent(
    chain: Chain, deployment: Deployment
) -> None:
    manifest = deployment.result.manifest
    addresses = manifest.agents["scribe"]
    token = chain.contract("AgentToken", addresses.token)
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    staking = chain.contract("AgentStake", addresses.stake)

    # an honest holder has staked for a while; a month of income is waiting
    stake(chain, addresses, HOLDER, 100_000 * TOKEN)
    advance_time(chain.w3, 3600)
    pay(chain, manifest, "scribe", 1_000 * USDC)

    # the sniper borrows 250k (2.5x the honest stake), stakes right before distribute
    chain.send(token.functions.transfer(ATTACKER.address, LOAN), LENDER)
    stake(chain, addresses, ATTACKER, LOAN)
    before = int(treasury.functions.totalToStakers().call())
    chain.send(treasury.functions.distribute(), dev_account(0))
    to_stakers = int(treasury.functions.totalToStakers().call()) - before
    assert to_stakers > 0

    advance_time(chain.w3, 12)
    taken, _ = claim(chain, addresses, ATTACKER)
    unstake(chain, addresses, ATTACKER)
    assert taken <= to_stakers // 100, (taken, to_stakers)
    # what the sniper did not take keeps streaming to the honest holder
    duration = int(staking.functions.rewardDuration().call())
    advance_time(chain.w3, duration)
    earned, _ = claim(chain, addresses, HOLDER)
    assert earned + taken <= to_stakers
    assert earned >= to_stakers - taken - to_stakers // 1000
