"""One agent's governance as a holder or guardian walks it: propose, vote, queue,
execute, cancel, pause.

Each step checks the governor's rules first (the proposal threshold, the
proposal's state, the signer's voting power at the snapshot) and raises a typed
:mod:`dao.errors` error that says what is wrong and when it will be right, so
nothing that would revert is sent. With ``wait`` on a local chain a step that is
only early moves the chain's clock to when it is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxReceipt

from agents.core.live_config import LiveConfig, read_live_config
from agents.core.money import format_tokens
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.manifest import AgentAddresses
from contracts.session import is_local
from contracts.unsigned import UnsignedTx
from dao import governor as gov
from dao import guardian as guard
from dao.changes import ConfigCall, parse_changes, to_actions
from dao.describe import describe_action
from dao.errors import (
    AlreadyVotedError,
    ConfigChangeError,
    DuplicateProposalError,
    NotEnoughVotesError,
    ProposalStateError,
)
from dao.proposals import (
    Proposal,
    ProposalStatus,
    find_proposal,
    format_time,
    list_proposals,
    proposal_status,
)

__all__ = ["AgentGovernance", "Executed", "Voted", "next_wait", "parse_support"]

_SUPPORT = {
    "for": gov.Support.FOR,
    "against": gov.Support.AGAINST,
    "abstain": gov.Support.ABSTAIN,
}
_OPEN = (gov.ProposalState.PENDING, gov.ProposalState.ACTIVE)


def parse_support(text: str) -> gov.Support:
    """``for``, ``against`` or ``abstain`` (any case) as the governor's vote type.

    Raises:
        ProposalStateError: any other word.
    """
    choice = _SUPPORT.get(text.lower())
    if choice is None:
        raise ProposalStateError(f"{text!r}: vote for, against or abstain")
    return choice


def next_wait(status: ProposalStatus) -> int | None:
    """The chain time the proposal waits for before its next step (voting opens, voting
    closes, the timelock delay ends), or None when nothing is waiting on the clock."""
    if status.state == gov.ProposalState.PENDING:
        return status.snapshot
    if status.state == gov.ProposalState.ACTIVE:
        return status.deadline
    if status.state == gov.ProposalState.QUEUED and status.now < status.eta:
        return status.eta
    return None


@dataclass(frozen=True)
class Voted:
    """A vote cast: the proposal, the votes it carried, the tallies after it."""

    proposal: Proposal
    power: int
    status: ProposalStatus


@dataclass(frozen=True)
class Executed:
    """An executed proposal: its receipt and the config version it produced."""

    proposal: Proposal
    receipt: TxReceipt
    config_version: int


@dataclass(frozen=True)
class AgentGovernance:
    """One launched agent's governor, config, treasury and timelock on one chain."""

    name: str
    chain: Chain
    governor: Contract
    config: Contract
    treasury: Contract
    timelock: Contract
    payment_decimals: int
    """Decimals of the payment token (prices and budgets are given and shown in dollars)."""
    start_block: int = 0
    """Where event scans start: the deployment's first block."""

    @classmethod
    def of(
        cls,
        chain: Chain,
        name: str,
        addresses: AgentAddresses,
        *,
        payment_decimals: int,
        start_block: int = 0,
    ) -> AgentGovernance:
        """Bind the agent's contracts at ``addresses``."""
        return cls(
            name=name,
            chain=chain,
            governor=chain.contract("AgentGovernor", addresses.governor),
            config=chain.contract("AgentConfig", addresses.config),
            treasury=chain.contract("AgentTreasury", addresses.treasury),
            timelock=chain.contract("AgentTimelock", addresses.timelock),
            payment_decimals=payment_decimals,
            start_block=start_block,
        )

    # ------------------------------------------------------------------ reading

    def now(self) -> int:
        """The chain's clock (latest block timestamp)."""
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def proposal(self, reference: str) -> Proposal:
        """The proposal an id or unique prefix names (see :func:`dao.proposals.find_proposal`)."""
        return find_proposal(self.governor, reference, self.start_block)

    def proposals(self) -> list[Proposal]:
        """Every proposal of this agent, oldest first."""
        return list_proposals(self.governor, self.start_block)

    def status(self, proposal: Proposal) -> ProposalStatus:
        """Where ``proposal`` stands now."""
        return proposal_status(self.governor, proposal)

    def voting_power(self, account: str, timepoint: int | None = None) -> int:
        """``account``'s staked votes at ``timepoint`` (default: the last settled second,
        which is what the governor checks a proposer against)."""
        if timepoint is None:
            timepoint = int(self.governor.functions.clock().call()) - 1
        return int(self.governor.functions.getVotes(account, timepoint).call())

    def describe(self, proposal: Proposal) -> list[str]:
        """Each of the proposal's actions in words, against the config it was made for."""
        before = self._config_at(proposal.block_number)
        contracts = {"config": self.config, "treasury": self.treasury, "timelock": self.timelock}
        return [
            describe_action(a, contracts, before, self.payment_decimals) for a in proposal.actions
        ]

    def _config_at(self, block: int) -> LiveConfig:
        """The config as it was at ``block`` (the current one if the node keeps no history)."""
        try:
            struct = self.config.functions.config().call(block_identifier=block)
            version = self.config.functions.version().call(block_identifier=block)
            paused = self.config.functions.paused().call(block_identifier=block)
            return LiveConfig.from_struct(version, struct, paused)
        except Exception:  # a pruned node refuses old state; now is the next best thing
            return read_live_config(self.config)

    # ------------------------------------------------------------------ clock

    def wait_until(self, timestamp: int) -> None:
        """Move a local chain's clock just past ``timestamp``.

        Raises:
            ProposalStateError: not a local chain (only anvil lets the clock move).
        """
        if not is_local(self.chain):
            raise ProposalStateError("--wait advances the clock, which only a local chain allows")
        gap = timestamp - self.now() + 1
        if gap > 0:
            advance_time(self.chain.w3, gap)

    def advance(self, reference: str) -> ProposalStatus:
        """Move a local chain's clock past what the proposal waits for next (see
        :func:`next_wait`); its status after. Nothing moves when it waits for nothing.

        Raises:
            ProposalStateError: not a local chain.
        """
        proposal = self.proposal(reference)
        until = next_wait(self.status(proposal))
        if until is not None:
            self.wait_until(until)
        return self.status(proposal)

    def _ready(
        self, proposal: Proposal, wait: bool, early_until: Callable[[ProposalStatus], int | None]
    ) -> ProposalStatus:
        """The proposal's status; when ``early_until`` says the step is only early (it returns
        when the step is allowed) and ``wait`` is set, first move the clock there."""
        status = self.status(proposal)
        until = early_until(status)
        if wait and until is not None:
            self.wait_until(until)
            status = self.status(proposal)
        return status

    # ------------------------------------------------------------------ steps

    def plan(self, changes: Sequence[str], *, files: bool = True) -> list[ConfigCall]:
        """The config calls that make ``--set`` assignments true of the live config, checked
        against the price band and the current guardian (``files=False``: ``@file`` values
        are refused, for changes that come from the web).

        Raises:
            ConfigChangeError: see :func:`dao.changes.parse_changes`; also a number too
                large or too precise to use.
        """
        current = read_live_config(self.config)
        band = (
            int(self.config.functions.priceFloor().call()),
            int(self.config.functions.priceCeiling().call()),
        )
        guardian = str(self.config.functions.guardian().call())
        try:
            return parse_changes(
                changes,
                current,
                decimals=self.payment_decimals,
                price_band=band,
                guardian=guardian,
                files=files,
            )
        except ArithmeticError:  # decimal's InvalidOperation on a value like 1e30
            raise ConfigChangeError(
                f"--set {', '.join(changes)}: a number too large or too precise to use"
            ) from None

    def describe_calls(self, calls: Sequence[ConfigCall]) -> list[str]:
        """Each call in words against the live config: the diff a proposal would make."""
        contracts = {"config": self.config, "treasury": self.treasury, "timelock": self.timelock}
        current = read_live_config(self.config)
        return [
            describe_action(a, contracts, current, self.payment_decimals)
            for a in to_actions(self.config, list(calls), contracts)
        ]

    def propose(
        self, calls: Sequence[ConfigCall], description: str, proposer: LocalAccount
    ) -> Proposal:
        """Propose ``calls`` to the holders; returns the proposal as the chain recorded it.

        Raises:
            ProposalStateError: an empty description.
            NotEnoughVotesError: the proposer's votes are below the proposal threshold.
            DuplicateProposalError: the same changes and description were proposed already.
        """
        actions, pid = self._checked_proposal(calls, description, proposer.address)
        gov.propose(self.chain, self.governor, actions, description, proposer)
        return self.proposal(str(pid))

    def prepare_propose(
        self, calls: Sequence[ConfigCall], description: str, proposer: str
    ) -> tuple[int, UnsignedTx]:
        """The proposal's id and the transaction for ``proposer``'s own wallet, checked as
        :meth:`propose` checks it."""
        actions, pid = self._checked_proposal(calls, description, proposer)
        return pid, gov.propose_tx(self.governor, actions, description)

    def _checked_proposal(
        self, calls: Sequence[ConfigCall], description: str, proposer: str
    ) -> tuple[list[gov.Action], int]:
        if not description.strip():
            raise ProposalStateError("--description cannot be empty: voters read it")
        actions = to_actions(
            self.config, list(calls), {"treasury": self.treasury, "timelock": self.timelock}
        )
        threshold = int(self.governor.functions.proposalThreshold().call())
        power = self.voting_power(proposer)
        if power < threshold:
            raise NotEnoughVotesError(
                f"{proposer} has {format_tokens(power)} votes; proposing to {self.name} "
                f"needs {format_tokens(threshold)} (stake more tokens, or wait a block after "
                "staking)"
            )
        pid = gov.proposal_id(self.governor, actions, description)
        if int(self.governor.functions.proposalSnapshot(pid).call()) != 0:
            raise DuplicateProposalError(pid)
        return actions, pid

    def vote(
        self,
        reference: str,
        support: gov.Support,
        voter: LocalAccount,
        reason: str = "",
        *,
        wait: bool = False,
    ) -> Voted:
        """Cast ``voter``'s votes at the snapshot on an active proposal.

        Raises:
            ProposalStateError: voting has not opened (without ``wait``) or has closed.
            AlreadyVotedError: the voter voted on it already.
            NotEnoughVotesError: the voter had no staked votes at the snapshot.
        """
        proposal = self.proposal(reference)
        status = self._ready(
            proposal,
            wait,
            lambda s: s.snapshot if s.state == gov.ProposalState.PENDING else None,
        )
        power = self._checked_vote(proposal, status, voter.address)
        gov.vote(self.chain, self.governor, proposal.id, support, voter, reason)
        return Voted(proposal, power, self.status(proposal))

    def prepare_vote(
        self, reference: str, support: gov.Support, voter: str, reason: str = ""
    ) -> UnsignedTx:
        """The vote for ``voter``'s own wallet, checked as :meth:`vote` checks it."""
        proposal = self.proposal(reference)
        self._checked_vote(proposal, self.status(proposal), voter)
        return gov.vote_tx(self.governor, proposal.id, support, reason)

    def _checked_vote(self, proposal: Proposal, status: ProposalStatus, voter: str) -> int:
        """``voter``'s votes on ``proposal``, or the typed error why it cannot vote now."""
        if status.state == gov.ProposalState.PENDING:
            raise ProposalStateError(
                f"voting on proposal {proposal.id} opens {format_time(status.snapshot, status.now)}"
                " (--wait on a local chain)"
            )
        if status.state != gov.ProposalState.ACTIVE:
            raise ProposalStateError(
                f"voting on proposal {proposal.id} closed "
                f"{format_time(status.deadline, status.now)}; it is {status.state_name}"
            )
        if self.governor.functions.hasVoted(proposal.id, voter).call():
            raise AlreadyVotedError(voter, proposal.id)
        power = self.voting_power(voter, status.snapshot)
        if power == 0:
            raise NotEnoughVotesError(
                f"{voter} had no staked votes when voting opened "
                f"({format_time(status.snapshot, status.now)}); stake before a proposal is made"
            )
        return power

    def queue(
        self, reference: str, signer: LocalAccount | None = None, *, wait: bool = False
    ) -> tuple[Proposal, ProposalStatus]:
        """Queue a succeeded proposal in the timelock; returns it and its status (with its eta).

        Raises:
            ProposalStateError: voting is still open (without ``wait``), or it did not pass.
        """
        proposal = self.proposal(reference)
        status = self._ready(proposal, wait, lambda s: s.deadline if s.state in _OPEN else None)
        self._checked_queue(proposal, status)
        gov.queue(self.chain, self.governor, proposal.actions, proposal.description, signer)
        return proposal, self.status(proposal)

    def prepare_queue(self, reference: str) -> UnsignedTx:
        """The queue transaction for any wallet, checked as :meth:`queue` checks it."""
        proposal = self.proposal(reference)
        self._checked_queue(proposal, self.status(proposal))
        return gov.queue_tx(self.governor, proposal.actions, proposal.description)

    def _checked_queue(self, proposal: Proposal, status: ProposalStatus) -> None:
        if status.state in _OPEN:
            raise ProposalStateError(
                f"voting on proposal {proposal.id} is open until "
                f"{format_time(status.deadline, status.now)} (--wait on a local chain)"
            )
        if status.state != gov.ProposalState.SUCCEEDED:
            raise ProposalStateError(
                f"proposal {proposal.id} is {status.state_name} ({status.tallies()}); "
                "only a succeeded proposal can be queued"
            )

    def execute(
        self, reference: str, signer: LocalAccount | None = None, *, wait: bool = False
    ) -> Executed:
        """Execute a queued proposal whose timelock delay has passed (anyone may).

        Raises:
            ProposalStateError: not queued, or still in the timelock (without ``wait``).
        """
        proposal = self.proposal(reference)
        status = self._ready(
            proposal,
            wait,
            lambda s: s.eta if s.state == gov.ProposalState.QUEUED and s.now < s.eta else None,
        )
        self._checked_execute(proposal, status)
        receipt = gov.execute(
            self.chain, self.governor, proposal.actions, proposal.description, signer
        )
        version = int(self.config.functions.version().call())
        return Executed(proposal, receipt, version)

    def prepare_execute(self, reference: str) -> UnsignedTx:
        """The execute transaction for any wallet, checked as :meth:`execute` checks it."""
        proposal = self.proposal(reference)
        self._checked_execute(proposal, self.status(proposal))
        return gov.execute_tx(self.governor, proposal.actions, proposal.description)

    def _checked_execute(self, proposal: Proposal, status: ProposalStatus) -> None:
        if status.state != gov.ProposalState.QUEUED:
            raise ProposalStateError(
                f"proposal {proposal.id} is {status.state_name}; only a queued proposal executes"
            )
        if status.now < status.eta:
            raise ProposalStateError(
                f"proposal {proposal.id} is in the timelock until "
                f"{format_time(status.eta, status.now)} (--wait on a local chain)"
            )

    def cancel(self, reference: str, guardian: LocalAccount) -> tuple[Proposal, str]:
        """The guardian cancels a queued proposal in the timelock; returns it and the tx.

        Raises:
            ProposalStateError: the proposal is not queued.
            GuardianError: the signer is not the guardian, or the proposal may not be canceled.
        """
        proposal = self.proposal(reference)
        status = self.status(proposal)
        if status.state != gov.ProposalState.QUEUED:
            raise ProposalStateError(
                f"proposal {proposal.id} is {status.state_name}; the guardian cancels only a "
                "queued proposal"
            )
        tx = guard.cancel_queued(
            self.chain,
            self.governor,
            self.timelock,
            proposal.actions,
            proposal.description,
            guardian,
        )
        return proposal, tx

    def pause(self, guardian: LocalAccount) -> guard.PauseResult:
        """The guardian's emergency stop: the agent and its treasury's outflows.

        Raises:
            GuardianError: the signer is not the guardian.
        """
        return guard.pause(self.chain, self.config, self.treasury, guardian)
