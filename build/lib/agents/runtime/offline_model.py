"""The built-in offline model: a deterministic LangChain chat model with no network.

It lets the whole hire -> pay -> govern loop run without an LLM provider. It does not
think; it answers with a short structured report that depends on the system prompt
and the user's input, so a governance change to the prompt shows in the next answer:

    [offline:echo-1] offline model, not an LLM
    persona: You are Ada, a careful auditor.
    system: sha256 e3d22f55d48e
    input: 6 words, 35 chars, id 038364d755c4
    answer: errors for split treasury the Check

Send the marker `[[offline:fail]]` in the input to simulate a provider failure.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from typing_extensions import override

from agents.core.errors import SimulatedProviderError

__all__ = ["FAIL_MARKER", "OFFLINE_PROVIDER", "OfflineChatModel", "count_tokens"]

OFFLINE_PROVIDER: Final = "offline"
"""The provider half of an offline `provider:model` string."""

FAIL_MARKER: Final = "[[offline:fail]]"
"""Input containing this exact text makes the offline model fail like a provider would."""

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_PERSONA_CHARS = 120


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

    The answer is a pure function of the model name, the system messages and the
    human messages: the same prompt and input give the same answer, and changing
    either changes it. Token usage counts words and punctuation marks (not a real
    tokenizer) and is reported in `AIMessage.usage_metadata`.

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
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages, stop)

    @override
    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Pure and fast: no need for the default thread-pool hop.
        return self._answer(messages, stop)

    def _answer(self, messages: list[BaseMessage], stop: list[str] | None) -> ChatResult:
        system = "\n\n".join(m.text for m in messages if isinstance(m, SystemMessage))
        task = "\n\n".join(m.text for m in messages if isinstance(m, HumanMessage))
        if FAIL_MARKER in task:
            raise SimulatedProviderError(
                f"{self.model_name}: simulated provider failure "
                f"(the input contains the {FAIL_MARKER} marker)"
            )
        words = task.split()
        persona = _persona(system)
        content = "\n".join(
            [
                f"[{self.model_name}] offline model, not an LLM",
                f"persona: {persona}",
                f"system: sha256 {_short_hash(system)}",
                f"input: {len(words)} words, {len(task)} chars, id {_short_hash(task)}",
                f"answer: {' '.join(reversed(words)) or '(empty input)'}",
            ]
        )
        for marker in stop or ():
            content = content.split(marker, maxsplit=1)[0]
        input_tokens = sum(count_tokens(m.text) for m in messages)
        output_tokens = count_tokens(content)
        usage = UsageMetadata(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
        )
        message = AIMessage(
            content=content,
            usage_metadata=usage,
            response_metadata={
                "model_name": self.model_name,
                "model_provider": OFFLINE_PROVIDER,
                "finish_reason": "stop",
            },
        )
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"model_name": self.model_name, "token_usage": dict(usage)},
        )
