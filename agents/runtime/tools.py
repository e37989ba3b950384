"""The tools agentic skills call, found by the names governance gives them.

A skill's live config names its tools (`LiveSkill.tools`); the runtime holds one
`ToolRegistry` and turns those names into LangChain tools for each task. Guarantees:

- A name the registry does not know is an `UnknownToolError`, raised before the skill
  runs (and by `ToolRegistry.check`, for vetting a config before it is used).
- A tool that must know its task (who calls, on which task, what it may still spend)
  is built fresh per task by a factory from a `TaskContext`; no task sees another's.
- A family of names (``hire:<agent>/<skill>``) is served by one factory registered for
  the prefix, so governance can name any target without the registry listing each.
- Every tool a task may spend money through shares the task's one `ToolBudget`, which
  refuses a charge past the skill's ``max_cost``.

Names in the config are free-form (``hire:scribe/summarize``); the name a tool goes by
for the model must be provider-safe (``^[A-Za-z0-9_-]{1,64}$``): `tool_function_name`
gives one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from langchain_core.tools import BaseTool, tool

from agents.core.errors import ToolBudgetExceededError, UnknownToolError
from agents.core.live_config import LiveSkill
from agents.runtime import _extract

__all__ = [
    "BUILTIN_TOOLS",
    "TaskContext",
    "ToolBudget",
    "ToolFactory",
    "ToolFamily",
    "ToolRegistry",
    "builtin_registry",
    "extract_risks",
    "tool_function_name",
    "word_count",
]


class ToolBudget:
    """What one task's tools may still spend, in payment-token units (thread-safe).

    A tool that pays (a hire) calls `charge` before it pays and `refund` if the payment
    did not happen, so the sum of charges never passes ``max_cost``.
    """

    def __init__(self, max_cost: int) -> None:
        if max_cost < 0:
            raise ValueError(f"max_cost must not be negative, got {max_cost}")
        self.max_cost: Final = max_cost
        self._spent = 0
        self._lock = threading.Lock()

    @property
    def spent(self) -> int:
        """Units charged and not refunded."""
        return self._spent

    @property
    def remaining(self) -> int:
        """Units the task's tools may still charge."""
        return self.max_cost - self._spent

    def charge(self, amount: int) -> None:
        """Count ``amount`` as spent.

        Raises:
            ToolBudgetExceededError: it would take the total past ``max_cost``; nothing
                is counted.
        """
        if amount < 0:
            raise ValueError(f"a charge must not be negative, got {amount}")
        with self._lock:
            if self._spent + amount > self.max_cost:
                raise ToolBudgetExceededError(amount, self._spent, self.max_cost)
            self._spent += amount

    def refund(self, amount: int) -> None:
        """Give back a charge whose payment did not happen."""
        with self._lock:
            if not 0 <= amount <= self._spent:
                raise ValueError(f"cannot refund {amount} of {self._spent} spent")
            self._spent -= amount


@dataclass(frozen=True, slots=True)
class TaskContext:
    """The task a skill's tools are built for."""

    agent: str
    """The agent running the skill (the payer of any hire its tools make)."""
    skill: LiveSkill
    """The skill as the live config in force for the task has it."""
    task_id: str
    """The task's id (a hire's parent task)."""
    config_version: int
    """The live config version serving the task."""
    budget: ToolBudget
    """The task's tool spending, bounded by ``skill.max_cost``."""

    @classmethod
    def start(cls, agent: str, skill: LiveSkill, task_id: str, config_version: int) -> TaskContext:
        """The context of a new task, with nothing spent yet."""
        return cls(agent, skill, task_id, config_version, ToolBudget(skill.max_cost))


ToolFactory = Callable[[TaskContext], BaseTool]
"""Builds a tool for one task."""

ToolFamily = Callable[[str, TaskContext], BaseTool]
"""Builds a tool for one task from the part of its name after the family's prefix (for
``hire:scribe/summarize`` under ``hire:``, ``scribe/summarize``). It raises an
`AgentDaoError` (e.g. `UnknownToolError`) for an argument it cannot serve."""

_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NOT_IN_FUNCTION_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def tool_function_name(name: str) -> str:
    """A provider-safe name for a configured tool name: ``hire:scribe/summarize`` ->
    ``hire_scribe_summarize`` (OpenAI and others accept ``[A-Za-z0-9_-]``, 64 at most)."""
    return _NOT_IN_FUNCTION_NAME.sub("_", name).strip("_")[:64] or "tool"


class ToolRegistry:
    """Tools by configured name: fixed tools, per-task factories and prefixed families.

    Immutable: `with_tool` and `with_family` return a new registry, so the runtime can
    keep one shared registry and extend it for a single call.
    """

    def __init__(
        self,
        tools: Mapping[str, BaseTool | ToolFactory] | None = None,
        families: Mapping[str, ToolFamily] | None = None,
    ) -> None:
        self._tools = MappingProxyType(dict(tools or {}))
        self._families = MappingProxyType(dict(families or {}))
        for prefix in self._families:
            if not prefix:
                raise ValueError("a tool family needs a non-empty prefix")

    def with_tool(self, name: str, tool: BaseTool | ToolFactory) -> ToolRegistry:
        """This registry plus (or with a new) tool ``name``: a tool, or a factory that
        builds it per task."""
        return ToolRegistry({**self._tools, name: tool}, self._families)

    def with_family(self, prefix: str, family: ToolFamily) -> ToolRegistry:
        """This registry plus every name that starts with ``prefix`` (and has more after
        it), each built per task by ``family``."""
        return ToolRegistry(self._tools, {**self._families, prefix: family})

    @property
    def names(self) -> tuple[str, ...]:
        """Known names, sorted; a family shows as its prefix followed by ``*``."""
        return tuple(sorted([*self._tools, *(f"{prefix}*" for prefix in self._families)]))

    def knows(self, name: str) -> bool:
        """True if ``name`` resolves (a family may still refuse its argument at build)."""
        return name in self._tools or self._family_of(name) is not None

    def check(self, names: Iterable[str]) -> None:
        """Raise `UnknownToolError` for the first of ``names`` this registry lacks."""
        for name in names:
            if not self.knows(name):
                raise UnknownToolError(name, self.names)

    def resolve(self, names: Iterable[str], context: TaskContext) -> tuple[BaseTool, ...]:
        """The tools for ``names`` (repeats dropped), built for ``context``'s task.

        Raises:
            UnknownToolError: a name the registry lacks (nothing is built).
            ValueError: two tools go by the same function name, or one by a name a
                provider would refuse.
        """
        wanted = list(dict.fromkeys(names))
        self.check(wanted)
        built = tuple(self._build(name, context) for name in wanted)
        seen: set[str] = set()
        for made in built:
            if not _FUNCTION_NAME.match(made.name) or made.name in seen:
                raise ValueError(f"tool name {made.name!r} is not a unique provider-safe name")
            seen.add(made.name)
        return built

    def _build(self, name: str, context: TaskContext) -> BaseTool:
        entry = self._tools.get(name)
        if isinstance(entry, BaseTool):
            return entry
        if entry is not None:
            return entry(context)
        found = self._family_of(name)
        assert found is not None  # check() ran
        prefix, family = found
        return family(name[len(prefix) :], context)

    def _family_of(self, name: str) -> tuple[str, ToolFamily] | None:
        # The longest matching prefix wins, so "hire:" and "hire:url:" can coexist.
        for prefix in sorted(self._families, key=len, reverse=True):
            if name.startswith(prefix) and len(name) > len(prefix):
                return prefix, self._families[prefix]
        return None


@tool
def word_count(text: str) -> str:
    """Count the words, sentences and non-blank lines of a text."""
    words = len(text.split())
    sentences = len(_extract.sentences(text))
    lines = sum(1 for line in text.splitlines() if line.strip())
    return f"{words} words, {sentences} sentences, {lines} lines"


@tool
def extract_risks(text: str) -> str:
    """List the sentences of a text that match known risk patterns (terms such as
    "unlimited", "without notice" or "sole discretion"; Solidity such as delegatecall or
    tx.origin), most severe first, each with its line number."""
    findings, checked = _extract.find_lines(text, _extract.RISK_PATTERNS)
    if not findings:
        return f"no sentence of {checked} lines matches a known risk pattern"
    return _extract.format_findings(findings)


BUILTIN_TOOLS: Final[Mapping[str, BaseTool]] = MappingProxyType(
    {"word_count": word_count, "extract_risks": extract_risks}
)
"""Harmless tools every runtime has: they read the input and spend nothing."""


def builtin_registry() -> ToolRegistry:
    """A registry of `BUILTIN_TOOLS`, for the runtime to extend."""
    return ToolRegistry(BUILTIN_TOOLS)
