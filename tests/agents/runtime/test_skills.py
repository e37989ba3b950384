"""Running a skill: prompt assembly, results with usage, provider failures; agentic skills
as an agent loop with tools, offline and against the local OpenAI server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool, tool

from agents.core.errors import (
    AgentDaoError,
    SimulatedProviderError,
    SkillExecutionError,
    SkillStepLimitError,
    ToolBudgetExceededError,
    ToolExecutionError,
    UnknownToolError,
)
from agents.core.live_config import LiveSkill
from agents.runtime.models import ModelSettings, build_chat_model
from agents.runtime.offline_model import FAIL_MARKER, OfflineChatModel, count_tokens
from agents.runtime.skills import (
    SkillResult,
    arun_live_skill,
    arun_skill,
    build_messages,
    run_live_skill,
    run_skill,
)
from agents.runtime.tools import (
    TaskContext,
    ToolBudget,
    builtin_registry,
    extract_risks,
    tool_function_name,
    word_count,
)
from tests.support.openai_server import OpenAIChatServer, expected_content, expected_tool_answer

PROMPT = "You are Ada, a careful auditor of DAO treasuries."
INSTRUCTIONS = "Skill audit: list every risk you find, most severe first."
TASK = "Review: split 50/30/20, reserve spend open to anyone."


def test_messages_are_system_prompt_plus_instructions_then_the_input() -> None:
    messages = build_messages(PROMPT, INSTRUCTIONS, TASK)

    assert messages == [SystemMessage(f"{PROMPT}\n\n{INSTRUCTIONS}"), HumanMessage(TASK)]


def test_messages_without_instructions_are_just_the_prompt() -> None:
    assert build_messages(f"  {PROMPT}\n", "  ", TASK)[0] == SystemMessage(PROMPT)


def test_braces_in_prompt_and_input_are_sent_verbatim() -> None:
    messages = build_messages("Reply as {json}.", "Use {{double}}.", "x = {input}")
    assert messages[0].content == "Reply as {json}.\n\nUse {{double}}."
    assert messages[1].content == "x = {input}"


def test_offline_skill_returns_text_usage_and_model() -> None:
    result = run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, TASK)

    assert isinstance(result, SkillResult)
    assert result.model == "offline:echo-1"
    assert "persona: You are Ada, a careful auditor of DAO treasuries." in result.text
    assert result.text.endswith(
        "answer:\n- high, line 1 (open to anyone): Review: split 50/30/20, reserve spend open "
        "to anyone."
    )
    assert result.steps == 1
    assert result.tool_calls == ()
    assert result.input_tokens == count_tokens(f"{PROMPT}\n\n{INSTRUCTIONS}") + count_tokens(TASK)
    assert result.output_tokens == count_tokens(result.text)
    assert result.total_tokens == result.input_tokens + result.output_tokens


def test_a_governed_prompt_change_shows_in_the_next_result() -> None:
    model = OfflineChatModel()
    before = run_skill(model, PROMPT, INSTRUCTIONS, TASK).text
    after_prompt = run_skill(model, "You are Bob, a poet.", INSTRUCTIONS, TASK).text
    after_instructions = run_skill(model, PROMPT, "Skill audit: be brief.", TASK).text

    assert "persona: You are Bob, a poet." in after_prompt
    assert len({before, after_prompt, after_instructions}) == 3


def test_arun_skill_gives_the_same_result() -> None:
    model = OfflineChatModel()
    assert asyncio.run(arun_skill(model, PROMPT, INSTRUCTIONS, TASK)) == run_skill(
        model, PROMPT, INSTRUCTIONS, TASK
    )


def test_provider_failure_becomes_a_skill_execution_error() -> None:
    with pytest.raises(SkillExecutionError) as caught:
        run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, f"{TASK} {FAIL_MARKER}")

    error = caught.value
    assert isinstance(error, AgentDaoError)
    assert isinstance(error, RuntimeError)
    assert isinstance(error.__cause__, SimulatedProviderError)
    assert error.model == "offline:echo-1"
    assert str(error).startswith("model offline:echo-1 failed: ")
    assert "simulated provider failure" in str(error)


def test_async_provider_failure_becomes_a_skill_execution_error() -> None:
    with pytest.raises(SkillExecutionError, match="simulated provider failure"):
        asyncio.run(arun_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, FAIL_MARKER))


def test_an_empty_answer_is_a_failure_not_a_result() -> None:
    with pytest.raises(SkillExecutionError, match="empty answer"):
        run_skill(FakeListChatModel(responses=["  \n"]), PROMPT, INSTRUCTIONS, TASK)


def test_usage_is_none_when_the_provider_does_not_report_it() -> None:
    result = run_skill(FakeListChatModel(responses=["fine"]), PROMPT, INSTRUCTIONS, TASK)

    assert result.text == "fine"
    assert result.model == "fake-list-chat-model"
    assert result.input_tokens is None
    assert result.output_tokens is None
    assert result.total_tokens is None


def test_openai_skill_through_the_real_client(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    model = build_chat_model("openai:gpt-4o-mini", 0.3, openai_settings)
    result = run_skill(model, PROMPT, INSTRUCTIONS, TASK)

    [request] = openai_server.requests
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["temperature"] == 0.3
    assert request.body.get("stream") in (None, False)
    assert request.messages_by_role("system") == [f"{PROMPT}\n\n{INSTRUCTIONS}"]
    assert request.messages_by_role("user") == [TASK]
    assert result.text == expected_content("gpt-4o-mini", request.body["messages"])
    assert result.model == "gpt-4o-mini-local"  # as the server reports it
    assert result.input_tokens == sum(len(m["content"].split()) for m in request.body["messages"])
    assert result.output_tokens == len(result.text.split())


def test_openai_skill_async(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    model = build_chat_model("openai:gpt-4o-mini", 0.0, openai_settings)
    result = asyncio.run(arun_skill(model, PROMPT, INSTRUCTIONS, "async please"))

    [request] = openai_server.requests
    assert request.body["temperature"] == 0.0
    assert result.text.endswith("user=ASYNC PLEASE")


def test_prompt_change_reaches_the_openai_server(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    model = build_chat_model("openai:gpt-4o-mini", 0.3, openai_settings)
    first = run_skill(model, PROMPT, INSTRUCTIONS, TASK).text
    second = run_skill(model, "You are Bob.", INSTRUCTIONS, TASK).text

    assert first != second
    assert openai_server.requests[1].messages_by_role("system") == [
        f"You are Bob.\n\n{INSTRUCTIONS}"
    ]


@pytest.mark.parametrize(("status", "code"), [(500, ""), (401, "invalid_api_key"), (429, "")])
def test_http_errors_become_skill_execution_errors(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings, status: int, code: str
) -> None:
    openai_server.fail_with(status, "upstream says no", code)
    model = build_chat_model("openai:gpt-4o-mini", 0.3, openai_settings)

    with pytest.raises(SkillExecutionError, match=rf"HTTP {status} .*upstream says no") as caught:
        run_skill(model, PROMPT, INSTRUCTIONS, TASK)
    assert caught.value.model == "gpt-4o-mini"
    assert len(openai_server.requests) == 1  # max_retries=0


def test_async_http_error_becomes_a_skill_execution_error(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    openai_server.fail_with(500)
    model = build_chat_model("openai:gpt-4o-mini", 0.3, openai_settings)
    with pytest.raises(SkillExecutionError, match=r"HTTP 500"):
        asyncio.run(arun_skill(model, PROMPT, INSTRUCTIONS, TASK))


def test_max_retries_from_settings_reaches_the_client(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    openai_server.fail_with(500)
    settings = openai_settings.model_copy(update={"max_retries": 1})
    model = build_chat_model("openai:gpt-4o-mini", 0.3, settings)

    with pytest.raises(SkillExecutionError):
        run_skill(model, PROMPT, INSTRUCTIONS, TASK)
    assert len(openai_server.requests) == 2


def test_unreachable_server_becomes_a_skill_execution_error(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    base_url = openai_server.base_url
    openai_server.stop()
    settings = openai_settings.model_copy(update={"openai_base_url": base_url})
    model = build_chat_model("openai:gpt-4o", 0.3, settings)

    with pytest.raises(SkillExecutionError, match=r"model gpt-4o failed: \w*ConnectionError"):
        run_skill(model, PROMPT, INSTRUCTIONS, TASK)


# --- Agentic skills: an agent loop with tools ------------------------------------------

BUILTINS = (word_count, extract_risks)
LOOP_ANSWER = [
    "method: the results of 2 tool calls",
    "answer:",
    "## word_count",
    "8 words, 1 sentences, 1 lines",
    "## extract_risks",
    "- high, line 1 (open to anyone): Review: split 50/30/20, reserve spend open to anyone.",
]


def test_a_skill_with_tools_calls_each_once_then_answers_from_their_results() -> None:
    result = run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS)

    assert result.text.splitlines()[0] == "[offline:echo-1] offline model, not an LLM"
    assert result.text.splitlines()[1] == f"persona: {PROMPT}"
    assert result.text.splitlines()[4:] == LOOP_ANSWER
    assert result.steps == 2
    assert result.tool_calls == ("word_count", "extract_risks")
    assert result.model == "offline:echo-1"
    assert result.input_tokens is not None
    assert result.input_tokens > count_tokens(f"{PROMPT}\n\n{INSTRUCTIONS}") + count_tokens(TASK)


def test_the_agent_loop_is_deterministic_and_the_same_async() -> None:
    model = OfflineChatModel()
    first = run_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS)
    assert run_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS) == first
    assert asyncio.run(arun_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS)) == first


def test_the_loop_ends_within_max_steps() -> None:
    assert run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS, max_steps=2)


def _run_sync(max_steps: int) -> SkillResult:
    model = OfflineChatModel()
    return run_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS, max_steps=max_steps)


def _run_async(max_steps: int) -> SkillResult:
    model = OfflineChatModel()
    run = arun_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS, max_steps=max_steps)
    return asyncio.run(run)


@pytest.mark.parametrize("run", [_run_sync, _run_async])
def test_more_steps_than_max_steps_is_a_clear_failure(run: Callable[[int], SkillResult]) -> None:
    with pytest.raises(SkillStepLimitError) as caught:
        run(1)
    assert isinstance(caught.value, SkillExecutionError)  # the task failed, uncharged
    assert caught.value.max_steps == 1
    assert str(caught.value) == (
        "model offline:echo-1 failed: no final answer within the skill's max_steps (1)"
    )


def test_max_steps_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS, max_steps=0)


@tool
def broken(text: str) -> str:
    """Always fails."""
    raise RuntimeError(f"cannot read {len(text)} chars")


@tool
def overspent(text: str) -> str:
    """Spends past the budget."""
    ToolBudget(max_cost=5).charge(6)
    return text


def test_a_failing_tool_fails_the_skill_naming_the_tool() -> None:
    with pytest.raises(ToolExecutionError) as caught:
        run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, "abc", tools=(word_count, broken))
    assert str(caught.value) == "tool broken failed: RuntimeError: cannot read 3 chars"
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_an_agentdao_error_in_a_tool_keeps_its_message_and_type_as_the_cause() -> None:
    with pytest.raises(ToolExecutionError, match=r"^tool overspent failed: a tool cost of 6") as e:
        asyncio.run(arun_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, TASK, tools=[overspent]))
    assert isinstance(e.value.__cause__, ToolBudgetExceededError)


def test_a_provider_failure_inside_the_loop_is_a_skill_execution_error() -> None:
    with pytest.raises(SkillExecutionError, match="simulated provider failure") as caught:
        run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, FAIL_MARKER, tools=BUILTINS)
    assert not isinstance(caught.value, SkillStepLimitError)


# --- Live skills: tools by name from the runtime's registry ----------------------------


def _context(skill: LiveSkill) -> TaskContext:
    return TaskContext.start("auditor", skill, task_id="task-1", config_version=7)


def test_a_live_skill_without_tools_is_one_model_call() -> None:
    skill = LiveSkill(name="review", instructions=INSTRUCTIONS, price=1)
    result = run_live_skill(
        OfflineChatModel(), PROMPT, TASK, registry=builtin_registry(), context=_context(skill)
    )
    assert result == run_skill(OfflineChatModel(), PROMPT, INSTRUCTIONS, TASK)
    assert result.steps == 1


def test_a_live_skill_with_tools_resolves_them_by_name() -> None:
    skill = LiveSkill(
        name="review",
        instructions=INSTRUCTIONS,
        price=1,
        tools=("word_count", "extract_risks"),
        max_steps=2,
    )
    result = asyncio.run(
        arun_live_skill(
            OfflineChatModel(), PROMPT, TASK, registry=builtin_registry(), context=_context(skill)
        )
    )
    assert result.text.splitlines()[4:] == LOOP_ANSWER


def test_a_live_skill_naming_an_unknown_tool_fails_before_any_model_call() -> None:
    skill = LiveSkill(name="review", instructions="", price=1, tools=("word_count", "nosuch"))
    never = FakeListChatModel(responses=[])  # any call would fail with another error

    with pytest.raises(UnknownToolError) as caught:
        run_live_skill(never, PROMPT, TASK, registry=builtin_registry(), context=_context(skill))
    assert isinstance(caught.value, AgentDaoError)
    assert str(caught.value) == (
        "unknown tool 'nosuch' (this runtime has: extract_risks, word_count)"
    )


def test_a_per_task_tool_family_is_built_for_the_task_and_spends_its_budget() -> None:
    """The shape of the hire tool: `hire:<agent>/<skill>` built per task from its context."""
    calls: list[tuple[str, str, str, int]] = []

    def hire(target: str, context: TaskContext) -> BaseTool:
        def run(text: str) -> str:
            context.budget.charge(40_000)  # before paying, so a task never overspends
            calls.append((target, context.task_id, text, context.budget.remaining))
            return f"{target} says: {text[:6]}"

        return StructuredTool.from_function(
            run, name=tool_function_name(f"hire:{target}"), description=f"Hire {target}."
        )

    registry = builtin_registry().with_family("hire:", hire)
    skill = LiveSkill(
        name="brief",
        instructions="Brief the input.",
        price=200_000,
        tools=("hire:scribe/summarize", "hire:auditor/review"),
        max_cost=100_000,
    )
    result = run_live_skill(
        OfflineChatModel(), PROMPT, TASK, registry=registry, context=_context(skill)
    )

    assert calls == [
        ("scribe/summarize", "task-1", TASK, 60_000),
        ("auditor/review", "task-1", TASK, 20_000),
    ]
    assert result.tool_calls == ("hire_scribe_summarize", "hire_auditor_review")
    assert result.text.splitlines()[4:] == [
        "method: the results of 2 tool calls",
        "answer:",
        "## hire_scribe_summarize",
        "scribe/summarize says: Review",
        "## hire_auditor_review",
        "auditor/review says: Review",
    ]


# --- The OpenAI path with tool calls ----------------------------------------------------


def test_openai_agent_loop_calls_the_tools_then_answers(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    model = build_chat_model("openai:gpt-4o-mini", 0.0, openai_settings)
    result = run_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS)

    first, second = openai_server.requests
    offered = [t["function"]["name"] for t in first.body["tools"]]
    assert offered == ["word_count", "extract_risks"]
    assert first.messages_by_role("system") == [f"{PROMPT}\n\n{INSTRUCTIONS}"]
    assert first.messages_by_role("user") == [TASK]
    assert second.messages_by_role("tool") == [
        "8 words, 1 sentences, 1 lines",
        "- high, line 1 (open to anyone): Review: split 50/30/20, reserve spend open to anyone.",
    ]
    assert result.text == expected_tool_answer("gpt-4o-mini", second.body["messages"])
    assert result.text.startswith("local[gpt-4o-mini] from tools: word_count=8 words")
    assert result.model == "gpt-4o-mini-local"
    assert result.steps == 2
    assert result.tool_calls == ("word_count", "extract_risks")


def test_openai_live_skill_async(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    model = build_chat_model("openai:gpt-4o-mini", 0.0, openai_settings)
    skill = LiveSkill(name="count", instructions="Count.", price=1, tools=("word_count",))
    result = asyncio.run(
        arun_live_skill(
            model, PROMPT, "two words", registry=builtin_registry(), context=_context(skill)
        )
    )
    assert result.text == "local[gpt-4o-mini] from tools: word_count=2 words, 1 sentences, 1 lines"
    assert len(openai_server.requests) == 2


def test_openai_model_that_never_stops_calling_tools_is_stopped_at_max_steps(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    openai_server.tool_rounds = 100
    model = build_chat_model("openai:gpt-4o-mini", 0.0, openai_settings)

    with pytest.raises(SkillStepLimitError, match=r"model gpt-4o-mini failed: .*max_steps \(3\)"):
        run_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS, max_steps=3)
    assert len(openai_server.requests) == 3


def test_openai_http_error_inside_the_loop_is_a_skill_execution_error(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    openai_server.fail_with(500, "upstream says no")
    model = build_chat_model("openai:gpt-4o-mini", 0.0, openai_settings)
    with pytest.raises(SkillExecutionError, match=r"HTTP 500 .*upstream says no"):
        run_skill(model, PROMPT, INSTRUCTIONS, TASK, tools=BUILTINS)
