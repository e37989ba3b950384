"""The built-in offline model: a deterministic LangChain chat model with no network.

It lets the whole hire -> pay -> govern loop run without an LLM provider. It does not
think; it extracts. The skill's instructions (the last paragraph of the system message)
say what to extract, and the answer is a short report that names the system prompt, so
a governance change to the prompt shows in the next answer:

    [offline:echo-1] offline model, not an LLM
    persona: You are Scribe, a precise editor.
    system: sha256 6588227a6693
    input: 13 words, 80 chars, id d9e1baf8ab41
    method: summary, the first 2 of the input's 3 sentences
    answer: Stakers earn from every hire. Holders govern the prompt.

- summary (instructions that say summarize, explain, brief; also the default): the
  input's leading sentences, as many as the instructions' "N sentences" (3 if unsaid);
- headline (headline, title): the input's first sentence, cut to "N words" (10);
- review (review, risk, audit): the input's lines that match known risk patterns
  ("unlimited", "without notice", "sole discretion", "indemnif", "terminate",
  "delegatecall", ...), most severe first, each with its line number;
- gas (gas, costliest, cheaper): the same over known cost patterns (loops, storage).

With tools bound (`bind_tools`), the first answer calls every bound tool once with the
input; once the conversation holds their results, the answer quotes them under one
heading per tool. So LangChain's agent loop runs offline and always ends.

Send the marker `[[offline:fail]]` in the input to simulate a provider failure.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from typing_extensions import override

from agents.core.errors import SimulatedProviderError
from agents.runtime import _extract
from agents.runtime._extract import Task

__all__ = ["FAIL_MARKER", "OFFLINE_PROVIDER", "OfflineChatModel", "count_tokens"]

OFFLINE_PROVIDER: Final = "offline"
"""The provider half of an offline `provider:model` string."""

FAIL_MARKER: Final = "[[offline:fail]]"
"""Input containing this exact text makes the offline model fail like a provider would."""

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_PERSONA_CHARS = 120
_SUMMARY_SENTENCES = 3
_HEADLINE_WORDS = 10


def count_tokens(text: str) -> int:
    """Count tokens the way the offline model does: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _persona(system: str) -> str:
    """The system prompt's first sentence (of its first non-blank line), shortened."""
    line = next((ln.strip() for ln in system.splitlines() if ln.strip()), "")
    sentence = _SENTENCE_END.split(line, maxsplit=1)[0]
    if len(sentence) > _PERSONA_CHARS:
        sentence = sentence[: _PERSONA_CHARS - 3].rstrip() + "..."
    return sentence or "(no system prompt)"


class OfflineChatModel(BaseChatModel):
    """Deterministic chat model that runs without a network (`offline:echo-1`).

    The answer is a pure function of the model name, the system messages, the human
    messages, the bound tools and the tool results: the same prompt and input give the
    same answer, and changing either changes it. It is extractive (see the module
    docstring): it quotes the input, never invents. Token usage counts words and
    punctuation marks (not a real tokenizer) and is reported in `AIMessage.usage_metadata`.

    `bind_tools` binds tools in OpenAI's format. With tools bound and no tool result
    after the last human message, the answer is one tool call per tool (or only the one
    `tool_choice` names; none for `"none"`), each giving the input to the tool's string
    arguments (the required ones, else the first). With tool results, the answer quotes
    them, so an agent loop ends after one round of tools.

    `temperature` is accepted, so the offline model takes the same governed settings
    as a real one, and ignored: the model is deterministic at any temperature.

    If a human message contains `FAIL_MARKER` (`[[offline:fail]]`), the call raises
    `SimulatedProviderError`, standing in for a provider outage so tests and demos can
    exercise the failure path (a failed task is not settled, the customer not charged).
    """

    model_name: str = "offline:echo-1"
    """The full `provider:model` id this model answers as."""

    temperature: float | None = None
    """Accepted for parity with real models; has no effect."""

    @property
    @override
    def _llm_type(self) -> str:
        return "agentdao-offline"

    @property
    @override
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @override
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any form `convert_to_openai_tool` takes) for the following calls."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    @override
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages, stop, kwargs.get("tools"), kwargs.get("tool_choice"))

    @override
    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Pure and fast: no need for the default thread-pool hop.
        return self._answer(messages, stop, kwargs.get("tools"), kwargs.get("tool_choice"))

    def _answer(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        tools: Sequence[Mapping[str, Any]] | None,
        tool_choice: Any,
    ) -> ChatResult:
        system = "\n\n".join(m.text for m in messages if isinstance(m, SystemMessage))
        task = "\n\n".join(m.text for m in messages if isinstance(m, HumanMessage))
        if FAIL_MARKER in task:
            raise SimulatedProviderError(
                f"{self.model_name}: simulated provider failure "
                f"(the input contains the {FAIL_MARKER} marker)"
            )
        results = _tool_results(messages)
        calls = [] if results else _tool_calls(_chosen(tools or (), tool_choice), task)
        if calls:
            content = ""
        else:
            words = task.split()
            body = _from_tool_results(results) if results else _extractive(system, task)
            content = "\n".join(
                [
                    f"[{self.model_name}] offline model, not an LLM",
                    f"persona: {_persona(system)}",
                    f"system: sha256 {_short_hash(system)}",
                    f"input: {len(words)} words, {len(task)} chars, id {_short_hash(task)}",
                    *body,
                ]
            )
            for marker in stop or ():
                content = content.split(marker, maxsplit=1)[0]
        input_tokens = sum(count_tokens(m.text) for m in messages)
        output_tokens = count_tokens(content) + sum(
            count_tokens(f"{c['name']} {json.dumps(c['args'])}") for c in calls
        )
        usage = UsageMetadata(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
        )
        message = AIMessage(
            content=content,
            tool_calls=calls,
            usage_metadata=usage,
            response_metadata={
                "model_name": self.model_name,
                "model_provider": OFFLINE_PROVIDER,
                "finish_reason": "tool_calls" if calls else "stop",
            },
        )
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"model_name": self.model_name, "token_usage": dict(usage)},
        )


def _extractive(system: str, task: str) -> list[str]:
    """The `method:` and `answer:` lines for the task the instructions ask for."""
    kind = _extract.task_for(system)
    if not task.strip():
        return [f"method: {kind.value}", "answer: (empty input)"]
    if kind is Task.HEADLINE:
        words = _extract.count_in_instructions(system, "words?") or _HEADLINE_WORDS
        return [
            f"method: headline, the input's first sentence in at most {words} words",
            f"answer: {_extract.headline(task, words)}",
        ]
    if kind in (Task.REVIEW, Task.GAS):
        gas = kind is Task.GAS
        patterns = _extract.COST_PATTERNS if gas else _extract.RISK_PATTERNS
        what = "cost" if gas else "risk"
        findings, checked = _extract.find_lines(task, patterns)
        limit = _extract.count_in_instructions(system, "patterns?|risks?|issues?|findings?|lines?")
        shown = findings[:limit] if limit else findings
        method = (
            f"method: {'gas review' if gas else 'review'}, the sentences of the input's "
            f"{_plural(checked, 'line')} that match known {what} patterns "
            f"({len(findings)} found"
        )
        method += f", the {len(shown)} most severe shown)" if len(shown) < len(findings) else ")"
        if not findings:
            return [method, f"answer: no line matches a known {what} pattern"]
        return [method, "answer:", _extract.format_findings(shown)]
    count = _extract.count_in_instructions(system, "sentences?") or _SUMMARY_SENTENCES
    text, total = _extract.summary(task, count)
    taken = f"the first {count} of" if count < total else "all of"
    return [f"method: summary, {taken} the input's {_plural(total, 'sentence')}", f"answer: {text}"]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _tool_results(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    """(tool name, result text) of every tool message after the last human message."""
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    names = {
        call["id"]: call["name"]
        for m in messages
        if isinstance(m, AIMessage)
        for call in m.tool_calls
        if call["id"]
    }
    return [
        (m.name or names.get(m.tool_call_id, "tool"), m.text)
        for m in messages[last_human + 1 :]
        if isinstance(m, ToolMessage)
    ]


def _from_tool_results(results: list[tuple[str, str]]) -> list[str]:
    lines = [f"method: the results of {_plural(len(results), 'tool call')}", "answer:"]
    for name, text in results:
        lines += [f"## {name}", text.strip() or "(no result)"]
    return lines


def _chosen(tools: Sequence[Mapping[str, Any]], tool_choice: Any) -> list[Mapping[str, Any]]:
    """The bound tools `tool_choice` allows: all, none, or the one it names."""
    functions = [t.get("function", t) for t in tools]
    if tool_choice == "none":
        return []
    named = tool_choice
    if isinstance(tool_choice, Mapping):
        named = tool_choice.get("function", tool_choice).get("name")
    if isinstance(named, str) and named not in ("auto", "any", "required"):
        return [f for f in functions if f.get("name") == named]
    return functions


def _tool_calls(functions: list[Mapping[str, Any]], task: str) -> list[ToolCall]:
    return [
        ToolCall(
            name=str(function["name"]),
            args=_arguments(function.get("parameters") or {}, task),
            id=f"call_{index}_{_short_hash(str(function['name']) + task)}",
            type="tool_call",
        )
        for index, function in enumerate(functions)
    ]


def _arguments(parameters: Mapping[str, Any], task: str) -> dict[str, Any]:
    """The input for each required string argument (or the first string argument)."""
    properties: Mapping[str, Any] = parameters.get("properties") or {}
    strings = [name for name, spec in properties.items() if spec.get("type") == "string"]
    required = [name for name in parameters.get("required") or () if name in strings]
    return dict.fromkeys(required or strings[:1], task)
