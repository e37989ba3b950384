"""The ledger's event scans (stakers, distributions, buybacks) read a strained node in
bounded ranges with retries and return what an unbounded read would."""

from __future__ import annotations

import pytest

import contracts.logs
from contracts.accounts import dev_account
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.flaky_rpc import TIGHT_SCAN, assert_bounded_cover, flaky_rpc
from tests.treasury.support import pay
from treasury.ledger import buyback_history, distribution_history, read_treasury, stakers_of
from treasury.staking import stake

TOKEN = 10**18
USDC = 10**6


def test_scans_on_a_node_that_caps_ranges_and_drops_requests(
    chain: Chain, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = deployment.result.manifest
    addresses = manifest.agents["scribe"]
    stake(chain, addresses, dev_account(1), 1_000 * TOKEN)
    stake(chain, addresses, dev_account(2), 2_000 * TOKEN)
    pay(chain, manifest, "scribe", 10 * USDC)
    chain.send(chain.contract("AgentTreasury", addresses.treasury).functions.distribute())
    start = manifest.start_block
    stakers = stakers_of(chain.contract("AgentStake", addresses.stake), start)
    distributions = distribution_history(chain, addresses, start)
    buybacks = buyback_history(chain, addresses, start)
    assert stakers[-2:] == [dev_account(1).address, dev_account(2).address]
    assert distributions

    monkeypatch.setattr(contracts.logs, "DEFAULT_SCAN", TIGHT_SCAN)
    with flaky_rpc(chain.rpc_url) as proxy:
        proxy.max_log_range, proxy.log_failures = 3, 1
        strained = Chain(proxy.url, dev_account(0))
        head = strained.w3.eth.block_number
        assert stakers_of(strained.contract("AgentStake", addresses.stake), start) == stakers
        assert_bounded_cover(proxy, start, head)
        assert distribution_history(strained, addresses, start) == distributions
        assert buyback_history(strained, addresses, start) == buybacks
        assert [s.account for s in read_treasury(strained, "scribe", addresses, start).stakers] == (
            stakers
        )
