"""Governance fixtures: stake, pass a proposal through the Python API, a test sink."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from web3 import Web3
from web3.types import TxReceipt

from agents.app.database import open_database
from agents.core.errors import UnknownModelError
from agents.core.live_config import LiveConfig
from agents.runtime.models import validate_model_string
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from dao import governor as gov
from dao.changes import ConfigCall, to_actions
from tests.conftest import Deployment, settings_for

TOKEN = 10**18


class DictSink:
    """A runtime stand-in: keeps the last good config per agent, refuses models this
    install cannot run (as the runtime does)."""

    def __init__(self) -> None:
        self.live: dict[str, LiveConfig] = {}
        self.received: list[tuple[str, int]] = []

    def __call__(self, agent: str, live: LiveConfig) -> str | None:
        self.received.append((agent, live.version))
        try:
            validate_model_string(live.model)
        except UnknownModelError as exc:
            return str(exc)
        self.live[agent] = live
        return None


@pytest.fixture
def sink() -> DictSink:
    return DictSink()


@pytest.fixture
def engine(anvil_url: str, tmp_path: Path) -> Engine:
    """A fresh runtime database (the sync's cursor and history live here)."""
    return open_database(settings_for(anvil_url, tmp_path / "runtime"))


@pytest.fixture
def anvil_url(deployment: Deployment) -> str:
    return deployment.chain.rpc_url


@pytest.fixture
def cli_env(deployment: Deployment) -> dict[str, str]:
    """Environment that points the CLI at the test deployment."""
    return {
        "AGENTDAO_HOME": str(deployment.settings.home),
        "AGENTDAO_RPC_URL": deployment.chain.rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
    }


def stake(chain: Chain, deployment: Deployment, holder: LocalAccount, tokens: int) -> None:
    """approve + stake ``tokens`` whole SCRIBE for ``holder``."""
    addresses = deployment.result.manifest.agents["scribe"]
    token = chain.contract("AgentToken", addresses.token)
    staking = chain.contract("AgentStake", addresses.stake)
    chain.send(token.functions.approve(addresses.stake, tokens * TOKEN), holder)
    chain.send(staking.functions.stake(tokens * TOKEN), holder)


def pass_proposal(
    chain: Chain, deployment: Deployment, calls: list[ConfigCall], description: str
) -> TxReceipt:
    """Walk scribe's proposal through to execution (dev:1 holds the votes); return the
    execute receipt."""
    addresses = deployment.result.manifest.agents["scribe"]
    actions = to_actions(
        chain.contract("AgentConfig", addresses.config),
        calls,
        {
            "treasury": chain.contract("AgentTreasury", addresses.treasury),
            "timelock": chain.contract("AgentTimelock", addresses.timelock),
        },
    )
    return pass_proposal_actions(chain, deployment, actions, description)


def pass_proposal_actions(
    chain: Chain, deployment: Deployment, actions: list[gov.Action], description: str
) -> TxReceipt:
    """Walk scribe's proposal of raw actions through to execution (dev:1 holds the votes)."""
    spec = deployment.agents_file.agents["scribe"].governance
    addresses = deployment.result.manifest.agents["scribe"]
    governor = chain.contract("AgentGovernor", addresses.governor)
    voter = dev_account(1)
    if (
        governor.functions.getVotes(voter.address, governor.functions.clock().call() - 1).call()
        == 0
    ):
        stake(chain, deployment, voter, 300_000)
        advance_time(chain.w3, 1)
    pid = gov.propose(chain, governor, actions, description, voter)
    advance_time(chain.w3, int(spec.voting_delay) + 1)
    gov.vote(chain, governor, pid, gov.Support.FOR, voter)
    advance_time(chain.w3, int(spec.voting_period) + 1)
    gov.queue(chain, governor, actions, description)
    advance_time(chain.w3, int(spec.timelock_delay) + 1)
    return gov.execute(chain, governor, actions, description)
