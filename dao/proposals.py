"""Proposals as the chain knows them: found from the governor's ``ProposalCreated``
events (so no local state is needed to queue or execute), with their live status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from web3.contract import Contract
from web3.types import EventData

from agents.core.money import format_tokens
from contracts.logs import scan_events
from dao.errors import ProposalNotFoundError
from dao.governor import Action, ProposalState

__all__ = [
    "Proposal",
    "ProposalStatus",
    "find_proposal",
    "format_time",
    "list_proposals",
    "proposal_status",
]


@dataclass(frozen=True)
class Proposal:
    """A proposal as created: what it does and when its vote runs."""

    id: int
    proposer: str
    actions: tuple[Action, ...]
    description: str
    vote_start: int
    """Snapshot timepoint (seconds: the stake's clock is timestamps)."""
    vote_end: int
    """Deadline as created; a late quorum may extend it (see ``ProposalStatus``)."""
    block_number: int
    tx_hash: str

    @classmethod
    def from_event(cls, event: EventData) -> Proposal:
        """Build from a decoded ``ProposalCreated`` log."""
        args = event["args"]
        actions = tuple(
            Action(target=t, calldata=bytes(c), value=int(v))
            for t, v, c in zip(args["targets"], args["values"], args["calldatas"], strict=True)
        )
        return cls(
            id=int(args["proposalId"]),
            proposer=str(args["proposer"]),
            actions=actions,
            description=str(args["description"]),
            vote_start=int(args["voteStart"]),
            vote_end=int(args["voteEnd"]),
            block_number=int(event["blockNumber"]),
            tx_hash=event["transactionHash"].to_0x_hex(),
        )


@dataclass(frozen=True)
class ProposalStatus:
    """Where a proposal stands now."""

    state: ProposalState
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum: int
    """Votes needed (for + abstain), at the snapshot; an estimate while still pending."""
    snapshot: int
    deadline: int
    eta: int
    """When a queued proposal may execute (0 until queued)."""
    now: int
    """The chain's clock (latest block timestamp)."""

    @property
    def quorum_reached(self) -> bool:
        """For + abstain meet the quorum (GovernorCountingSimple's rule)."""
        return self.votes_for + self.votes_abstain >= self.quorum

    @property
    def state_name(self) -> str:
        """The state in words: ``active``, ``queued``..."""
        return self.state.name.lower()

    def tallies(self) -> str:
        """``for 300,000, against 0, abstain 0; quorum 40,000 (reached)`` in whole tokens."""
        reached = "reached" if self.quorum_reached else "not reached"
        return (
            f"for {format_tokens(self.votes_for)}, against {format_tokens(self.votes_against)}, "
            f"abstain {format_tokens(self.votes_abstain)}; quorum {format_tokens(self.quorum)} "
            f"({reached})"
        )


def list_proposals(governor: Contract, from_block: int = 0) -> list[Proposal]:
    """Every proposal this governor ever created, oldest first (read in bounded ranges
    with retries: see :mod:`contracts.logs`)."""
    events = scan_events(governor.events.ProposalCreated(), from_block)
    return [Proposal.from_event(e) for e in events]


def find_proposal(governor: Contract, reference: str, from_block: int = 0) -> Proposal:
    """The proposal an id names: the full decimal id, ``0x`` hex, or a unique prefix of
    at least 6 decimal digits (ids are 78-digit hashes).

    Raises:
        ProposalNotFoundError: no proposal, or an ambiguous prefix.
    """
    text = reference.strip()
    proposals = list_proposals(governor, from_block)
    try:
        wanted = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise ProposalNotFoundError(f"{reference!r} is not a proposal id") from None
    exact = [p for p in proposals if p.id == wanted]
    if exact:
        return exact[0]
    if text.isdigit() and len(text) >= 6:
        matches = [p for p in proposals if str(p.id).startswith(text)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ProposalNotFoundError(f"proposal id prefix {text} is ambiguous; give more digits")
    raise ProposalNotFoundError(f"no proposal {text} on governor {governor.address}")


def proposal_status(governor: Contract, proposal: Proposal) -> ProposalStatus:
    """Read the proposal's state, tallies, quorum and times from the governor."""
    pid = proposal.id
    against, for_, abstain = governor.functions.proposalVotes(pid).call()
    snapshot = int(governor.functions.proposalSnapshot(pid).call())
    now = int(governor.w3.eth.get_block("latest")["timestamp"])
    return ProposalStatus(
        state=ProposalState(governor.functions.state(pid).call()),
        votes_for=int(for_),
        votes_against=int(against),
        votes_abstain=int(abstain),
        # fixed when the proposal was made, as a share of the token's supply
        quorum=int(governor.functions.proposalQuorum(pid).call()),
        snapshot=snapshot,
        deadline=int(governor.functions.proposalDeadline(pid).call()),
        eta=int(governor.functions.proposalEta(pid).call()),
        now=now,
    )


def format_time(timestamp: int, now: int) -> str:
    """``2026-11-23 01:10:00 UTC (in 9m 59s)`` against the chain's clock."""
    when = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = timestamp - now
    span = abs(delta)
    days, rest = divmod(span, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    parts.append(f"{seconds}s")
    rendered = " ".join(parts[:2])
    return f"{when} ({'in ' + rendered if delta > 0 else rendered + ' ago'})"
