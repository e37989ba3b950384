"""Errors agentdao raises on purpose.

Every error derives from `AgentDaoError`, whose `str()` is a one-line message fit
to show a user. Subclasses also inherit the matching builtin (web3.py style), so a
caller may catch either `UnknownModelError` or plain `ValueError`.
"""

from __future__ import annotations

__all__ = [
    "AgentDaoError",
    "ChainError",
    "ChainUnreachableError",
    "ConfigFileError",
    "DeploymentError",
    "ModelConfigurationError",
    "SimulatedProviderError",
    "SkillExecutionError",
    "TransactionFailedError",
    "UnknownModelError",
]


class AgentDaoError(Exception):
    """Root of every error agentdao raises on purpose.

    Attributes:
        message: One line, fit to show a user (the CLI prints it as is).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnknownModelError(AgentDaoError, ValueError):
    """A `provider:model` string this install cannot run (malformed, unknown provider,
    or a provider whose LangChain integration package is not installed)."""

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.reason = reason
        super().__init__(f"unknown model {model!r}: {reason}")


class ModelConfigurationError(AgentDaoError, ValueError):
    """A known model that cannot be set up as configured (bad temperature, missing
    credentials)."""

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.reason = reason
        super().__init__(f"cannot set up model {model!r}: {reason}")


class SimulatedProviderError(AgentDaoError, RuntimeError):
    """The offline model's stand-in for a provider failure, raised on request only."""


class SkillExecutionError(AgentDaoError, RuntimeError):
    """A skill's model call failed; the task produced no result (and must not be paid)."""

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.reason = reason
        super().__init__(f"model {model} failed: {reason}")


class ConfigFileError(AgentDaoError, ValueError):
    """agents.yaml is missing, malformed or invalid."""


class ChainError(AgentDaoError, RuntimeError):
    """Talking to the chain failed."""


class ChainUnreachableError(ChainError, ConnectionError):
    """The JSON-RPC endpoint does not answer."""

    def __init__(self, rpc_url: str, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"cannot reach the chain at {rpc_url}{detail}")
        self.rpc_url = rpc_url


class TransactionFailedError(ChainError):
    """A transaction reverted or could not be sent."""


class DeploymentError(ChainError):
    """Launching an agent's contracts could not complete."""
