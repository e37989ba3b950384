"""Launch on a real anvil: rights handed to the timelock, idempotence, resumption."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from agents.app.database import open_database
from agents.core.database import session_scope
from agents.core.errors import ConfigFileError, DeploymentError, TransactionFailedError
from agents.core.live_config import read_live_config
from agents.core.spec import parse_agents_yaml
from agents.runtime.launch import launch
from agents.runtime.records import LaunchedAgent
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain
from contracts.client import Chain
from contracts.deploy import (
    CANCELLER_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXECUTOR_ROLE,
    PROPOSER_ROLE,
    ZERO_ADDRESS,
    config_struct,
    deploy_agent,
)
from contracts.manifest import Manifest, PendingAgent
from contracts.uniswap import pair_address, pool_of, router
from tests.conftest import SAMPLE_AGENTS, Deployment, settings_for

DEPLOYER = dev_account(0).address


def test_deployer_holds_no_role_and_owns_nothing(deployment: Deployment, chain: Chain) -> None:
    manifest = deployment.result.manifest
    assert set(manifest.agents) == {"scribe", "auditor"}
    for addresses in manifest.agents.values():
        timelock = chain.contract("AgentTimelock", addresses.timelock)
        for role in (DEFAULT_ADMIN_ROLE, PROPOSER_ROLE, CANCELLER_ROLE, EXECUTOR_ROLE):
            assert not timelock.functions.hasRole(role, DEPLOYER).call()
        governor = addresses.governor
        assert timelock.functions.hasRole(PROPOSER_ROLE, governor).call()
        assert timelock.functions.hasRole(CANCELLER_ROLE, governor).call()
        assert timelock.functions.hasRole(EXECUTOR_ROLE, ZERO_ADDRESS).call()
        assert timelock.functions.hasRole(DEFAULT_ADMIN_ROLE, addresses.timelock).call()
        config = chain.contract("AgentConfig", addresses.config)
        treasury = chain.contract("AgentTreasury", addresses.treasury)
        assert config.functions.owner().call() == addresses.timelock
        assert treasury.functions.owner().call() == addresses.timelock
        assert config.functions.guardian().call() != DEPLOYER
        gov = chain.contract("AgentGovernor", governor)
        assert gov.functions.timelock().call() == addresses.timelock
        assert gov.functions.proposalThreshold().call() > 0
        assert gov.functions.CLOCK_MODE().call() == "mode=timestamp"
        # the one-time links launch makes, and the guardian's canceller role
        stake = chain.contract("AgentStake", addresses.stake)
        assert stake.functions.governor().call() == governor
        assert stake.functions.notifier().call() == addresses.treasury
        assert stake.functions.owner().call() == addresses.timelock
        assert config.functions.treasury().call() == addresses.treasury
        guardian = config.functions.guardian().call()
        if guardian != ZERO_ADDRESS:  # scribe has one (dev:9), auditor none
            assert timelock.functions.hasRole(CANCELLER_ROLE, guardian).call()


def test_tokens_go_to_the_allocations_and_dev_accounts_can_pay(
    deployment: Deployment, chain: Chain
) -> None:
    manifest = deployment.result.manifest
    spec = deployment.agents_file.agents["scribe"]
    token = chain.contract("AgentToken", manifest.agents["scribe"].token)
    for index, amount in ((1, 400_000), (2, 250_000), (3, 100_000)):
        assert token.functions.balanceOf(dev_account(index).address).call() == amount * 10**18
    assert token.functions.totalSupply().call() == int(spec.token.total_supply) * 10**18
    usdc = chain.contract("MockUSDC", str(manifest.payment_token))
    for index in range(10):
        assert usdc.functions.balanceOf(dev_account(index).address).call() == 10_000 * 10**6


def test_registry_lists_every_agent(deployment: Deployment, chain: Chain) -> None:
    manifest = deployment.result.manifest
    registry = chain.contract("AgentRegistry", str(manifest.registry))
    assert registry.functions.nameCount().call() == 2
    assert sorted(registry.functions.names(0, 100).call()) == ["auditor", "scribe"]
    assert registry.functions.names(1, 100).call() == registry.functions.names(0, 2).call()[1:]
    record = registry.functions.agentOf("auditor").call()
    assert record[5] == manifest.agents["auditor"].treasury


def test_live_config_reads_back_the_yaml_and_its_hash(deployment: Deployment, chain: Chain) -> None:
    addresses = deployment.result.manifest.agents["auditor"]
    contract = chain.contract("AgentConfig", addresses.config)
    live = read_live_config(contract)
    spec = deployment.agents_file.agents["auditor"]
    assert live.version == 1
    assert live.system_prompt == spec.system_prompt
    assert live.model == spec.model
    assert {s.name: s.price for s in live.skills} == {
        "review": 500_000,
        "explain": 100_000,
        "gas": 250_000,
    }
    assert live.config_hash == "0x" + contract.functions.configHash().call().hex()


def test_manifest_and_database_record_the_addresses(deployment: Deployment) -> None:
    manifest = Manifest.load(deployment.settings.manifest_path)
    assert manifest is not None
    assert manifest.chain_id == 31337
    assert manifest.pending == {}
    with session_scope(deployment.engine) as session:
        row = session.get(LaunchedAgent, ("scribe", 31337))
        assert row is not None
        assert row.treasury == manifest.agents["scribe"].treasury


def test_second_launch_deploys_nothing(deployment: Deployment, chain: Chain) -> None:
    nonce = chain.w3.eth.get_transaction_count(DEPLOYER)
    lines: list[str] = []
    again = launch(
        deployment.settings, deployment.agents_file, chain, deployment.engine, lines.append
    )
    assert again.deployed == []
    assert again.existing == ["scribe", "auditor"]
    assert chain.w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert again.manifest.agents == deployment.result.manifest.agents
    assert any("already launched" in line for line in lines)


def test_launch_deploys_uniswap_and_seeds_each_pool(deployment: Deployment, chain: Chain) -> None:
    manifest = deployment.result.manifest
    assert manifest.dex is not None
    saved = Manifest.load(deployment.settings.manifest_path)
    assert saved is not None
    assert saved.dex == manifest.dex
    uni = router(chain, manifest.dex.router)
    assert uni.functions.factory().call() == manifest.dex.factory
    assert uni.functions.WETH().call() == manifest.dex.weth
    usdc = str(manifest.payment_token)
    for name, tokens, dollars in (("scribe", 100_000, 5_000), ("auditor", 200_000, 4_000)):
        addresses = manifest.agents[name]
        treasury = chain.contract("AgentTreasury", addresses.treasury)
        assert treasury.functions.router().call() == manifest.dex.router
        assert treasury.functions.agentToken().call() == addresses.token
        assert treasury.functions.keeper().call() == DEPLOYER  # the operator, dev:0
        pool = pool_of(chain, manifest.dex, addresses.token, usdc)
        assert pool.address == pair_address(manifest.dex.factory, addresses.token, usdc)
        assert pool.token_reserve == tokens * 10**18
        assert pool.payment_reserve == dollars * 10**6
        # the pool's tokens came out of dev:0's allocation
        token = chain.contract("AgentToken", addresses.token)
        spec = deployment.agents_file.agents[name]
        allocated = next(a.amount for a in spec.token.allocations if a.holder == "dev:0")
        assert token.functions.balanceOf(DEPLOYER).call() == (int(allocated) - tokens) * 10**18


class _CrashError(Exception):
    pass


def test_interrupted_launch_resumes_without_redeploying(
    anvil: EmbeddedChain, tmp_path: Path
) -> None:
    settings = settings_for(anvil.rpc_url, tmp_path)
    chain = Chain(anvil.rpc_url, dev_account(0))
    engine = open_database(settings)
    agents_file = parse_agents_yaml(SAMPLE_AGENTS.read_text())

    def crash_after_stake(line: str) -> None:
        if line.strip().startswith("stake"):
            raise _CrashError

    with pytest.raises(_CrashError):
        launch(settings, agents_file, chain, engine, crash_after_stake)
    partial = Manifest.load(settings.manifest_path)
    assert partial is not None
    assert partial.agents == {}
    first = partial.pending["scribe"]
    assert first.token is not None
    assert first.timelock is not None  # deployed before the stake, which it owns
    assert first.stake is not None
    assert first.governor is None

    lines: list[str] = []
    result = launch(settings, agents_file, chain, engine, lines.append)
    assert result.deployed == ["scribe", "auditor"]
    assert result.manifest.agents["scribe"].token == first.token
    assert result.manifest.agents["scribe"].stake == first.stake
    assert any(first.token in line and "(exists)" in line for line in lines)
    assert result.manifest.pending == {}


def test_contract_refuses_a_split_that_is_not_whole(deployment: Deployment, chain: Chain) -> None:
    spec = deployment.agents_file.agents["scribe"]
    struct = list(config_struct(spec, 6))
    struct[4] = (5000, 2000, 1000, 1000)
    with pytest.raises(TransactionFailedError, match="AgentConfigInvalidSplit"):
        chain.deploy("AgentConfig", DEPLOYER, ZERO_ADDRESS, 1, 10**12, tuple(struct))


def test_manifest_records_where_the_deployment_begins(deployment: Deployment, chain: Chain) -> None:
    manifest = deployment.result.manifest
    usdc = Web3.to_checksum_address(str(manifest.payment_token))
    first_code_block = min(
        block
        for block in range(manifest.start_block, chain.w3.eth.block_number + 1)
        if chain.w3.eth.get_code(usdc, block_identifier=block)
    )
    assert manifest.start_block < first_code_block
    assert not chain.w3.eth.get_code(usdc, block_identifier=manifest.start_block)


def test_a_name_taken_in_the_registry_by_others_stops_the_launch(
    anvil: EmbeddedChain, tmp_path: Path
) -> None:
    """Names are first come, first served: the registry takes a record only from its own
    timelock's admin, so a squatter must launch a whole agent of its own to take a name;
    launch then refuses the name rather than pointing customers at the squatter."""
    settings = settings_for(anvil.rpc_url, tmp_path)
    chain = Chain(anvil.rpc_url, dev_account(0))
    engine = open_database(settings)
    agents_file = parse_agents_yaml(SAMPLE_AGENTS.read_text())
    squatter = Chain(anvil.rpc_url, dev_account(6))

    def front_run_after_registry(line: str) -> None:
        if not line.startswith("registry"):
            return
        registry = line.split()[1]
        manifest = Manifest.load(settings.manifest_path)
        assert manifest is not None
        assert manifest.payment_token is not None
        # a record made up of someone else's contracts is refused outright
        fake = tuple(dev_account(i).address for i in range(6))
        contract = squatter.contract("AgentRegistry", registry)
        with pytest.raises(TransactionFailedError, match="AgentRegistryUnauthorized"):
            squatter.send(contract.functions.register("scribe", fake, ""))
        deploy_agent(
            squatter,
            "scribe",
            agents_file.agents["scribe"],
            payment_token=manifest.payment_token,
            payment_decimals=6,
            registry=registry,
            operator=dev_account(6).address,
            local=True,
            progress=PendingAgent(),
            save=lambda _: None,
            report=lambda _: None,
        )

    with pytest.raises(DeploymentError, match="the registry's 'scribe' belongs to other contracts"):
        launch(settings, agents_file, chain, engine, front_run_after_registry)


def test_launch_refuses_demo_governance_on_a_real_chain(tmp_path: Path) -> None:
    """Off the embedded chain, delays shorter than the safe floor are refused before any
    deployment unless the file says ``allow_unsafe``."""
    with EmbeddedChain(state_path=None, port=0, chain_id=8453) as node:
        settings = settings_for(node.rpc_url, tmp_path)
        chain = Chain(node.rpc_url, dev_account(0))
        engine = open_database(settings)
        agents_file = parse_agents_yaml(SAMPLE_AGENTS.read_text())
        with pytest.raises(ConfigFileError, match=r"scribe: voting_delay 1s < 86400s"):
            launch(settings, agents_file, chain, engine, lambda _: None)
        assert chain.w3.eth.get_transaction_count(dev_account(0).address) == 0
