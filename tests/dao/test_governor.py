"""A full governance cycle on anvil: stake -> propose -> vote -> queue -> execute."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from agents.core.errors import TransactionFailedError
from agents.core.live_config import read_live_config
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from dao.governor import Action, ProposalState, Support, execute, propose, queue, vote
from tests.conftest import Deployment
from tests.dao.conftest import stake


def _stake(chain: Chain, deployment: Deployment, holder: LocalAccount, amount: int) -> None:
    stake(chain, deployment, holder, amount // 10**18)


def _price_change(chain: Chain, deployment: Deployment, price: int) -> Action:
    config = chain.contract("AgentConfig", deployment.result.manifest.agents["scribe"].config)
    calldata = config.encode_abi("setSkillPrice", ["summarize", price])
    return Action(target=config.address, calldata=bytes.fromhex(calldata[2:]))


def test_passed_proposal_changes_the_skill_price(deployment: Deployment, chain: Chain) -> None:
    spec = deployment.agents_file.agents["scribe"].governance
    addresses = deployment.result.manifest.agents["scribe"]
    governor = chain.contract("AgentGovernor", addresses.governor)
    config = chain.contract("AgentConfig", addresses.config)
    alice, bob = dev_account(1), dev_account(2)
    _stake(chain, deployment, alice, 300_000 * 10**18)
    _stake(chain, deployment, bob, 200_000 * 10**18)
    advance_time(chain.w3, 1)

    actions = [_price_change(chain, deployment, 70_000)]
    description = "Raise summarize to $0.07"
    proposal = propose(chain, governor, actions, description, alice)
    assert governor.functions.state(proposal).call() == ProposalState.PENDING

    advance_time(chain.w3, spec.voting_delay + 1)
    vote(chain, governor, proposal, Support.FOR, alice, reason="worth more")
    vote(chain, governor, proposal, Support.AGAINST, bob)
    advance_time(chain.w3, spec.voting_period + 1)
    assert governor.functions.state(proposal).call() == ProposalState.SUCCEEDED

    queue(chain, governor, actions, description)
    assert governor.functions.state(proposal).call() == ProposalState.QUEUED
    with pytest.raises(TransactionFailedError):
        execute(chain, governor, actions, description)  # timelock delay not over
    advance_time(chain.w3, spec.timelock_delay + 1)
    execute(chain, governor, actions, description, dev_account(7))  # anyone executes

    assert governor.functions.state(proposal).call() == ProposalState.EXECUTED
    assert config.functions.priceOf("summarize").call() == 70_000
    live = read_live_config(config)
    assert live.version == 2
    assert live.skill("summarize") is not None
    assert live.skill("summarize").price == 70_000  # type: ignore[union-attr]
    assert live.config_hash == "0x" + config.functions.configHash().call().hex()


def test_defeated_proposal_cannot_be_queued(deployment: Deployment, chain: Chain) -> None:
    spec = deployment.agents_file.agents["scribe"].governance
    addresses = deployment.result.manifest.agents["scribe"]
    governor = chain.contract("AgentGovernor", addresses.governor)
    config = chain.contract("AgentConfig", addresses.config)
    alice, bob = dev_account(1), dev_account(2)
    _stake(chain, deployment, alice, 100_000 * 10**18)
    _stake(chain, deployment, bob, 200_000 * 10**18)
    advance_time(chain.w3, 1)
    actions = [_price_change(chain, deployment, 90_000)]
    proposal = propose(chain, governor, actions, "Raise to $0.09", alice)
    advance_time(chain.w3, spec.voting_delay + 1)
    vote(chain, governor, proposal, Support.FOR, alice)
    vote(chain, governor, proposal, Support.AGAINST, bob)
    advance_time(chain.w3, spec.voting_period + 1)
    assert governor.functions.state(proposal).call() == ProposalState.DEFEATED
    with pytest.raises(TransactionFailedError, match="GovernorUnexpectedProposalState"):
        queue(chain, governor, actions, "Raise to $0.09")
    assert config.functions.priceOf("summarize").call() == 50_000
    assert config.functions.version().call() == 1


def test_holder_below_threshold_cannot_propose(deployment: Deployment, chain: Chain) -> None:
    governor = chain.contract("AgentGovernor", deployment.result.manifest.agents["scribe"].governor)
    carol = dev_account(3)
    _stake(chain, deployment, carol, 999 * 10**18)  # threshold is 1,000 staked tokens
    advance_time(chain.w3, 1)
    with pytest.raises(TransactionFailedError, match="GovernorInsufficientProposerVotes"):
        propose(chain, governor, [_price_change(chain, deployment, 60_000)], "too small", carol)


def test_config_cannot_be_written_except_through_the_timelock(
    deployment: Deployment, chain: Chain
) -> None:
    config = chain.contract("AgentConfig", deployment.result.manifest.agents["scribe"].config)
    with pytest.raises(TransactionFailedError, match="OwnableUnauthorizedAccount"):
        chain.send(config.functions.setSkillPrice("summarize", 1), dev_account(0))
