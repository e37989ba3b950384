"""Errors of the treasury package (money seen from Python)."""

from __future__ import annotations

from agents.core.errors import AgentDaoError

__all__ = ["NotKeeperError", "TreasuryError", "UnknownTreasuryAgentError"]


class TreasuryError(AgentDaoError):
    """Root of the treasury package's errors."""


class UnknownTreasuryAgentError(TreasuryError, KeyError):
    """An agent name the deployment manifest does not list."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        listed = ", ".join(sorted(known)) or "none launched"
        super().__init__(f"unknown agent {name!r} (launched: {listed})")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class NotKeeperError(TreasuryError, PermissionError):
    """The signer is not the treasury's buyback keeper."""

    def __init__(self, signer: str, keeper: str) -> None:
        super().__init__(f"{signer} is not the treasury's keeper ({keeper}); only it may buy back")
