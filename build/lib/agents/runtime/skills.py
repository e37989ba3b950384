"""Run one skill call: the live system prompt and the skill's instructions, then the
customer's input, through a chat model."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig

from agents.core.errors import AgentDaoError, SkillExecutionError

__all__ = ["SkillResult", "arun_skill", "build_messages", "run_skill"]

# Prompt text goes in as variable values, never as template text, so braces in a
# governed prompt or a customer's input are sent verbatim.
_PROMPT = ChatPromptTemplate.from_messages([("system", "{system}"), ("human", "{input}")])


@dataclass(frozen=True, slots=True)
class SkillResult:
    """What one skill call produced."""

    text: str
    """The model's answer."""

    model: str
    """The model that answered, as its provider reports it (e.g. `gpt-4o-mini-2024-07-18`,
    `offline:echo-1`)."""

    input_tokens: int | None
    """Prompt tokens, or None if the provider did not report usage."""

    output_tokens: int | None
    """Answer tokens, or None if the provider did not report usage."""

    @property
    def total_tokens(self) -> int | None:
        """Input plus output tokens, or None if either is unknown."""
        if self.input_tokens is None or self.output_tokens is None:
            return None
        return self.input_tokens + self.output_tokens


def build_messages(
    system_prompt: str, skill_instructions: str, task_input: str
) -> list[BaseMessage]:
    """The messages a skill call sends: one system message (the prompt, then the skill's
    instructions after a blank line, if any) and one human message (the input)."""
    system = "\n\n".join(
        part for part in (system_prompt.strip(), skill_instructions.strip()) if part
    )
    return _PROMPT.format_messages(system=system, input=task_input)


def run_skill(
    chat_model: BaseChatModel,
    system_prompt: str,
    skill_instructions: str,
    task_input: str,
    *,
    config: RunnableConfig | None = None,
) -> SkillResult:
    """Run a skill call and return the answer with its token usage.

    Args:
        chat_model: From `agents.runtime.models.build_chat_model`.
        system_prompt: The agent's live (governed) system prompt.
        skill_instructions: What this skill does; appended to the system prompt.
        task_input: The customer's input, sent as the human message.
        config: LangChain run config (callbacks, tags), passed through.

    Raises:
        SkillExecutionError: the provider failed (network, HTTP error, timeout, refusal)
            or answered with nothing. The task has no result and must not be charged.
    """
    messages = build_messages(system_prompt, skill_instructions, task_input)
    try:
        reply = chat_model.invoke(messages, config=config)
    except Exception as exc:  # any provider error means the same: no result
        raise SkillExecutionError(_model_id(chat_model), _describe(exc)) from exc
    return _result(chat_model, reply)


async def arun_skill(
    chat_model: BaseChatModel,
    system_prompt: str,
    skill_instructions: str,
    task_input: str,
    *,
    config: RunnableConfig | None = None,
) -> SkillResult:
    """Async `run_skill`: same arguments, result and errors."""
    messages = build_messages(system_prompt, skill_instructions, task_input)
    try:
        reply = await chat_model.ainvoke(messages, config=config)
    except Exception as exc:  # any provider error means the same: no result
        raise SkillExecutionError(_model_id(chat_model), _describe(exc)) from exc
    return _result(chat_model, reply)


def _result(chat_model: BaseChatModel, reply: AIMessage) -> SkillResult:
    model = str(reply.response_metadata.get("model_name") or _model_id(chat_model))
    text = reply.text
    if not text.strip():
        reason = reply.response_metadata.get("finish_reason") or "no text"
        raise SkillExecutionError(model, f"the model returned an empty answer ({reason})")
    usage = reply.usage_metadata
    return SkillResult(
        text=text,
        model=model,
        input_tokens=usage["input_tokens"] if usage else None,
        output_tokens=usage["output_tokens"] if usage else None,
    )


def _model_id(chat_model: BaseChatModel) -> str:
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(chat_model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return chat_model._llm_type


def _describe(exc: Exception) -> str:
    """One line saying what went wrong, without the provider's full payload."""
    if isinstance(exc, AgentDaoError):
        return exc.message
    status = getattr(exc, "status_code", None)
    first_line = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    return f"HTTP {status} ({detail})" if isinstance(status, int) else detail
