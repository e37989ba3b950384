"""agents.yaml validation: every problem named with its line, nothing accepted silently."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from agents.core.errors import ConfigFileError
from agents.core.spec import load_agents_file, parse_agents_yaml

SAMPLE = (Path(__file__).resolve().parents[3] / "agents.yaml").read_text()


def test_sample_file_has_two_distinct_agents() -> None:
    agents = parse_agents_yaml(SAMPLE).agents
    assert len(agents) >= 2
    scribe, auditor = agents["scribe"], agents["auditor"]
    assert scribe.model != auditor.model
    assert scribe.system_prompt != auditor.system_prompt
    assert {s.name for s in scribe.skills}.isdisjoint({s.name for s in auditor.skills})
    assert scribe.split != auditor.split
    for agent in agents.values():
        holders = {a.holder: a.amount for a in agent.token.allocations}
        assert {"dev:1", "dev:2", "dev:3"} <= holders.keys()
        assert len({holders["dev:1"], holders["dev:2"], holders["dev:3"]}) == 3


def test_split_is_converted_to_basis_points() -> None:
    agents = parse_agents_yaml(SAMPLE).agents
    assert agents["scribe"].split.basis_points() == (5000, 2000, 1000, 2000)
    assert sum(agents["auditor"].split.basis_points()) == 10_000


def test_durations_accept_units() -> None:
    governance = parse_agents_yaml(SAMPLE).agents["scribe"].governance
    assert governance.voting_period == 600
    assert governance.timelock_delay == 120
    assert governance.proposal_threshold == Decimal(1000)


def _error(text: str) -> str:
    with pytest.raises(ConfigFileError) as caught:
        parse_agents_yaml(text)
    return str(caught.value)


def test_split_not_summing_to_100_names_its_line() -> None:
    bad = SAMPLE.replace("stakers: 50, operator: 20", "stakers: 45, operator: 20")
    line = 1 + SAMPLE.splitlines().index(
        "    split: {stakers: 50, operator: 20, buyback: 10, reserve: 20}"
    )
    message = _error(bad)
    assert f"agents.yaml:{line}: agents.scribe.split: split must sum to 100%, got 95%" in message


def test_unknown_field_is_refused_with_its_line() -> None:
    bad = SAMPLE.replace("    temperature: 0.2\n", "    temperature: 0.2\n    temprature: 0.3\n")
    line = 1 + bad.splitlines().index("    temprature: 0.3")
    assert (
        f"agents.yaml:{line}: agents.scribe.temprature: Extra inputs are not permitted"
        in _error(bad)
    )


def test_broken_yaml_names_the_line() -> None:
    bad = SAMPLE.replace("    model: offline:echo-1\n", "    model: [offline:echo-1\n")
    message = _error(bad)
    assert message.startswith("agents.yaml:")
    assert "not valid YAML" in message


def test_duplicate_agent_is_refused() -> None:
    bad = SAMPLE + "\n  scribe:\n    description: again\n"
    line = len(SAMPLE.splitlines()) + 2
    assert f"agents.yaml:{line}: key 'scribe' appears twice" in _error(bad)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('price: "0.05"', 'price: "2000"', "outside the band"),
        ("symbol: SCRIBE", "symbol: scribe", "symbol"),
        (
            "{holder: dev:2, amount: 250000}",
            "{holder: dev:1, amount: 250000}",
            "holder listed twice",
        ),
        ("name: headline", "name: summarize", "skill defined twice"),
        ("model: offline:echo-1", "model: echo", "model"),
        ("voting_period: 10m", "voting_period: ten minutes", "duration"),
        ("{holder: dev:3, amount: 100000}", "{holder: bob, amount: 100000}", "holder"),
    ],
)
def test_bad_values_are_refused(old: str, new: str, expected: str) -> None:
    assert old in SAMPLE
    assert expected in _error(SAMPLE.replace(old, new, 1))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    assert "empty" in _error("")
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_agents_file(tmp_path / "nope.yaml")


def test_liquidity_is_optional_and_parsed() -> None:
    agents = parse_agents_yaml(SAMPLE).agents
    liquidity = agents["scribe"].liquidity
    assert liquidity is not None
    assert liquidity.tokens == Decimal(100000)
    assert liquidity.usdc == Decimal(5000)
    without = SAMPLE.replace("    liquidity: {tokens: 100000, usdc: 5000}\n", "")
    assert parse_agents_yaml(without).agents["scribe"].liquidity is None


def test_liquidity_beyond_dev0_allocation_names_the_agent() -> None:
    bad = SAMPLE.replace("liquidity: {tokens: 100000,", "liquidity: {tokens: 250001,")
    line = 1 + bad.splitlines().index("    liquidity: {tokens: 250001, usdc: 5000}")
    message = _error(bad)
    assert (
        f"agents.yaml:{line}: agents.scribe.liquidity: liquidity.tokens is 250001 but dev:0's "
        "allocation is only 250000"
    ) in message


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [
        ("usdc: 5000}", "usdc: 0}", "agents.scribe.liquidity.usdc"),
        ("usdc: 5000}", "usdc: 5000, pool: 1}", "agents.scribe.liquidity.pool"),
        ("dev_funding: 10000", "dev_funding: 10000\n  dex_router: 0x12", "deployment.dex_router"),
    ],
)
def test_bad_liquidity_or_router_is_refused(before: str, after: str, field: str) -> None:
    assert f": {field}: " in _error(SAMPLE.replace(before, after, 1))


def test_the_defaults_are_the_safe_floor_and_the_demo_is_below_it() -> None:
    from agents.core.spec import GovernanceSpec

    assert GovernanceSpec().unsafe_settings() == []
    demo = parse_agents_yaml(SAMPLE).agents["scribe"].governance
    problems = demo.unsafe_settings()
    assert any(p.startswith("voting_delay 1s") for p in problems)
    assert any(p.startswith("timelock_delay 120s") for p in problems)
    assert demo.reward_duration == 3600


def test_reward_duration_is_bounded() -> None:
    bad = SAMPLE.replace("reward_duration: 1h        #", "reward_duration: 10s        #")
    assert "reward_duration" in _error(bad)


def test_buyback_bounds_are_the_treasurys() -> None:
    """What AgentTreasury's constructor would refuse is refused before anything is deployed."""
    for bad in ("{twap_window: 2m, max_slippage: 3}", "{twap_window: 5m, max_slippage: 25}"):
        text = SAMPLE.replace("buyback: {twap_window: 5m, max_slippage: 3}", f"buyback: {bad}", 1)
        assert "buyback" in _error(text)


BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    + ["agents: *a9"]
)
DEEP = "agents: " + "[" * 50_000 + "]" * 50_000


@pytest.mark.parametrize(("name", "document"), [("laughs", BILLION_LAUGHS), ("deep", DEEP)])
def test_hostile_yaml_is_refused_fast_in_one_line(tmp_path: Path, name: str, document: str) -> None:
    """In a child process with web3 imported (py_ecc raises the recursion limit to
    100,000, so deep nesting would overflow the C stack): a hang fails by the
    timeout, a crash by the exit code."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(document)
    probe = (
        "import sys, web3\n"
        "from agents.core.errors import ConfigFileError\n"
        "from agents.core.spec import parse_agents_yaml\n"
        "try:\n"
        f"    parse_agents_yaml(open({str(path)!r}).read(), 'agents.yaml')\n"
        "except ConfigFileError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [line] = done.stdout.strip().splitlines()
    assert re.fullmatch(r"agents\.yaml:\d+: refused: .*", line), line


def test_launch_refuses_hostile_yaml_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(DEEP)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "agentdao"), "launch", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "AGENTDAO_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line == f"error: {path}:1: refused: nested deeper than 64 levels"


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    path.write_bytes(b"agents:\n  scribe:\n    description: caf\xe9\n")
    with pytest.raises(ConfigFileError) as caught:
        load_agents_file(path)
    assert str(caught.value) == f"{path}:3: not UTF-8 text (byte 0xe9); save it as UTF-8"
