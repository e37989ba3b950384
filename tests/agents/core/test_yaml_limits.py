"""Hostile YAML is refused in linear time: deep nesting and alias bombs."""

from __future__ import annotations

import pytest

from agents.core.yaml_limits import YamlLimitError, check_yaml_limits


def test_ordinary_documents_pass() -> None:
    check_yaml_limits("a: &x [1, 2]\nb: *x\nc: {d: [e, f]}\n")


def test_nesting_beyond_the_depth_is_refused_with_its_line() -> None:
    with pytest.raises(YamlLimitError, match="nested deeper than 3 levels") as caught:
        check_yaml_limits("a:\n  b:\n    c:\n      d: 1\n", max_depth=3)
    assert caught.value.line == 4
    check_yaml_limits("a:\n  b:\n    c: 1\n", max_depth=3)


def test_aliases_count_as_copies_of_their_anchor() -> None:
    doc = "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    check_yaml_limits(doc, max_nodes=200)
    with pytest.raises(YamlLimitError, match="expands to more than 50 nodes"):
        check_yaml_limits(doc, max_nodes=50)


def test_a_billion_laughs_is_refused_at_once() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(YamlLimitError, match="expands to more than"):
        check_yaml_limits("\n".join(lines))


def test_not_yaml_is_the_parsers_error() -> None:
    with pytest.raises(Exception, match="expected"):
        check_yaml_limits("a: [1, 2\nb: }")
