"""The tool registry: names to tools, per-task factories, families, budgets, built-ins."""

from __future__ import annotations

import threading

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from agents.core.errors import AgentDaoError, ToolBudgetExceededError, UnknownToolError
from agents.core.live_config import LiveSkill
from agents.runtime.tools import (
    BUILTIN_TOOLS,
    TaskContext,
    ToolBudget,
    ToolFamily,
    ToolRegistry,
    builtin_registry,
    extract_risks,
    tool_function_name,
    word_count,
)

SKILL = LiveSkill(name="brief", instructions="Brief.", price=1, max_cost=100)


def _context(task_id: str = "task-1") -> TaskContext:
    return TaskContext.start("brief", SKILL, task_id=task_id, config_version=3)


def _echo(name: str) -> BaseTool:
    return StructuredTool.from_function(lambda text: text, name=name, description="Echo.")


def test_builtins_are_word_count_and_extract_risks() -> None:
    assert set(BUILTIN_TOOLS) == {"word_count", "extract_risks"}
    assert builtin_registry().names == ("extract_risks", "word_count")
    assert word_count.invoke({"text": "One two. Three!\n\nfour"}) == (
        "4 words, 3 sentences, 2 lines"
    )
    assert extract_risks.invoke({"text": "Fine.\nFees are irrevocable."}) == (
        "- high, line 2 (irrevocable): Fees are irrevocable."
    )
    assert extract_risks.invoke({"text": "Fine.\nAll good."}) == (
        "no sentence of 2 lines matches a known risk pattern"
    )


def test_resolve_returns_the_tools_in_the_order_named_without_repeats() -> None:
    tools = builtin_registry().resolve(["word_count", "extract_risks", "word_count"], _context())
    assert tools == (word_count, extract_risks)


def test_an_unknown_name_is_refused_before_anything_is_built() -> None:
    built: list[str] = []

    def factory(context: TaskContext) -> BaseTool:
        built.append(context.task_id)
        return _echo("made")

    registry = builtin_registry().with_tool("made", factory)
    with pytest.raises(UnknownToolError) as caught:
        registry.resolve(["made", "nosuch"], _context())
    assert built == []
    assert isinstance(caught.value, LookupError)
    assert isinstance(caught.value, AgentDaoError)
    assert caught.value.name == "nosuch"
    assert str(caught.value) == (
        "unknown tool 'nosuch' (this runtime has: extract_risks, made, word_count)"
    )


def test_check_vets_a_configs_names_without_a_task() -> None:
    registry = builtin_registry().with_family("hire:", lambda target, ctx: _echo("h"))
    registry.check(["word_count", "hire:scribe/summarize"])
    with pytest.raises(UnknownToolError, match=r"'hire:'.*hire:\*"):
        registry.check(["hire:"])  # a family needs an argument
    with pytest.raises(UnknownToolError, match="'fire:x'"):
        registry.check(["fire:x"])


def test_a_factory_builds_a_fresh_tool_for_every_task() -> None:
    registry = ToolRegistry().with_tool("mine", lambda context: _echo(f"for_{context.task_id}"))
    [first] = registry.resolve(["mine"], _context("a"))
    [second] = registry.resolve(["mine"], _context("b"))
    assert (first.name, second.name) == ("for_a", "for_b")


def test_families_get_the_name_after_their_prefix_and_the_longest_prefix_wins() -> None:
    seen: list[tuple[str, str]] = []

    def family(kind: str) -> ToolFamily:
        def build(argument: str, context: TaskContext) -> BaseTool:
            seen.append((kind, argument))
            return _echo(tool_function_name(f"{kind}:{argument}"))

        return build

    registry = (
        ToolRegistry().with_family("hire:", family("hire")).with_family("hire:url:", family("url"))
    )
    tools = registry.resolve(["hire:scribe/summarize", "hire:url:https://x.test/a"], _context())

    assert seen == [("hire", "scribe/summarize"), ("url", "https://x.test/a")]
    assert [t.name for t in tools] == ["hire_scribe_summarize", "url_https_x_test_a"]
    assert registry.names == ("hire:*", "hire:url:*")


def test_extending_a_registry_leaves_the_original_alone() -> None:
    base = builtin_registry()
    extended = base.with_tool("echo", _echo("echo")).with_family("hire:", lambda a, c: _echo(a))
    assert not base.knows("echo")
    assert not base.knows("hire:x")
    assert extended.knows("echo")
    assert extended.knows("hire:x")


def test_two_tools_under_one_function_name_are_refused() -> None:
    registry = ToolRegistry({"a": _echo("same"), "b": _echo("same")})
    with pytest.raises(ValueError, match="'same' is not a unique provider-safe name"):
        registry.resolve(["a", "b"], _context())


def test_a_tool_name_a_provider_would_refuse_is_refused() -> None:
    registry = ToolRegistry({"hire:x/y": _echo("hire:x/y")})
    with pytest.raises(ValueError, match="provider-safe"):
        registry.resolve(["hire:x/y"], _context())


def test_an_empty_family_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        ToolRegistry(families={"": lambda a, c: _echo(a)})


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("hire:scribe/summarize", "hire_scribe_summarize"),
        ("word_count", "word_count"),
        ("hire:url:https://x.test/a?b=1", "hire_url_https_x_test_a_b_1"),
        (":::", "tool"),
        ("x" * 80, "x" * 64),
    ],
)
def test_tool_function_names_are_provider_safe(name: str, function: str) -> None:
    assert tool_function_name(name) == function


def test_a_task_context_starts_with_the_skills_whole_budget() -> None:
    context = _context()
    assert (context.agent, context.task_id, context.config_version) == ("brief", "task-1", 3)
    assert context.budget.max_cost == 100
    assert context.budget.spent == 0
    assert _context().budget is not context.budget  # one budget per task


def test_budget_charges_up_to_max_cost_and_refunds() -> None:
    budget = ToolBudget(100)
    budget.charge(60)
    budget.charge(40)
    assert (budget.spent, budget.remaining) == (100, 0)

    with pytest.raises(ToolBudgetExceededError) as caught:
        budget.charge(1)
    assert str(caught.value) == (
        "a tool cost of 1 units would exceed the task's max_cost of 100 (100 already spent)"
    )
    assert budget.spent == 100  # a refused charge counts nothing

    budget.refund(40)
    assert budget.remaining == 40
    with pytest.raises(ValueError, match="cannot refund"):
        budget.refund(61)
    with pytest.raises(ValueError, match="negative"):
        budget.charge(-1)


def test_a_zero_budget_allows_only_free_calls() -> None:
    budget = ToolBudget(0)
    budget.charge(0)
    with pytest.raises(ToolBudgetExceededError):
        budget.charge(1)


def test_concurrent_charges_never_pass_the_budget() -> None:
    budget = ToolBudget(1_000)
    refused: list[int] = []

    def spend() -> None:
        for _ in range(100):
            try:
                budget.charge(3)
            except ToolBudgetExceededError:
                refused.append(3)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert budget.spent == 999
    assert len(refused) == 800 - 333
