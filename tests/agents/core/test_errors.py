"""One root; one UnknownAgentError for every domain."""

from __future__ import annotations

import pytest

from agents.core.errors import AgentDaoError, UnknownAgentError
from contracts.manifest import AgentAddresses, Manifest
from dao.errors import GovernanceError
from treasury.errors import TreasuryError

ADDRESSES = AgentAddresses(
    token="0x1", stake="0x2", governor="0x3", timelock="0x4", config="0x5", treasury="0x6"
)


def test_unknown_agent_names_what_the_runtime_or_the_manifest_knows() -> None:
    assert str(UnknownAgentError("nobody")) == "no agent named 'nobody'"
    assert (
        str(UnknownAgentError("nobody", ["scribe", "auditor"]))
        == "unknown agent 'nobody' (launched: auditor, scribe)"
    )
    assert str(UnknownAgentError("x", [])) == "unknown agent 'x' (launched: none launched yet)"
    assert isinstance(UnknownAgentError("x"), LookupError)


def test_manifest_lookup_raises_the_one_unknown_agent_error() -> None:
    manifest = Manifest(chain_id=31337, rpc_url="http://x", agents={"scribe": ADDRESSES})
    assert manifest.agent("scribe") == ADDRESSES
    with pytest.raises(UnknownAgentError, match=r"unknown agent 'nobody' \(launched: scribe\)"):
        manifest.agent("nobody")


def test_domain_roots_share_the_one_root() -> None:
    assert issubclass(GovernanceError, AgentDaoError)
    assert issubclass(TreasuryError, AgentDaoError)
