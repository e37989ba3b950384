"""``--set`` parsing and proposal wording, without a chain."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3
from web3.contract import Contract

from agents.core.live_config import LiveConfig, LiveSkill, LiveSplit
from contracts import artifacts
from dao.changes import ConfigCall, parse_changes, to_actions
from dao.describe import describe_action, diff_configs
from dao.errors import ConfigChangeError
from dao.governor import Action

CONFIG_ADDRESS = "0x" + "11" * 20
CURRENT = LiveConfig(
    version=4,
    config_hash="0x" + "00" * 32,
    content_hash="0x" + "00" * 32,
    system_prompt="You are Scribe.",
    model="offline:echo-1",
    temperature=Decimal("0.2"),
    skills=(
        LiveSkill(name="summarize", instructions="Summarize.", price=50_000),
        LiveSkill(name="headline", instructions="One headline.", price=10_000),
    ),
    split=LiveSplit(stakers_bps=5000, operator_bps=2000, buyback_bps=1000, reserve_bps=2000),
    hire_budget=1_000_000,
    paused=False,
)


def _config() -> Contract:
    return Web3().eth.contract(
        address=Web3.to_checksum_address(CONFIG_ADDRESS), abi=artifacts.load("AgentConfig").abi
    )


def test_each_key_becomes_its_call(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("New prompt.")
    calls = parse_changes(
        [
            "system_prompt=@p.txt",
            "model=openai:gpt-4o-mini",
            "temperature=0.35",
            "price.summarize=0.07",
            "hire_budget=2.5",
            "paused=true",
        ],
        CURRENT,
        base_dir=tmp_path,
    )
    assert calls == [
        ConfigCall("setSystemPrompt", ("New prompt.",)),
        ConfigCall("setModel", ("openai:gpt-4o-mini",)),
        ConfigCall("setTemperature", (35,)),
        ConfigCall("setHireBudget", (2_500_000,)),
        ConfigCall("setPaused", (True,)),
        ConfigCall("setSkillPrice", ("summarize", 70_000)),
    ]


def test_split_keys_combine_with_the_unchanged_shares() -> None:
    calls = parse_changes(["split.stakers=60", "split.reserve=10"], CURRENT)
    assert calls == [ConfigCall("setSplit", ((6000, 2000, 1000, 1000),))]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (["split.stakers=60"], "split must sum to 100%: stakers 60% + operator 20%"),
        (["split.founders=5"], "unknown share 'founders'"),
        (["price.translate=0.1"], "no skill 'translate' (skills: summarize, headline)"),
        (["price.summarize=abc"], "'abc' is not a dollar amount"),
        (["price.summarize=0.0000001"], "more than 6 decimals"),
        (["price.summarize=0.05"], "already 0.05 USDC"),
        (["temperature=2.5"], "above the maximum of 2"),
        (["model=nocolon"], "expected 'provider:model'"),
        (["paused=maybe"], "'maybe' is not true or false"),
        (["colour=blue"], "unknown key 'colour'"),
        (["model=a:b", "model=a:c"], "--set model given twice"),
        (["system_prompt=  "], "cannot be empty"),
        (["skill.translate.instructions=Translate."], "give its price.translate too"),
        (["system_prompt=@missing.txt"], "cannot read"),
        ([], "nothing to change"),
    ],
)
def test_bad_changes_say_what_is_wrong(changes: list[str], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigChangeError, match=re.escape(message)):
        parse_changes(changes, CURRENT, base_dir=tmp_path)


def test_price_band_is_checked_locally() -> None:
    with pytest.raises(ConfigChangeError, match=r"outside this agent's price band \[0.01, 1\]"):
        parse_changes(["price.summarize=2"], CURRENT, price_band=(10_000, 1_000_000))


def test_a_new_skill_takes_instructions_and_price_in_one_call() -> None:
    calls = parse_changes(
        ["skill.translate.instructions=Translate to French.", "price.translate=0.2"], CURRENT
    )
    assert calls == [ConfigCall("setSkill", (("translate", "Translate to French.", 200_000),))]


def test_actions_are_described_in_words_from_their_calldata() -> None:
    config = _config()
    calls = parse_changes(
        ["price.summarize=0.07", "split.stakers=60", "split.operator=10", "paused=true"], CURRENT
    )
    actions = to_actions(config, calls)
    words = [describe_action(a, {"config": config}, CURRENT) for a in actions]
    assert words == [
        "pause the agent",
        "summarize price 0.05 -> 0.07 USDC",
        "split stakers 50% -> 60%, operator 20% -> 10%",
    ]
    stranger = Action(target="0x" + "22" * 20, calldata=bytes.fromhex("deadbeef"), value=5)
    assert describe_action(stranger, {"config": config}).endswith("0xdeadbeef… sending 5 wei")


def test_diff_lists_every_changed_field() -> None:
    after = CURRENT.model_copy(
        update={
            "model": "openai:gpt-4o",
            "skills": (LiveSkill(name="summarize", instructions="Summarize.", price=60_000),),
            "paused": True,
        }
    )
    assert diff_configs(CURRENT, after) == [
        "model offline:echo-1 -> openai:gpt-4o",
        "summarize price 0.05 -> 0.06 USDC",
        "remove skill headline",
        "paused",
    ]
    assert diff_configs(None, CURRENT) == ["initial config"]
