"""The built-in offline model: deterministic, prompt-sensitive, honest about failure."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agents.core.errors import AgentDaoError, SimulatedProviderError
from agents.runtime.offline_model import FAIL_MARKER, OfflineChatModel, count_tokens

PROMPT = "You are Ada, a careful auditor. Answer in one paragraph.\nNever guess."
TASK = "Check the treasury split for errors"


def _messages(system: str = PROMPT, task: str = TASK) -> list[BaseMessage]:
    return [SystemMessage(system), HumanMessage(task)]


def _ask(model: OfflineChatModel, system: str = PROMPT, task: str = TASK) -> AIMessage:
    return model.invoke(_messages(system, task))


def test_answer_is_a_structured_report_of_prompt_and_input() -> None:
    reply = _ask(OfflineChatModel())

    assert reply.text.splitlines() == [
        "[offline:echo-1] offline model, not an LLM",
        "persona: You are Ada, a careful auditor.",
        f"system: sha256 {hashlib.sha256(PROMPT.encode()).hexdigest()[:12]}",
        f"input: 6 words, {len(TASK)} chars, id {hashlib.sha256(TASK.encode()).hexdigest()[:12]}",
        "answer: errors for split treasury the Check",
    ]


def test_same_prompt_and_input_give_the_same_answer() -> None:
    assert _ask(OfflineChatModel()).text == _ask(OfflineChatModel()).text


def test_a_change_anywhere_in_the_system_prompt_changes_the_answer() -> None:
    model = OfflineChatModel()
    base = _ask(model).text
    # Past the first sentence, so only the digest can tell.
    later_change = _ask(model, system=PROMPT.replace("Never guess.", "Always guess.")).text
    persona_change = _ask(model, system="You are Bob. " + PROMPT).text

    assert later_change != base
    assert "persona: You are Ada, a careful auditor." in later_change
    assert "persona: You are Bob." in persona_change


def test_a_change_in_the_input_changes_the_answer() -> None:
    model = OfflineChatModel()
    assert _ask(model, task="hello world").text.endswith("answer: world hello")
    assert _ask(model, task="hello world").text != _ask(model, task="hello world!").text


def test_temperature_is_accepted_and_ignored() -> None:
    cold = OfflineChatModel(temperature=0.0)
    hot = OfflineChatModel(temperature=1.9)
    assert hot.temperature == 1.9
    assert _ask(cold).text == _ask(hot).text


def test_model_name_appears_in_answer_and_metadata() -> None:
    model = OfflineChatModel(model_name="offline:echo-2")
    reply = _ask(model)

    assert reply.text.startswith("[offline:echo-2] ")
    assert reply.response_metadata["model_name"] == "offline:echo-2"
    assert model._llm_type == "agentdao-offline"


def test_usage_metadata_counts_prompt_and_answer_tokens() -> None:
    reply = _ask(OfflineChatModel())

    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == count_tokens(PROMPT) + count_tokens(TASK)
    assert reply.usage_metadata["output_tokens"] == count_tokens(reply.text)
    assert reply.usage_metadata["total_tokens"] == (
        reply.usage_metadata["input_tokens"] + reply.usage_metadata["output_tokens"]
    )


def test_count_tokens_counts_words_and_punctuation() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("   ") == 0


def test_ainvoke_answers_like_invoke() -> None:
    model = OfflineChatModel()
    reply = asyncio.run(model.ainvoke(_messages()))
    assert reply.text == _ask(model).text
    assert reply.usage_metadata == _ask(model).usage_metadata


def test_empty_prompt_and_input_are_named_as_such() -> None:
    reply = OfflineChatModel().invoke([HumanMessage("")])
    assert "persona: (no system prompt)" in reply.text
    assert reply.text.endswith("answer: (empty input)")


def test_long_first_sentence_is_shortened_in_the_persona_line() -> None:
    reply = _ask(OfflineChatModel(), system="word " * 100)
    persona = next(line for line in reply.text.splitlines() if line.startswith("persona: "))
    assert persona.endswith("...")
    assert len(persona) <= len("persona: ") + 120


def test_stop_sequence_cuts_the_answer() -> None:
    reply = OfflineChatModel().invoke(_messages(), stop=["\nsystem:"])
    assert (
        reply.text
        == "[offline:echo-1] offline model, not an LLM\npersona: You are Ada, a careful auditor."
    )


def test_fail_marker_in_input_simulates_a_provider_failure() -> None:
    with pytest.raises(SimulatedProviderError, match=r"simulated provider failure") as caught:
        _ask(OfflineChatModel(), task=f"please {FAIL_MARKER} now")
    assert isinstance(caught.value, AgentDaoError)
    assert isinstance(caught.value, RuntimeError)


def test_fail_marker_fails_async_calls_too() -> None:
    with pytest.raises(SimulatedProviderError):
        asyncio.run(OfflineChatModel().ainvoke(_messages(task=FAIL_MARKER)))


@pytest.mark.parametrize("near_miss", ["[[offline:fail]", "[[OFFLINE:FAIL]]", "[[offline: fail]]"])
def test_only_the_exact_marker_fails(near_miss: str) -> None:
    assert _ask(OfflineChatModel(), task=near_miss).text.startswith("[offline:echo-1]")


def test_fail_marker_in_the_system_prompt_does_not_fail() -> None:
    # Only the customer's input can ask for a failure; a governed prompt cannot brick the agent.
    assert "answer:" in _ask(OfflineChatModel(), system=f"Mention {FAIL_MARKER} rarely.").text
