"""Run one skill call: the live system prompt and the skill's instructions, then the
customer's input, through a chat model.

A plain skill is one model call. A skill with tools is an agent loop (LangChain's
`create_agent`): the model calls tools, reads their results and answers, for at most
``max_steps`` model calls. Either way the call ends in a `SkillResult` or an
`AgentDaoError`, and never with a half answer: a loop that runs out of steps fails with
`SkillStepLimitError`, a tool that fails with `ToolExecutionError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelCallLimitMiddleware
from langchain.agents.middleware.model_call_limit import ModelCallLimitExceededError
from langchain.agents.middleware.types import ToolCallRequest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp, GraphRecursionError
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from agents.core.errors import (
    AgentDaoError,
    SkillExecutionError,
    SkillStepLimitError,
    ToolExecutionError,
)
from agents.core.live_config import DEFAULT_MAX_STEPS
from agents.runtime.tools import TaskContext, ToolRegistry

__all__ = [
    "SkillResult",
    "arun_live_skill",
    "arun_skill",
    "build_messages",
    "run_live_skill",
    "run_skill",
]

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

    steps: int = 1
    """Model calls made: 1 for a plain skill, more for an agent loop that called tools."""

    tool_calls: tuple[str, ...] = ()
    """The tools the model called, by function name, in the order it called them."""

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
    return _PROMPT.format_messages(
        system=_system_text(system_prompt, skill_instructions), input=task_input
    )


def run_skill(
    chat_model: BaseChatModel,
    system_prompt: str,
    skill_instructions: str,
    task_input: str,
    *,
    tools: Sequence[BaseTool] = (),
    max_steps: int = DEFAULT_MAX_STEPS,
    config: RunnableConfig | None = None,
) -> SkillResult:
    """Run a skill call and return the answer with its token usage.

    Args:
        chat_model: From `agents.runtime.models.build_chat_model`.
        system_prompt: The agent's live (governed) system prompt.
        skill_instructions: What this skill does; appended to the system prompt.
        task_input: The customer's input, sent as the human message.
        tools: The skill's tools (`ToolRegistry.resolve`); none: one model call.
        max_steps: With tools, the most model calls before the task fails.
        config: LangChain run config (callbacks, tags), passed through.

    Raises:
        SkillExecutionError: the provider failed (network, HTTP error, timeout, refusal)
            or answered with nothing. The task has no result and must not be charged.
        SkillStepLimitError: with tools, no final answer within ``max_steps`` calls.
        ToolExecutionError: with tools, a tool failed (its exception is the cause).
    """
    if tools:
        return _run_agent(
            chat_model, system_prompt, skill_instructions, task_input, tools, max_steps, config
        )
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
    tools: Sequence[BaseTool] = (),
    max_steps: int = DEFAULT_MAX_STEPS,
    config: RunnableConfig | None = None,
) -> SkillResult:
    """Async `run_skill`: same arguments, result and errors."""
    if tools:
        return await _arun_agent(
            chat_model, system_prompt, skill_instructions, task_input, tools, max_steps, config
        )
    messages = build_messages(system_prompt, skill_instructions, task_input)
    try:
        reply = await chat_model.ainvoke(messages, config=config)
    except Exception as exc:  # any provider error means the same: no result
        raise SkillExecutionError(_model_id(chat_model), _describe(exc)) from exc
    return _result(chat_model, reply)


def run_live_skill(
    chat_model: BaseChatModel,
    system_prompt: str,
    task_input: str,
    *,
    registry: ToolRegistry,
    context: TaskContext,
    config: RunnableConfig | None = None,
) -> SkillResult:
    """Run ``context.skill`` as its live config says: one model call, or an agent loop
    with its tools (resolved from ``registry`` for ``context``'s task) and its
    ``max_steps``.

    Raises:
        UnknownToolError: the skill names a tool ``registry`` lacks; nothing ran.
        SkillExecutionError, SkillStepLimitError, ToolExecutionError: see `run_skill`.
    """
    skill = context.skill
    tools = registry.resolve(skill.tools, context)
    return run_skill(
        chat_model,
        system_prompt,
        skill.instructions,
        task_input,
        tools=tools,
        max_steps=skill.max_steps,
        config=config,
    )


async def arun_live_skill(
    chat_model: BaseChatModel,
    system_prompt: str,
    task_input: str,
    *,
    registry: ToolRegistry,
    context: TaskContext,
    config: RunnableConfig | None = None,
) -> SkillResult:
    """Async `run_live_skill`: same arguments, result and errors."""
    skill = context.skill
    tools = registry.resolve(skill.tools, context)
    return await arun_skill(
        chat_model,
        system_prompt,
        skill.instructions,
        task_input,
        tools=tools,
        max_steps=skill.max_steps,
        config=config,
    )


def _system_text(system_prompt: str, skill_instructions: str) -> str:
    return "\n\n".join(part for part in (system_prompt.strip(), skill_instructions.strip()) if part)


class _ToolFailures(AgentMiddleware):
    """Turns any exception a tool raises into a `ToolExecutionError` naming the tool, so
    the caller can tell a failed tool from a failed model."""

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        try:
            return handler(request)
        except GraphBubbleUp:  # LangGraph's own control flow, not a failure
            raise
        except Exception as exc:
            raise ToolExecutionError(request.tool_call["name"], _describe(exc)) from exc

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        try:
            return await handler(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            raise ToolExecutionError(request.tool_call["name"], _describe(exc)) from exc


def _agent_for(
    chat_model: BaseChatModel,
    system_prompt: str,
    skill_instructions: str,
    tools: Sequence[BaseTool],
    max_steps: int,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}")
    middleware: list[AgentMiddleware[Any, Any, Any]] = [
        ModelCallLimitMiddleware(run_limit=max_steps, exit_behavior="error"),
        _ToolFailures(),
    ]
    return create_agent(
        chat_model,
        list(tools),
        system_prompt=_system_text(system_prompt, skill_instructions),
        middleware=middleware,
    )


def _loop_config(config: RunnableConfig | None, max_steps: int) -> RunnableConfig:
    # A backstop under the model-call limit: each step is at most a few graph nodes.
    return patch_config(config, recursion_limit=4 * max_steps + 4)


def _run_agent(
    chat_model: BaseChatModel,
    system_prompt: str,
    skill_instructions: str,
    task_input: str,
    tools: Sequence[BaseTool],
    max_steps: int,
    config: RunnableConfig | None,
) -> SkillResult:
    agent = _agent_for(chat_model, system_prompt, skill_instructions, tools, max_steps)
    try:
        state = agent.invoke(
            {"messages": [HumanMessage(task_input)]}, config=_loop_config(config, max_steps)
        )
    except ToolExecutionError:
        raise
    except Exception as exc:
        raise _loop_failure(chat_model, exc, max_steps) from exc
    return _agent_result(chat_model, state["messages"])


async def _arun_agent(
    chat_model: BaseChatModel,
    system_prompt: str,
    skill_instructions: str,
    task_input: str,
    tools: Sequence[BaseTool],
    max_steps: int,
    config: RunnableConfig | None,
) -> SkillResult:
    agent = _agent_for(chat_model, system_prompt, skill_instructions, tools, max_steps)
    try:
        state = await agent.ainvoke(
            {"messages": [HumanMessage(task_input)]}, config=_loop_config(config, max_steps)
        )
    except ToolExecutionError:
        raise
    except Exception as exc:
        raise _loop_failure(chat_model, exc, max_steps) from exc
    return _agent_result(chat_model, state["messages"])


def _loop_failure(chat_model: BaseChatModel, exc: Exception, max_steps: int) -> SkillExecutionError:
    if isinstance(exc, (ModelCallLimitExceededError, GraphRecursionError)):
        return SkillStepLimitError(_model_id(chat_model), max_steps)
    return SkillExecutionError(_model_id(chat_model), _describe(exc))


def _agent_result(chat_model: BaseChatModel, messages: Sequence[BaseMessage]) -> SkillResult:
    """The loop's last answer, with usage summed over every model call."""
    replies = [m for m in messages if isinstance(m, AIMessage)]
    if not replies:
        raise SkillExecutionError(_model_id(chat_model), "the agent loop made no model call")
    final = _result(chat_model, replies[-1])
    usages = [r.usage_metadata for r in replies]
    known = all(u is not None for u in usages)
    return SkillResult(
        text=final.text,
        model=final.model,
        input_tokens=sum(u["input_tokens"] for u in usages if u) if known else None,
        output_tokens=sum(u["output_tokens"] for u in usages if u) if known else None,
        steps=len(replies),
        tool_calls=tuple(call["name"] for r in replies for call in r.tool_calls),
    )


def _result(chat_model: BaseChatModel, reply: AIMessage) -> SkillResult:
    model = str(reply.response_metadata.get("model_name") or _model_id(chat_model))
    text = reply.text
    if reply.tool_calls:  # only an agent loop may end on tool calls, and it must not
        raise SkillExecutionError(model, "the model asked for tools the skill does not have")
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
