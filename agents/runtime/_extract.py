"""Extractive text work shared by the offline model and the built-in tools.

Every function here is pure and deterministic: it picks sentences and lines out of
its input and never writes a word the input does not hold (beyond labels). That is
what lets the offline model stand in for an LLM without inventing anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

__all__ = [
    "COST_PATTERNS",
    "RISK_PATTERNS",
    "Finding",
    "Pattern",
    "Task",
    "count_in_instructions",
    "find_lines",
    "format_findings",
    "headline",
    "sentences",
    "summary",
    "task_for",
]

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A sentence ends at . ! or ? (and any closing quote or bracket) before a space and a
# capital, digit or opening quote: "e.g. the" stays one sentence, "U.S. Treasury" does not.
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
_TRAILING_PUNCTUATION = " \t.,;:!?"
_NUMBER_WORDS: Final = {
    word: number
    for number, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}
_COUNT = r"(\d+|" + "|".join(_NUMBER_WORDS) + r")"


class Task(Enum):
    """What a skill's instructions ask the offline model to do."""

    SUMMARY = "summary"
    HEADLINE = "headline"
    REVIEW = "review"
    GAS = "gas"


# Checked in this order against the skill's instructions, then the whole system prompt:
# "Write one headline for the summary" is a headline, "Review the risks" a review.
_TASK_WORDS: Final = (
    (Task.HEADLINE, re.compile(r"\bheadline|\btitle\b", re.IGNORECASE)),
    (Task.GAS, re.compile(r"\bgas\b|\bcostliest\b|\bcheaper\b", re.IGNORECASE)),
    (Task.REVIEW, re.compile(r"\breview|\brisk|\baudit", re.IGNORECASE)),
    (Task.SUMMARY, re.compile(r"summar|\bexplain|\bbrief|\btl;?dr", re.IGNORECASE)),
)


def task_for(system: str) -> Task:
    """The task a system message asks for: its last paragraph (where a skill's
    instructions go) decides; failing that, the whole message; failing that, a summary."""
    for text in (_last_paragraph(system), system):
        for task, words in _TASK_WORDS:
            if words.search(text):
                return task
    return Task.SUMMARY


def count_in_instructions(system: str, nouns: str) -> int | None:
    """The number the instructions put before one of ``nouns`` (a regex alternation), in
    the last paragraph first: ``"at most three sentences"`` with ``nouns="sentences?"``
    gives 3, ``"the three costliest patterns"`` with ``nouns="patterns"`` too."""
    counted = re.compile(rf"\b{_COUNT}\s+(?:\w+\s+)?(?:{nouns})\b", re.IGNORECASE)
    for text in (_last_paragraph(system), system):
        match = counted.search(text)
        if match is not None:
            number = match.group(1).lower()
            return int(number) if number.isdigit() else _NUMBER_WORDS[number]
    return None


def _last_paragraph(text: str) -> str:
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()]
    return paragraphs[-1] if paragraphs else ""


def sentences(text: str) -> list[str]:
    """The input's sentences in order, whitespace collapsed. A paragraph without end
    punctuation (a heading) counts as one sentence."""
    found: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        flat = " ".join(paragraph.split())
        if flat:
            found.extend(s for s in _SENTENCE_BREAK.split(flat) if s)
    return found


def summary(text: str, count: int) -> tuple[str, int]:
    """The first ``count`` sentences joined, and how many sentences the text has."""
    found = sentences(text)
    return " ".join(found[: max(count, 1)]), len(found)


def headline(text: str, max_words: int) -> str:
    """The first sentence, cut to ``max_words`` words, without end punctuation."""
    found = sentences(text)
    if not found:
        return ""
    words = found[0].split()[: max(max_words, 1)]
    return " ".join(words).rstrip(_TRAILING_PUNCTUATION)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A known pattern of risk (or of cost) in a contract's text or a Solidity line."""

    label: str
    severity: str
    """``high``, ``medium`` or ``low``."""
    regex: re.Pattern[str]


def _patterns(*rows: tuple[str, str, str]) -> tuple[Pattern, ...]:
    return tuple(Pattern(label, sev, re.compile(rx, re.IGNORECASE)) for label, sev, rx in rows)


RISK_PATTERNS: Final = _patterns(
    # Terms of a contract in words.
    ("unlimited", "high", r"\bunlimited\b"),
    ("irrevocable", "high", r"\birrevocabl"),
    ("without notice", "high", r"\bwithout (?:prior |any )?notice\b"),
    ("sole discretion", "high", r"\bsole (?:and absolute )?discretion\b"),
    ("open to anyone", "high", r"\b(?:open to|callable by) any(?:one|body)\b|\banyone can\b"),
    ("indemnification", "medium", r"\bindemnif"),
    ("termination", "medium", r"\bterminat"),
    ("auto-renewal", "medium", r"\bauto-?renew|\bautomatically renew"),
    ("liability", "medium", r"\bliabilit"),
    ("waiver", "medium", r"\bwaive"),
    ("non-refundable", "medium", r"\bnon-?refundable\b"),
    ("unilateral change", "low", r"\bmay (?:change|modify|amend)\b"),
    ("perpetual", "low", r"\bperpetu"),
    # Solidity.
    ("delegatecall", "high", r"\bdelegatecall\b"),
    ("selfdestruct", "high", r"\bselfdestruct\b"),
    ("tx.origin", "high", r"\btx\.origin\b"),
    ("unlimited approval", "high", r"\btype\(uint(?:256)?\)\.max\b"),
    ("low-level call", "medium", r"\.call(?:\{|\()"),
    ("unchecked arithmetic", "medium", r"\bunchecked\s*\{"),
    ("owner-only", "medium", r"\bonlyOwner\b"),
    ("timestamp dependence", "low", r"\bblock\.timestamp\b"),
)
"""What a review looks for, most severe first within each group."""

COST_PATTERNS: Final = _patterns(
    ("loop", "high", r"\b(?:for|while)\s*\("),
    ("storage array growth", "medium", r"\.push\("),
    ("storage reference", "medium", r"\bstorage\b"),
    ("revert string", "low", r"\brequire\s*\(.*,\s*\""),
    ("hashing", "low", r"\bkeccak256\s*\("),
)
"""What a gas review looks for."""

_SEVERITY_RANK: Final = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One sentence of the input that matches known patterns."""

    line: int
    """1-based number of the input line the sentence is on."""
    text: str
    """The sentence (a whole line of code: code has no sentences)."""
    severity: str
    """The most severe of the matched patterns' severities."""
    labels: tuple[str, ...]


def find_lines(text: str, patterns: tuple[Pattern, ...]) -> tuple[list[Finding], int]:
    """Every sentence of the input that matches any of ``patterns``, with its line
    number, most severe first (then in input order), and how many non-blank lines were
    checked. A line of prose can hold several findings; a line of code holds one."""
    findings: list[Finding] = []
    checked = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        checked += 1
        for sentence in sentences(line):
            matched = [p for p in patterns if p.regex.search(sentence)]
            if matched:
                severity = min((p.severity for p in matched), key=_SEVERITY_RANK.__getitem__)
                labels = tuple(dict.fromkeys(p.label for p in matched))
                findings.append(Finding(number, sentence, severity, labels))
    # Stable: equal severities keep their input order.
    findings.sort(key=lambda f: _SEVERITY_RANK[f.severity])
    return findings, checked


def format_findings(findings: list[Finding]) -> str:
    """One line per finding: ``- high, line 3 (unlimited, termination): <the sentence>``."""
    return "\n".join(
        f"- {f.severity}, line {f.line} ({', '.join(f.labels)}): {f.text}" for f in findings
    )
