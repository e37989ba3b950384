"""Extractive text work (agents.runtime._extract): sentences, counts, tasks, pattern lines."""

from __future__ import annotations

import pytest

from agents.runtime import _extract
from agents.runtime._extract import Task


def test_sentences_split_at_end_punctuation_before_a_capital() -> None:
    text = 'He said "stop." Then he left. See e.g. the cat!  Why?\n\nA heading\n\n12 is a number.'
    assert _extract.sentences(text) == [
        'He said "stop."',
        "Then he left.",
        "See e.g. the cat!",
        "Why?",
        "A heading",
        "12 is a number.",
    ]


def test_wrapped_lines_of_one_paragraph_are_one_text() -> None:
    assert _extract.sentences("Keep every\nfact. And more") == ["Keep every fact.", "And more"]
    assert _extract.sentences(" \n\n ") == []


@pytest.mark.parametrize(
    ("instructions", "task"),
    [
        ("Summarize the input in at most three sentences.", Task.SUMMARY),
        ("Write one headline of at most ten words for the input.", Task.HEADLINE),
        ("Review the Solidity in the input and list its risks by severity.", Task.REVIEW),
        ("Explain what the contract in the input does, for a non-engineer.", Task.SUMMARY),
        ("Point out the three costliest patterns and how to make them cheaper.", Task.GAS),
        ("Translate the input.", Task.REVIEW),  # says nothing: the persona (risk) decides
    ],
)
def test_the_instructions_paragraph_decides_the_task(instructions: str, task: Task) -> None:
    # The persona speaks of risks and audits; the skill's instructions still decide.
    system = f"You are Auditor. Name each risk.\n\n{instructions}"
    assert _extract.task_for(system) is task


def test_without_instructions_the_whole_prompt_decides() -> None:
    assert _extract.task_for("You are a careful auditor.") is Task.REVIEW
    assert _extract.task_for("") is Task.SUMMARY


@pytest.mark.parametrize(
    ("system", "nouns", "count"),
    [
        ("Summarize in at most three sentences.", "sentences?", 3),
        ("Summarize in 5 sentences.", "sentences?", 5),
        ("Write one headline of at most ten words.", "words?", 10),
        ("Point out the three costliest patterns.", "patterns?", 3),
        ("Summarize.", "sentences?", None),
        ("Use four sentences.\n\nSummarize in two sentences.", "sentences?", 2),
    ],
)
def test_counts_are_read_from_the_instructions(system: str, nouns: str, count: int | None) -> None:
    assert _extract.count_in_instructions(system, nouns) == count


def test_headline_and_summary() -> None:
    text = "Fees fall today, says the DAO. Nothing else changes."
    assert _extract.headline(text, 3) == "Fees fall today"
    assert _extract.headline(text, 10) == "Fees fall today, says the DAO"
    assert _extract.headline("", 10) == ""
    assert _extract.summary(text, 1) == ("Fees fall today, says the DAO.", 2)
    assert _extract.summary(text, 9) == (text, 2)


def test_findings_are_sentences_by_line_most_severe_first() -> None:
    text = "All fine here.\nThe owner may change fees. It is irrevocable.\n\nWe waive it."
    findings, checked = _extract.find_lines(text, _extract.RISK_PATTERNS)
    assert checked == 3
    assert [(f.severity, f.line, f.labels, f.text) for f in findings] == [
        ("high", 2, ("irrevocable",), "It is irrevocable."),
        ("medium", 4, ("waiver",), "We waive it."),
        ("low", 2, ("unilateral change",), "The owner may change fees."),
    ]
    assert _extract.format_findings(findings[:1]) == (
        "- high, line 2 (irrevocable): It is irrevocable."
    )
