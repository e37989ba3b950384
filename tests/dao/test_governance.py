"""The governance steps check the governor's rules before they send, with typed errors;
``wait`` moves a local chain's clock to when a step is allowed."""

from __future__ import annotations

import pytest

from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from dao.changes import ConfigCall
from dao.errors import (
    AlreadyVotedError,
    ConfigChangeError,
    DuplicateProposalError,
    NotEnoughVotesError,
    ProposalStateError,
)
from dao.governance import AgentGovernance, next_wait, parse_support
from dao.governor import ProposalState, Support
from dao.proposals import ProposalStatus
from tests.conftest import Deployment
from tests.dao.conftest import stake

RAISE_PRICE = [ConfigCall("setSkillPrice", ("summarize", 70_000))]


def _scribe(deployment: Deployment, chain: Chain) -> AgentGovernance:
    manifest = deployment.result.manifest
    return AgentGovernance.of(
        chain,
        "scribe",
        manifest.agent("scribe"),
        payment_decimals=6,
        start_block=manifest.start_block,
    )


def test_parse_support() -> None:
    assert parse_support("FOR") is Support.FOR
    assert parse_support("against") is Support.AGAINST
    assert parse_support("abstain") is Support.ABSTAIN
    with pytest.raises(ProposalStateError, match="'maybe': vote for, against or abstain"):
        parse_support("maybe")


def test_a_proposal_walks_through_with_each_early_step_refused_then_waited_for(
    deployment: Deployment, chain: Chain
) -> None:
    scribe = _scribe(deployment, chain)
    alice, bob = dev_account(1), dev_account(2)
    stake(chain, deployment, alice, 300_000)
    advance_time(chain.w3, 1)

    calls = scribe.plan(["price.summarize=0.07"])
    assert calls == RAISE_PRICE
    proposal = scribe.propose(calls, "Raise summarize to $0.07", alice)
    assert scribe.status(proposal).state is ProposalState.PENDING
    assert [p.id for p in scribe.proposals()] == [proposal.id]
    assert scribe.describe(proposal) == ["summarize price 0.05 -> 0.07 USDC"]
    with pytest.raises(DuplicateProposalError, match=f"proposal {proposal.id} already exists"):
        scribe.propose(calls, "Raise summarize to $0.07", alice)

    with pytest.raises(ProposalStateError, match=r"opens .* \(--wait on a local chain\)"):
        scribe.vote(str(proposal.id), Support.FOR, alice)
    voted = scribe.vote(str(proposal.id), Support.FOR, alice, "worth it", wait=True)
    assert voted.power == 300_000 * 10**18
    assert voted.status.votes_for == voted.power
    with pytest.raises(AlreadyVotedError):
        scribe.vote(str(proposal.id), Support.AGAINST, alice)
    with pytest.raises(NotEnoughVotesError, match="had no staked votes when voting opened"):
        scribe.vote(str(proposal.id), Support.AGAINST, bob)  # staked nothing

    with pytest.raises(ProposalStateError, match="is open until"):
        scribe.queue(str(proposal.id))
    with pytest.raises(ProposalStateError, match="only a queued proposal executes"):
        scribe.execute(str(proposal.id))
    queued, status = scribe.queue(str(proposal.id), wait=True)
    assert queued == proposal
    assert status.state is ProposalState.QUEUED
    assert status.eta > status.now

    with pytest.raises(ProposalStateError, match="is in the timelock until"):
        scribe.execute(str(proposal.id))
    done = scribe.execute(str(proposal.id), dev_account(7), wait=True)
    assert done.config_version == 2
    assert scribe.status(proposal).state is ProposalState.EXECUTED
    assert scribe.config.functions.priceOf("summarize").call() == 70_000
    with pytest.raises(ProposalStateError, match="it is executed"):
        scribe.vote(str(proposal.id), Support.FOR, alice)


def test_below_the_threshold_nothing_is_sent(deployment: Deployment, chain: Chain) -> None:
    scribe = _scribe(deployment, chain)
    carol = dev_account(3)
    stake(chain, deployment, carol, 999)  # the threshold is 1,000 staked tokens
    advance_time(chain.w3, 1)
    with pytest.raises(NotEnoughVotesError, match="has 999 votes; proposing to scribe needs 1,000"):
        scribe.propose(RAISE_PRICE, "too small", carol)
    assert scribe.proposals() == []


def test_an_empty_description_or_a_huge_number_is_refused(
    deployment: Deployment, chain: Chain
) -> None:
    scribe = _scribe(deployment, chain)
    with pytest.raises(ProposalStateError, match="--description cannot be empty"):
        scribe.propose(RAISE_PRICE, "  ", dev_account(1))
    with pytest.raises(ConfigChangeError, match="too large or too precise"):
        scribe.plan(["price.summarize=1e30"])


def test_a_defeated_proposal_cannot_be_queued_and_the_error_shows_the_tallies(
    deployment: Deployment, chain: Chain
) -> None:
    scribe = _scribe(deployment, chain)
    alice, bob = dev_account(1), dev_account(2)
    stake(chain, deployment, alice, 100_000)
    stake(chain, deployment, bob, 200_000)
    advance_time(chain.w3, 1)
    proposal = scribe.propose(RAISE_PRICE, "Raise to $0.07", alice)
    scribe.vote(str(proposal.id), Support.FOR, alice, wait=True)
    scribe.vote(str(proposal.id), Support.AGAINST, bob)
    with pytest.raises(ProposalStateError, match=r"is defeated \(for 100,000, against 200,000"):
        scribe.queue(str(proposal.id), wait=True)
    with pytest.raises(ProposalStateError, match="the guardian cancels only a queued proposal"):
        scribe.cancel(str(proposal.id), dev_account(0))


def test_wait_needs_a_local_chain(deployment: Deployment, chain: Chain) -> None:
    remote = Chain(chain.rpc_url, chain.signer)
    remote.chain_id = 8453  # as if Base: its clock cannot be moved
    scribe = AgentGovernance.of(
        remote, "scribe", deployment.result.manifest.agent("scribe"), payment_decimals=6
    )
    with pytest.raises(ProposalStateError, match="only a local chain allows"):
        scribe.wait_until(scribe.now() + 60)


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        (ProposalState.PENDING, 100, 110),  # voting opens at the snapshot
        (ProposalState.ACTIVE, 115, 200),  # voting closes at the deadline
        (ProposalState.QUEUED, 210, 300),  # the timelock ends at the eta
        (ProposalState.QUEUED, 300, None),  # due: nothing to wait for
        (ProposalState.SUCCEEDED, 201, None),
        (ProposalState.EXECUTED, 400, None),
    ],
)
def test_next_wait_is_what_the_next_step_waits_for_on_the_clock(
    state: ProposalState, now: int, expected: int | None
) -> None:
    status = ProposalStatus(state, 0, 0, 0, 1, snapshot=110, deadline=200, eta=300, now=now)
    assert next_wait(status) == expected
