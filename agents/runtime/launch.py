"""``agentdao launch``: agents.yaml -> every agent's contracts on chain.

Idempotent and resumable: what the manifest lists and the chain holds is
kept; an interrupted launch finishes where it stopped; a finished one deploys
nothing. The YAML is validated in full before anything touches the chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from agents.core.database import session_scope
from agents.core.errors import ConfigFileError, DeploymentError
from agents.core.money import TOKEN_DECIMALS, to_units
from agents.core.settings import Settings
from agents.core.spec import AgentsFile, AgentSpec
from agents.runtime.records import LaunchedAgent
from contracts import escrow, uniswap
from contracts.accounts import DEV_ACCOUNTS, dev_account, resolve_address
from contracts.client import Chain
from contracts.deploy import ZERO_ADDRESS, deploy_agent
from contracts.manifest import AgentAddresses, DexAddresses, Manifest, PendingAgent
from contracts.session import is_local

__all__ = ["LaunchResult", "launch"]

Report = Callable[[str], None]


@dataclass
class LaunchResult:
    """What a launch did."""

    manifest: Manifest
    deployed: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.deployed)


def launch(
    settings: Settings,
    agents_file: AgentsFile,
    chain: Chain,
    engine: Engine,
    report: Report = print,
) -> LaunchResult:
    """Launch every agent of ``agents_file`` that is not on chain yet.

    Raises:
        DeploymentError: a step failed; the manifest keeps what was deployed.
        ConfigFileError: the file names dev accounts on a chain that is not local.
    """
    local = is_local(chain)
    if not local:
        _refuse_unsafe_governance(agents_file)
    manifest = _current_manifest(settings, chain, report)
    result = LaunchResult(manifest=manifest)

    def save() -> None:
        manifest.save(settings.manifest_path)

    manifest.payment_token = _payment_token(chain, agents_file, manifest, local, report)
    save()
    if local:
        _fund_dev_accounts(chain, manifest.payment_token, agents_file, report)
    registry = manifest.registry
    if registry is None or not chain.has_code(registry):
        registry = manifest.registry = str(chain.deploy("AgentRegistry").address)
        save()
        report(f"registry  {registry}")
    payment_decimals = (
        chain.contract("MockUSDC", manifest.payment_token).functions.decimals().call()
    )
    operator = resolve_address(agents_file.deployment.operator, local=local)
    manifest.dex = _dex(chain, agents_file, manifest, local, report)
    manifest.batch_escrow = _batch_escrow(chain, local, report)
    save()
    router = manifest.dex.router if manifest.dex is not None else ZERO_ADDRESS

    for name, spec in agents_file.agents.items():
        launched = manifest.agents.get(name)
        if launched is not None and chain.has_code(launched.treasury):
            result.existing.append(name)
            report(f"{name}: already launched (config {launched.config}); nothing to deploy")
            _seed_pool(chain, name, spec, launched, manifest, local, report)
            continue
        report(f"{name}: launching")
        progress = manifest.pending.setdefault(name, PendingAgent())

        def save_progress(_: PendingAgent) -> None:
            save()

        addresses = deploy_agent(
            chain,
            name,
            spec,
            payment_token=manifest.payment_token,
            payment_decimals=payment_decimals,
            registry=registry,
            operator=operator,
            local=local,
            router=router,
            progress=progress,
            save=save_progress,
            report=report,
        )
        manifest.agents[name] = addresses
        manifest.pending.pop(name, None)
        save()
        result.deployed.append(name)
        report(f"{name}: launched")
        _seed_pool(chain, name, spec, addresses, manifest, local, report)
    _record(engine, chain.chain_id, manifest.agents)
    return result


def _refuse_unsafe_governance(agents_file: AgentsFile) -> None:
    """Short delays and a small quorum are a demo's; on a real chain they let capital held
    for hours take an agent. Refused unless the file says ``allow_unsafe: true``."""
    problems = [
        f"{name}: {problem}"
        for name, spec in agents_file.agents.items()
        if not spec.governance.allow_unsafe
        for problem in spec.governance.unsafe_settings()
    ]
    if problems:
        raise ConfigFileError(
            "governance below the safe floor for a real chain ("
            + "; ".join(problems)
            + "); lengthen it, or set governance.allow_unsafe: true to launch anyway"
        )


def _current_manifest(settings: Settings, chain: Chain, report: Report) -> Manifest:
    """The manifest to extend, or a fresh one when the old one is of another chain."""
    existing = Manifest.load(settings.manifest_path)
    if existing is None:
        return Manifest(
            chain_id=chain.chain_id, rpc_url=chain.rpc_url, start_block=chain.w3.eth.block_number
        )
    if existing.chain_id != chain.chain_id or not chain.has_code(existing.registry):
        stale = settings.manifest_path.with_suffix(".stale.json")
        settings.manifest_path.replace(stale)
        report(
            f"the chain no longer holds the contracts of {settings.manifest_path} "
            f"(moved to {stale.name}); launching afresh"
        )
        return Manifest(
            chain_id=chain.chain_id, rpc_url=chain.rpc_url, start_block=chain.w3.eth.block_number
        )
    existing.rpc_url = chain.rpc_url
    return existing


def _payment_token(
    chain: Chain, agents_file: AgentsFile, manifest: Manifest, local: bool, report: Report
) -> str:
    configured = agents_file.deployment.payment_token
    if configured is not None:
        if not chain.has_code(configured):
            raise DeploymentError(f"payment_token {configured} holds no contract on this chain")
        return configured
    if chain.has_code(manifest.payment_token):
        return str(manifest.payment_token)
    if not local:
        raise DeploymentError(
            "deployment.payment_token must name the chain's USDC: MockUSDC is for local chains only"
        )
    address = chain.deploy("MockUSDC").address
    report(f"MockUSDC  {address}")
    return str(address)


def _dex(
    chain: Chain, agents_file: AgentsFile, manifest: Manifest, local: bool, report: Report
) -> DexAddresses | None:
    """The Uniswap V2 the buybacks use: the configured router, else (local chains) our own."""
    configured = agents_file.deployment.dex_router
    if configured is not None:
        return uniswap.existing_dex(chain, configured)
    if not local:
        report("no DEX configured (deployment.dex_router): buyback shares will accumulate")
        return None
    return uniswap.deploy_dex(chain, manifest.dex, report)


def _batch_escrow(chain: Chain, local: bool, report: Report) -> str | None:
    """The x402 batch-settlement escrow customers prepay into: placed at its canonical
    address on local chains, found there elsewhere (None: only ``exact`` is sold)."""
    if local:
        placed = escrow.place_escrow(chain)
        if placed:
            report(f"batch-settlement escrow {escrow.ESCROW_ADDRESS} ({', '.join(placed)})")
    elif not escrow.escrow_on_chain(chain):
        report(f"no batch-settlement escrow at {escrow.ESCROW_ADDRESS}: selling `exact` only")
        return None
    return escrow.ESCROW_ADDRESS


def _seed_pool(
    chain: Chain,
    name: str,
    spec: AgentSpec,
    addresses: AgentAddresses,
    manifest: Manifest,
    local: bool,
    report: Report,
) -> None:
    """Open the agent's token/USDC pool from dev:0's allocation (local chains; once)."""
    if spec.liquidity is None or manifest.dex is None or manifest.payment_token is None:
        return
    if not local:
        report(f"{name}: liquidity is seeded on local chains only; add it on the DEX yourself")
        return
    pool = uniswap.pool_of(chain, manifest.dex, addresses.token, manifest.payment_token)
    if pool.exists:
        return
    provider = dev_account(0)
    usdc = chain.contract("MockUSDC", manifest.payment_token)
    usdc_amount = to_units(spec.liquidity.usdc, int(usdc.functions.decimals().call()))
    # minted on top of dev_funding, so dev:0 keeps its funding like every dev account
    chain.send(usdc.functions.mint(provider.address, usdc_amount))
    pool = uniswap.seed_pool(
        chain,
        manifest.dex,
        token=addresses.token,
        payment_token=manifest.payment_token,
        token_amount=to_units(spec.liquidity.tokens, TOKEN_DECIMALS),
        payment_amount=usdc_amount,
        provider=provider,
        report=report,
    )
    report(
        f"{name}: pool {pool.address} seeded with {spec.liquidity.tokens} "
        f"{spec.token.symbol} and {spec.liquidity.usdc} USDC"
    )
    # the buyback's price floor averages from here: the first observation starts its window
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    chain.send(treasury.functions.observePrice())


def _fund_dev_accounts(chain: Chain, usdc: str, agents_file: AgentsFile, report: Report) -> None:
    """Top every dev account up to ``dev_funding`` dollars, so any of them can pay."""
    contract = chain.contract("MockUSDC", usdc)
    target = to_units(agents_file.deployment.dev_funding, int(contract.functions.decimals().call()))
    topped = 0
    for index in range(DEV_ACCOUNTS):
        account = dev_account(index).address
        balance = contract.functions.balanceOf(account).call()
        if balance < target:
            chain.send(contract.functions.mint(account, target - balance))
            topped += 1
    if topped:
        report(f"funded {topped} dev accounts with {agents_file.deployment.dev_funding} USDC")


def _record(engine: Engine, chain_id: int, agents: dict[str, AgentAddresses]) -> None:
    with session_scope(engine) as session:
        for name, addresses in agents.items():
            row = session.get(LaunchedAgent, (name, chain_id))
            if row is None:
                session.add(LaunchedAgent(name=name, chain_id=chain_id, **addresses.model_dump()))
            else:
                for key, value in addresses.model_dump().items():
                    setattr(row, key, value)
