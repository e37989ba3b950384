"""Errors of the governance side: bad config changes, unknown proposals, wrong timing.

Each is an `AgentDaoError` (one line fit to show a user) and a builtin, so callers
may catch either. An unknown agent is :class:`agents.core.errors.UnknownAgentError`,
shared by every domain.
"""

from __future__ import annotations

from agents.core.errors import AgentDaoError

__all__ = [
    "AlreadyVotedError",
    "ConfigChangeError",
    "DuplicateProposalError",
    "GovernanceError",
    "NotEnoughVotesError",
    "ProposalNotFoundError",
    "ProposalStateError",
]


class GovernanceError(AgentDaoError):
    """Root of the governance errors."""


class ConfigChangeError(GovernanceError, ValueError):
    """A ``--set key=value`` that cannot become an AgentConfig call."""


class ProposalNotFoundError(GovernanceError, LookupError):
    """No ProposalCreated event of this governor matches the id."""


class ProposalStateError(GovernanceError, RuntimeError):
    """The proposal is not in a state that allows the action (voting closed, not queued...)."""


class NotEnoughVotesError(GovernanceError, PermissionError):
    """The signer's staked votes do not allow the step (proposing below the threshold,
    voting with nothing staked at the snapshot)."""


class AlreadyVotedError(GovernanceError, RuntimeError):
    """The signer already voted on this proposal (a vote cannot be changed)."""

    def __init__(self, account: str, proposal_id: int) -> None:
        self.account = account
        self.proposal_id = proposal_id
        super().__init__(f"{account} already voted on proposal {proposal_id}")


class DuplicateProposalError(GovernanceError, RuntimeError):
    """A proposal with the same actions and description exists already (same id)."""

    def __init__(self, proposal_id: int) -> None:
        self.proposal_id = proposal_id
        super().__init__(
            f"proposal {proposal_id} already exists with these changes and description"
        )
