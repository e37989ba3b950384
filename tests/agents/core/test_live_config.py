"""The split's four shares, named in one place and kept in AgentConfig's order."""

from __future__ import annotations

from decimal import Decimal

from agents.core.live_config import SPLIT_SHARES, LiveSplit
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
