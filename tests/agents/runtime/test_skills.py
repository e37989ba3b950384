"""Running a skill: prompt assembly, results with usage, provider failures."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agents.core.errors import AgentDaoError, SimulatedProviderError, SkillExecutionError
from agents.runtime.models import ModelSettings, build_chat_model
from agents.runtime.offline_model import FAIL_MARKER, OfflineChatModel, count_tokens
from agents.runtime.skills import SkillResult, arun_skill, build_messages, run_skill
from tests.support.openai_server import OpenAIChatServer, expected_content

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
    assert result.text.endswith("answer: anyone. to open spend reserve 50/30/20, split Review:")
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
