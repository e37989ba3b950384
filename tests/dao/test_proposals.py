"""Proposals found from ``ProposalCreated`` events, on a node that caps log ranges."""

from __future__ import annotations

import pytest

import contracts.logs
from contracts.accounts import dev_account
from contracts.client import Chain
from dao.changes import ConfigCall
from dao.errors import ProposalNotFoundError
from dao.proposals import find_proposal, list_proposals
from tests.conftest import Deployment
from tests.dao.conftest import pass_proposal
from tests.support.flaky_rpc import TIGHT_SCAN, assert_bounded_cover, flaky_rpc


def test_proposals_are_found_on_a_node_that_caps_ranges_and_drops_requests(
    chain: Chain, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = deployment.result.manifest
    addresses = manifest.agents["scribe"]
    pass_proposal(chain, deployment, [ConfigCall("setTemperature", (35,))], "cooler")
    governor = chain.contract("AgentGovernor", addresses.governor)
    (created,) = list_proposals(governor, manifest.start_block)
    assert created.description == "cooler"

    monkeypatch.setattr(contracts.logs, "DEFAULT_SCAN", TIGHT_SCAN)
    with flaky_rpc(chain.rpc_url) as proxy:
        proxy.max_log_range, proxy.log_failures = 3, 1
        strained = Chain(proxy.url, dev_account(0))
        far = strained.contract("AgentGovernor", addresses.governor)
        assert list_proposals(far, manifest.start_block) == [created]
        assert_bounded_cover(proxy, manifest.start_block, strained.w3.eth.block_number)
        assert find_proposal(far, str(created.id)[:8], manifest.start_block) == created
        with pytest.raises(ProposalNotFoundError):
            find_proposal(far, "123456", manifest.start_block)
