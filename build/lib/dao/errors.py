"""Errors of the governance side: bad config changes, unknown proposals, wrong timing.

Each is an `AgentDaoError` (one line fit to show a user) and a builtin, so callers
may catch either.
"""

from __future__ import annotations

from agents.core.errors import AgentDaoError

__all__ = [
    "ConfigChangeError",
    "GovernanceError",
    "ProposalNotFoundError",
    "ProposalStateError",
    "UnknownAgentError",
]


class GovernanceError(AgentDaoError):
    """Root of the governance errors."""


class ConfigChangeError(GovernanceError, ValueError):
    """A ``--set key=value`` that cannot become an AgentConfig call."""


class UnknownAgentError(GovernanceError, LookupError):
    """An agent name the deployment manifest does not list."""

    def __init__(self, name: str, known: list[str]) -> None:
        listed = ", ".join(sorted(known)) or "none launched yet"
        super().__init__(f"unknown agent {name!r} (launched: {listed})")
        self.name = name


class ProposalNotFoundError(GovernanceError, LookupError):
    """No ProposalCreated event of this governor matches the id."""


class ProposalStateError(GovernanceError, RuntimeError):
    """The proposal is not in a state that allows the action (voting closed, not queued...)."""
