"""Deploy one agent's whole on-chain body, resumably.

Order: AgentToken, AgentTimelock, AgentStake, AgentGovernor, AgentConfig,
AgentTreasury; then the one-time bindings (the stake learns its governor, whose
timing sets the unstake cooldown, and its treasury, the only account that may
stream rewards; the config learns the treasury it checkpoints before a split
change), the timelock's roles (the governor proposes and cancels, the guardian
cancels, anyone executes), the registry entry (registered while the deployer
still holds the timelock's admin role: the registry's proof that the record is
the agent's own), and last the deployer's admin role renounced. Each step first
looks at the chain, so re-running after a crash finishes the launch without
deploying anything twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from web3 import Web3

from agents.core.errors import DeploymentError
from agents.core.money import TOKEN_DECIMALS, to_units
from agents.core.spec import AgentSpec
from contracts.accounts import resolve_address
from contracts.client import Chain
from contracts.manifest import AgentAddresses, PendingAgent

__all__ = ["ZERO_ADDRESS", "config_struct", "deploy_agent"]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
PROPOSER_ROLE = Web3.keccak(text="PROPOSER_ROLE")
CANCELLER_ROLE = Web3.keccak(text="CANCELLER_ROLE")
EXECUTOR_ROLE = Web3.keccak(text="EXECUTOR_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32

Report = Callable[[str], None]


def config_struct(spec: AgentSpec, payment_decimals: int) -> tuple[Any, ...]:
    """The agent's initial ``AgentConfig.Config`` as the ABI tuple."""
    return (
        spec.system_prompt,
        spec.model,
        int(spec.temperature * 100),
        [
            (skill.name, skill.instructions, to_units(skill.price, payment_decimals))
            for skill in spec.skills
        ],
        spec.split.basis_points(),
        to_units(spec.hire_budget, payment_decimals),
    )


def deploy_agent(
    chain: Chain,
    name: str,
    spec: AgentSpec,
    *,
    payment_token: str,
    payment_decimals: int,
    registry: str,
    operator: str,
    local: bool,
    router: str = ZERO_ADDRESS,
    progress: PendingAgent,
    save: Callable[[PendingAgent], None],
    report: Report,
) -> AgentAddresses:
    """Deploy (or finish deploying) one agent and hand every right to its timelock.

    ``progress`` holds what earlier attempts deployed; ``save`` is called after
    every new contract so a crash loses nothing. ``router`` is the Uniswap V2
    router the treasury's buyback swaps through (immutable; the zero address
    for none); ``operator`` is also the treasury's first buyback keeper.

    Raises:
        DeploymentError: a step failed; what exists so far is in ``progress``.
    """
    deployer = chain.signer.address

    def step(field: str, label: str, build: Callable[[], str]) -> str:
        existing = getattr(progress, field)
        if existing is not None and chain.has_code(existing):
            report(f"  {label:<10} {existing} (exists)")
            return str(existing)
        address = build()
        setattr(progress, field, address)
        save(progress)
        report(f"  {label:<10} {address}")
        return address

    holders = [resolve_address(a.holder, local=local) for a in spec.token.allocations]
    amounts = [to_units(a.amount, TOKEN_DECIMALS) for a in spec.token.allocations]
    governance = spec.governance

    token = step(
        "token",
        "token",
        lambda: (
            chain.deploy("AgentToken", spec.token.name, spec.token.symbol, holders, amounts).address
        ),
    )
    timelock = step(
        "timelock",
        "timelock",
        lambda: (
            chain.deploy(
                "AgentTimelock", governance.timelock_delay, [], [ZERO_ADDRESS], deployer
            ).address
        ),
    )
    stake = step(
        "stake",
        "stake",
        lambda: (
            chain.deploy(
                "AgentStake",
                token,
                payment_token,
                f"Staked {spec.token.name}",
                f"st{spec.token.symbol}",
                timelock,
                governance.reward_duration,
            ).address
        ),
    )
    governor = step(
        "governor",
        "governor",
        lambda: (
            chain.deploy(
                "AgentGovernor",
                stake,
                timelock,
                f"{spec.token.name} DAO",
                governance.voting_delay,
                governance.voting_period,
                to_units(governance.proposal_threshold, TOKEN_DECIMALS),
                governance.quorum_percent,
                governance.late_quorum_extension,
            ).address
        ),
    )
    guardian = resolve_address(spec.guardian, local=local) if spec.guardian else ZERO_ADDRESS
    config = step(
        "config",
        "config",
        lambda: (
            chain.deploy(
                "AgentConfig",
                timelock,
                guardian,
                to_units(spec.price_floor, payment_decimals),
                to_units(spec.price_ceiling, payment_decimals),
                config_struct(spec, payment_decimals),
            ).address
        ),
    )
    treasury = step(
        "treasury",
        "treasury",
        lambda: (
            chain.deploy(
                "AgentTreasury",
                payment_token,
                config,
                stake,
                token,
                router,
                operator,
                operator,
                timelock,
                spec.buyback.twap_window,
                spec.buyback.slippage_bps(),
            ).address
        ),
    )
    _bind(chain, stake, governor, config, treasury, report)
    addresses = AgentAddresses(
        token=token,
        stake=stake,
        governor=governor,
        timelock=timelock,
        config=config,
        treasury=treasury,
    )
    _grant_timelock_roles(chain, timelock, governor, guardian, report)
    _register(chain, registry, name, addresses, spec.description, report)
    _renounce_timelock_admin(chain, timelock, report)
    return addresses


def _bind(
    chain: Chain, stake: str, governor: str, config: str, treasury: str, report: Report
) -> None:
    """The one-time links the constructors could not take (the governor and treasury are
    deployed after the stake, the treasury after the config)."""
    stake_contract = chain.contract("AgentStake", stake)
    if int(stake_contract.functions.governor().call(), 16) == 0:
        chain.send(stake_contract.functions.bind(governor, treasury))
        report("  stake bound to its governor (cooldown) and treasury (rewards)")
    config_contract = chain.contract("AgentConfig", config)
    if int(config_contract.functions.treasury().call(), 16) == 0:
        chain.send(config_contract.functions.bindTreasury(treasury))
        report("  config bound to its treasury (split checkpoint)")


def _grant_timelock_roles(
    chain: Chain, timelock: str, governor: str, guardian: str, report: Report
) -> None:
    """The governor proposes and cancels; the guardian (if any) cancels a queued proposal."""
    contract = chain.contract("AgentTimelock", timelock)
    grants = [(PROPOSER_ROLE, governor, "governor is the timelock's proposer")]
    grants.append((CANCELLER_ROLE, governor, "governor is the timelock's canceller"))
    if guardian != ZERO_ADDRESS:
        grants.append((CANCELLER_ROLE, guardian, "guardian may cancel queued proposals"))
    for role, account, label in grants:
        if contract.functions.hasRole(role, account).call():
            continue
        _require_admin(contract, chain.signer.address, timelock, label)
        chain.send(contract.functions.grantRole(role, account))
        report(f"  {label}")


def _renounce_timelock_admin(chain: Chain, timelock: str, report: Report) -> None:
    """The last step: from here only the DAO changes anything."""
    contract = chain.contract("AgentTimelock", timelock)
    deployer = chain.signer.address
    if contract.functions.hasRole(DEFAULT_ADMIN_ROLE, deployer).call():
        chain.send(contract.functions.renounceRole(DEFAULT_ADMIN_ROLE, deployer))
        report("  deployer renounced the timelock admin role")


def _require_admin(contract: Any, deployer: str, timelock: str, missing: str) -> None:
    if not contract.functions.hasRole(DEFAULT_ADMIN_ROLE, deployer).call():
        raise DeploymentError(
            f"timelock {timelock}: not yet done ({missing}) and the deployer is no longer "
            "its admin; this launch cannot be finished from here"
        )


def _register(
    chain: Chain,
    registry: str,
    name: str,
    addresses: AgentAddresses,
    description: str,
    report: Report,
) -> None:
    contract = chain.contract("AgentRegistry", registry)
    record = (
        addresses.token,
        addresses.stake,
        addresses.governor,
        addresses.timelock,
        addresses.config,
        addresses.treasury,
    )
    if contract.functions.isRegistered(name).call():
        # Anyone may register a name; a record that is not ours would send customers
        # who discover agents through the registry to someone else's treasury.
        found = tuple(Web3.to_checksum_address(a) for a in contract.functions.agentOf(name).call())
        if found != tuple(Web3.to_checksum_address(a) for a in record):
            raise DeploymentError(
                f"the registry's {name!r} belongs to other contracts (treasury {found[5]}); "
                "rename the agent in agents.yaml"
            )
        return
    metadata = "data:application/json," + quote(json.dumps({"description": description}))
    # the registry takes a record only from the agent's timelock or its admin: the deployer,
    # until the next step renounces that role
    _require_admin(
        chain.contract("AgentTimelock", addresses.timelock),
        chain.signer.address,
        addresses.timelock,
        f"registering {name!r}",
    )
    chain.send(contract.functions.register(name, record, metadata))
    report(f"  registered {name!r} in the registry")
