"""Errors of the treasury package (money seen from Python).

An unknown agent is :class:`agents.core.errors.UnknownAgentError`, shared by every domain.
"""

from __future__ import annotations

from agents.core.errors import AgentDaoError

__all__ = ["NotKeeperError", "TreasuryError"]


class TreasuryError(AgentDaoError):
    """Root of the treasury package's errors."""


class NotKeeperError(TreasuryError, PermissionError):
    """The signer is not the treasury's buyback keeper."""

    def __init__(self, signer: str, keeper: str) -> None:
        super().__init__(f"{signer} is not the treasury's keeper ({keeper}); only it may buy back")
