"""The live config: the split's four shares in AgentConfig's order; skills with and without
the optional agentic fields."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_abi.abi import encode as abi_encode
from pydantic import ValidationError
from web3 import Web3

from agents.core.live_config import (
    AGENTIC_SKILL_ABI_TYPE,
    CONFIG_ABI_TYPE,
    DEFAULT_MAX_STEPS,
    SPLIT_SHARES,
    LiveConfig,
    LiveSkill,
    LiveSplit,
)
from agents.core.spec import SplitSpec


def test_split_shares_keep_agentconfigs_order() -> None:
    split = LiveSplit.from_bps([5000, 2000, 1000, 2000])
    assert SPLIT_SHARES == ("stakers", "operator", "buyback", "reserve")
    assert split.as_tuple() == (5000, 2000, 1000, 2000)
    assert split.by_share() == {"stakers": 5000, "operator": 2000, "buyback": 1000, "reserve": 2000}
    assert list(split.by_share()) == list(SPLIT_SHARES)


def test_the_yaml_split_becomes_the_same_basis_points() -> None:
    spec = SplitSpec(
        stakers=Decimal("60"), operator=Decimal("25"), buyback=Decimal("5"), reserve=Decimal("10")
    )
    assert spec.basis_points() == (6000, 2500, 500, 1000)


# --- Agentic skill fields: optional, so today's on-chain configs still parse -------------

CONFIG = (
    "You are Scribe.",
    "offline:echo-1",
    20,
    [("summarize", "Summarize.", 50_000), ("headline", "One headline.", 10_000)],
    (5000, 2000, 1000, 2000),
    1_000_000,
)


def test_a_config_without_agentic_fields_parses_to_plain_skills_and_hashes_as_before() -> None:
    live = LiveConfig.from_struct(4, CONFIG)

    assert [s.tools for s in live.skills] == [(), ()]
    assert [s.max_steps for s in live.skills] == [DEFAULT_MAX_STEPS] * 2
    assert [s.max_cost for s in live.skills] == [0, 0]
    assert not any(s.is_agentic for s in live.skills)
    encoded = abi_encode([CONFIG_ABI_TYPE], [CONFIG])
    assert live.content_hash == Web3.keccak(encoded).to_0x_hex()


def test_skill_rows_with_the_agentic_fields_are_read_and_hashed_in_their_layout() -> None:
    rows = [
        ("brief", "Brief.", 200_000, ["hire:scribe/summarize", "word_count"], 4, 120_000),
        ("summarize", "Summarize.", 50_000, [], 6, 0),
    ]
    live = LiveConfig.from_struct(5, (*CONFIG[:3], rows, *CONFIG[4:]))

    brief = live.skill("brief")
    assert brief is not None
    assert brief.tools == ("hire:scribe/summarize", "word_count")
    assert (brief.max_steps, brief.max_cost, brief.is_agentic) == (4, 120_000, True)
    abi_type = CONFIG_ABI_TYPE.replace("(string,string,uint256)", AGENTIC_SKILL_ABI_TYPE)
    encoded = abi_encode([abi_type], [(*CONFIG[:3], rows, *CONFIG[4:])])
    assert live.content_hash == Web3.keccak(encoded).to_0x_hex()
    assert live.content_hash != LiveConfig.from_struct(5, CONFIG).content_hash


def test_skill_rows_as_mappings_take_the_optional_keys_when_present() -> None:
    plain = LiveSkill.from_row({"name": "a", "instructions": "A.", "price": 1})
    agentic = LiveSkill.from_row(
        {"name": "b", "instructions": "B.", "price": 2, "tools": ["x"], "maxSteps": 3, "maxCost": 9}
    )
    assert plain == LiveSkill(name="a", instructions="A.", price=1)
    assert (agentic.tools, agentic.max_steps, agentic.max_cost) == (("x",), 3, 9)
    assert LiveSkill.from_row({"0": "c", "1": "C.", "2": 3}).name == "c"  # positional


@pytest.mark.parametrize("bad", [{"max_steps": 0}, {"max_cost": -1}])
def test_agentic_limits_are_validated(bad: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        LiveSkill(name="a", instructions="", price=1, **bad)
