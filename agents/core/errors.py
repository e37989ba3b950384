"""Errors agentdao raises on purpose.

Every error derives from `AgentDaoError`, whose `str()` is a one-line message fit
to show a user. Subclasses also inherit the matching builtin (web3.py style), so a
caller may catch either `UnknownModelError` or plain `ValueError`.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "AgentDaoError",
    "AgentPausedError",
    "ChainError",
    "ChainUnreachableError",
    "ConfigFileError",
    "DeploymentError",
    "HireError",
    "InvalidAmountError",
    "InvalidTransitionError",
    "ModelConfigurationError",
    "PaymentInUseError",
    "PaymentRejectedError",
    "SettlementError",
    "SettlementPendingError",
    "SimulatedProviderError",
    "SkillExecutionError",
    "SkillStepLimitError",
    "TaskFailedError",
    "ToolBudgetExceededError",
    "ToolExecutionError",
    "TransactionFailedError",
    "UnknownAgentError",
    "UnknownModelError",
    "UnknownSkillError",
    "UnknownToolError",
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


class InvalidAmountError(AgentDaoError, ValueError):
    """Text that is not an amount of a token: not a number, negative, or finer than the
    token's decimals."""

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        super().__init__(f"{text!r} is not an amount of {what}")


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


class SkillStepLimitError(SkillExecutionError):
    """An agentic skill made its ``max_steps`` model calls without reaching a final answer."""

    def __init__(self, model: str, max_steps: int) -> None:
        self.max_steps = max_steps
        super().__init__(model, f"no final answer within the skill's max_steps ({max_steps})")


class UnknownToolError(AgentDaoError, LookupError):
    """A skill names a tool the runtime does not have (``known`` lists the ones it has)."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        listed = ", ".join(self.known) or "none"
        super().__init__(f"unknown tool {name!r} (this runtime has: {listed})")


class ToolExecutionError(AgentDaoError, RuntimeError):
    """A tool an agentic skill called failed; the task produced no result. The tool's own
    exception is the ``__cause__``."""

    def __init__(self, tool: str, reason: str) -> None:
        self.tool = tool
        self.reason = reason
        super().__init__(f"tool {tool} failed: {reason}")


class ToolBudgetExceededError(AgentDaoError, RuntimeError):
    """A tool call would take a task's tool spending past its skill's ``max_cost``."""

    def __init__(self, amount: int, spent: int, max_cost: int) -> None:
        self.amount = amount
        self.spent = spent
        self.max_cost = max_cost
        super().__init__(
            f"a tool cost of {amount} units would exceed the task's max_cost of {max_cost} "
            f"({spent} already spent)"
        )


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


class UnknownAgentError(AgentDaoError, LookupError):
    """No agent of that name: the runtime serves none, or the deployment manifest lists
    none (then ``known`` holds the launched agents' names, and the message lists them).

    The one error for every domain (runtime, governance, treasury), so a caller catches
    one class whatever looked the agent up.
    """

    def __init__(self, name: str, known: Iterable[str] | None = None) -> None:
        self.name = name
        self.known = None if known is None else sorted(known)
        if self.known is None:
            super().__init__(f"no agent named {name!r}")
        else:
            listed = ", ".join(self.known) or "none launched yet"
            super().__init__(f"unknown agent {name!r} (launched: {listed})")


class UnknownSkillError(AgentDaoError, LookupError):
    """The agent sells no skill of that name."""

    def __init__(self, agent: str, skill: str) -> None:
        self.agent = agent
        self.skill = skill
        super().__init__(f"agent {agent!r} has no skill {skill!r}")


class AgentPausedError(AgentDaoError, RuntimeError):
    """The agent is paused by governance (or its guardian) and takes no payments."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        super().__init__(f"agent {agent!r} is paused and takes no payments")


class PaymentRejectedError(AgentDaoError, ValueError):
    """An x402 payment that cannot pay for this call; nothing was charged.

    Attributes:
        reason: A short code (``underpaid``, ``wrong_asset``, ``expired``, ...).
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"payment rejected ({reason}): {detail}")


class PaymentInUseError(AgentDaoError, RuntimeError):
    """The same payment is already paying for a task that has not finished."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(f"this payment is already paying for task {task_id}, still in flight")


class SettlementError(AgentDaoError, RuntimeError):
    """Settling a payment on chain failed; the customer was not charged."""

    def __init__(self, reason: str, task_id: str | None = None) -> None:
        self.reason = reason
        self.task_id = task_id
        super().__init__(f"settlement failed: {reason}")


class SettlementPendingError(AgentDaoError, RuntimeError):
    """The task succeeded but its payment is not settled yet, and still may be (a
    transaction in flight, or an authorization that is still valid). The result is
    held until it settles; the same payment sent again, or a reconcile job, finishes it."""

    def __init__(self, reason: str, task_id: str) -> None:
        self.reason = reason
        self.task_id = task_id
        super().__init__(
            f"settlement pending ({reason}); the result is released once the payment "
            f"settles: send the same payment again or poll GET /tasks/{task_id}"
        )


class TaskFailedError(AgentDaoError, RuntimeError):
    """A paid task produced no result; its payment was not settled."""

    def __init__(self, task_id: str, reason: str) -> None:
        self.task_id = task_id
        self.reason = reason
        super().__init__(f"task {task_id} failed, nothing charged: {reason}")


class InvalidTransitionError(AgentDaoError, RuntimeError):
    """A task state change the state machine forbids (or that another process made first)."""


class HireError(AgentDaoError, RuntimeError):
    """A customer's hire did not produce a result (refused, failed, or unreachable)."""
