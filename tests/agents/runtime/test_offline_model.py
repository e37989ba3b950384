"""The built-in offline model: deterministic, prompt-sensitive, honest about failure."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

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

    # "auditor" in a prompt without skill instructions makes it a review.
    assert reply.text.splitlines() == [
        "[offline:echo-1] offline model, not an LLM",
        "persona: You are Ada, a careful auditor.",
        f"system: sha256 {hashlib.sha256(PROMPT.encode()).hexdigest()[:12]}",
        f"input: 6 words, {len(TASK)} chars, id {hashlib.sha256(TASK.encode()).hexdigest()[:12]}",
        "method: review, the sentences of the input's 1 line that match known risk patterns"
        " (0 found)",
        "answer: no line matches a known risk pattern",
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
    assert _ask(model, "Summarize.", "Hello world. Bye.").text.endswith("answer: Hello world. Bye.")
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


# --- Extractive answers: the skill's instructions pick the method -----------------------

SCRIBE = (
    "You are Scribe, a precise editor. Answer in plain English, never more\n"
    "than the reader needs, and keep every fact of the source."
)
AUDITOR = (
    "You are Auditor, a smart-contract security reviewer. Name each risk,\n"
    "its severity and the line it sits on; say plainly when you are unsure."
)
TERMS = (
    "Stakers earn a share of every paid hire. The agent banks each payment in its own "
    "treasury. Holders change the prompt by proposal. The guardian may pause the agent "
    "without notice.\n"
    "The reserve is spent only by governance, at its sole discretion.\n"
    "\n"
    "Either party may terminate the service; liability is unlimited."
)
SOLIDITY = (
    "contract Vault {\n"
    "    function sweep(address to) external {\n"
    '        require(tx.origin == owner, "not owner");\n'
    "        for (uint i = 0; i < holders.length; i++) { balances[holders[i]] = 0; }\n"
    '        (bool ok,) = to.call{value: address(this).balance}("");\n'
    "    }\n"
    "}"
)


def _skill(prompt: str, instructions: str, task: str, model: str = "offline:echo-1") -> str:
    """Just the method and answer lines of an answer (the header is tested above)."""
    reply = OfflineChatModel(model_name=model).invoke(
        [SystemMessage(f"{prompt}\n\n{instructions}"), HumanMessage(task)]
    )
    lines = reply.text.splitlines()
    assert lines[0] == f"[{model}] offline model, not an LLM"
    assert lines[1].startswith("persona: You are ")
    return "\n".join(lines[4:])


def test_summarize_answers_with_the_leading_sentences() -> None:
    assert _skill(SCRIBE, "Summarize the input in at most three sentences.", TERMS) == (
        "method: summary, the first 3 of the input's 6 sentences\n"
        "answer: Stakers earn a share of every paid hire. The agent banks each payment in "
        "its own treasury. Holders change the prompt by proposal."
    )


def test_the_number_of_sentences_follows_the_instructions() -> None:
    assert _skill(SCRIBE, "Summarize in 2 sentences.", TERMS).endswith(
        "answer: Stakers earn a share of every paid hire. The agent banks each payment in "
        "its own treasury."
    )
    assert _skill(SCRIBE, "Summarize.", "One line only") == (
        "method: summary, all of the input's 1 sentence\nanswer: One line only"
    )


def test_headline_is_the_first_sentence_cut_to_the_word_limit() -> None:
    instructions = "Write one headline of at most ten words for the input."
    assert _skill(SCRIBE, instructions, TERMS) == (
        "method: headline, the input's first sentence in at most 10 words\n"
        "answer: Stakers earn a share of every paid hire"
    )
    assert _skill(SCRIBE, "Write a headline of at most 4 words.", TERMS).endswith(
        "answer: Stakers earn a share"
    )


def test_review_lists_the_sentences_that_match_risk_patterns_most_severe_first() -> None:
    instructions = "Review the Solidity in the input and list its risks by severity."
    assert _skill(AUDITOR, instructions, TERMS, "offline:careful-1") == (
        "method: review, the sentences of the input's 3 lines that match known risk patterns"
        " (3 found)\n"
        "answer:\n"
        "- high, line 1 (without notice): The guardian may pause the agent without notice.\n"
        "- high, line 2 (sole discretion): The reserve is spent only by governance, at its "
        "sole discretion.\n"
        "- high, line 4 (unlimited, termination, liability): Either party may terminate the "
        "service; liability is unlimited."
    )


def test_review_of_solidity_names_each_risky_line() -> None:
    assert _skill(AUDITOR, "Review the Solidity in the input.", SOLIDITY) == (
        "method: review, the sentences of the input's 7 lines that match known risk patterns"
        " (2 found)\n"
        "answer:\n"
        '- high, line 3 (tx.origin): require(tx.origin == owner, "not owner");\n'
        "- medium, line 5 (low-level call): (bool ok,) = to.call{value: "
        'address(this).balance}("");'
    )


def test_a_review_that_finds_nothing_says_so() -> None:
    assert _skill(AUDITOR, "Review the input.", "All funds stay put.") == (
        "method: review, the sentences of the input's 1 line that match known risk patterns"
        " (0 found)\n"
        "answer: no line matches a known risk pattern"
    )


def test_gas_lists_the_costliest_lines_up_to_the_number_asked() -> None:
    instructions = "Point out the one costliest pattern and how to make it cheaper."
    assert _skill(AUDITOR, instructions, SOLIDITY) == (
        "method: gas review, the sentences of the input's 7 lines that match known cost"
        " patterns (2 found, the 1 most severe shown)\n"
        "answer:\n"
        "- high, line 4 (loop): for (uint i = 0; i < holders.length; i++) { balances[holders[i]]"
        " = 0; }"
    )


def test_explain_is_a_summary_though_the_prompt_speaks_of_risks() -> None:
    # The instructions (the last paragraph) decide, not the persona's words.
    answer = _skill(AUDITOR, "Explain what the contract in the input does.", TERMS)
    assert answer.startswith("method: summary, the first 3 of the input's 6 sentences\n")


def test_the_same_input_under_another_skill_gets_another_method() -> None:
    answers = {
        _skill(SCRIBE, instructions, TERMS)
        for instructions in ("Summarize.", "Write a headline.", "Review it.", "Cut the gas.")
    }
    assert len(answers) == 4


# --- Tool calling -------------------------------------------------------------------------


@tool
def shout(text: str) -> str:
    """Say the text louder."""
    return text.upper()


@tool
def measure(text: str, unit: str = "words") -> str:
    """Measure the text."""
    return f"{len(text.split())} {unit}"


@tool
def pick(count: int) -> str:
    """Pick a number."""
    return str(count)


def test_bound_tools_are_each_called_once_with_the_input() -> None:
    model = OfflineChatModel().bind_tools([shout, measure, pick])
    reply = model.invoke(_messages(task="hire me"))

    assert isinstance(reply, AIMessage)
    assert reply.text == ""
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("shout", {"text": "hire me"}),
        ("measure", {"text": "hire me"}),  # the required string, not the optional one
        ("pick", {}),  # no string argument: the tool's own validation answers
    ]
    assert len({c["id"] for c in reply.tool_calls}) == 3
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    assert model.invoke(_messages(task="hire me")).tool_calls == reply.tool_calls


def test_tool_choice_limits_the_calls() -> None:
    named = OfflineChatModel().bind_tools([shout, measure], tool_choice="measure")
    assert [c["name"] for c in named.invoke(_messages()).tool_calls] == ["measure"]
    none = OfflineChatModel().bind_tools([shout, measure], tool_choice="none")
    reply = none.invoke(_messages())
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == []
    assert "answer:" in reply.text


def test_tool_results_are_quoted_under_one_heading_per_tool() -> None:
    model = OfflineChatModel().bind_tools([shout, measure])
    first = model.invoke(_messages(task="hire me"))
    assert isinstance(first, AIMessage)
    results = [
        ToolMessage("HIRE ME", tool_call_id=first.tool_calls[0]["id"], name="shout"),
        # No name: found through the call's id.
        ToolMessage("2 words", tool_call_id=first.tool_calls[1]["id"]),
    ]
    reply = model.invoke([*_messages(task="hire me"), first, *results])

    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == []
    assert reply.text.splitlines()[4:] == [
        "method: the results of 2 tool calls",
        "answer:",
        "## shout",
        "HIRE ME",
        "## measure",
        "2 words",
    ]
    assert reply.text.startswith("[offline:echo-1] offline model, not an LLM\npersona: ")


def test_a_new_question_after_tool_results_calls_the_tools_again() -> None:
    model = OfflineChatModel().bind_tools([shout])
    first = model.invoke(_messages(task="one"))
    assert isinstance(first, AIMessage)
    done = ToolMessage("ONE", tool_call_id=first.tool_calls[0]["id"], name="shout")
    again = model.invoke([*_messages(task="one"), first, done, HumanMessage("two")])
    assert [c["args"] for c in again.tool_calls] == [{"text": "one\n\ntwo"}]


def test_tool_calls_count_as_output_tokens_and_work_async() -> None:
    model = OfflineChatModel().bind_tools([shout])
    reply = asyncio.run(model.ainvoke(_messages(task="hire me")))
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == model.invoke(_messages(task="hire me")).tool_calls
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] == count_tokens('shout {"text": "hire me"}')


def test_the_fail_marker_fails_a_call_with_tools_too() -> None:
    with pytest.raises(SimulatedProviderError):
        OfflineChatModel().bind_tools([shout]).invoke(_messages(task=FAIL_MARKER))
