"""Shared fixtures: one anvil for the whole session, the sample agents launched on it,
and a snapshot reverted after every test so tests never see each other's state.

The chain is a real anvil node (npm @foundry-rs/anvil), started by the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from web3 import Web3

from agents.app.database import open_database
from agents.core.settings import Settings
from agents.core.spec import AgentsFile, load_agents_file
from agents.runtime.launch import LaunchResult, launch
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain
from contracts.client import Chain

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_AGENTS = ROOT / "agents.yaml"


@dataclass
class Deployment:
    """The sample agents.yaml launched on the session's anvil."""

    settings: Settings
    chain: Chain
    engine: Engine
    agents_file: AgentsFile
    result: LaunchResult


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the chain, so ``-m "not chain"`` runs the rest in seconds."""
    for item in items:
        if "anvil" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.chain)


@pytest.fixture(scope="session")
def anvil() -> Iterator[EmbeddedChain]:
    with EmbeddedChain(state_path=None, port=0) as node:
        yield node


def settings_for(rpc_url: str, home: Path) -> Settings:
    """Settings of a runtime on an external (here: the test's) chain."""
    return Settings(
        home=home,
        rpc_url=rpc_url,
        deployer_key=SecretStr(Web3.to_hex(dev_account(0).key)),
    )


@pytest.fixture(scope="session")
def deployment(anvil: EmbeddedChain, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    settings = settings_for(anvil.rpc_url, tmp_path_factory.mktemp("agentdao-home"))
    chain = Chain(anvil.rpc_url, dev_account(0))
    engine = open_database(settings)
    agents_file = load_agents_file(SAMPLE_AGENTS)
    result = launch(settings, agents_file, chain, engine, report=lambda _: None)
    return Deployment(settings, chain, engine, agents_file, result)


@pytest.fixture
def chain(deployment: Deployment) -> Iterator[Chain]:
    """The deployment's chain, reverted to its launched state after the test."""
    provider = deployment.chain.w3.provider
    snapshot = provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        yield deployment.chain
    finally:
        provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


from tests.support.live_server import LiveServer, live  # noqa: E402  (a shared fixture)

__all__ = ["Deployment", "LiveServer", "live"]
