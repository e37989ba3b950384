"""Holders' governance commands: ``propose``, ``vote``, ``queue``, ``execute``, ``proposals``;
the guardian's: ``cancel``, ``pause``.

Thin: each command resolves the agent and the signer, then calls ``dao``'s
functions. ``agents/cli.py`` registers them with :func:`register`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

import typer
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from agents.app.console import one_line_errors
from agents.core.errors import UnknownModelError
from agents.core.live_config import LiveConfig, read_live_config
from agents.core.settings import Settings
from agents.runtime.models import validate_model_string
from contracts.accounts import load_signer
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.manifest import AgentAddresses, Manifest
from contracts.session import connect, is_local
from dao import governor as gov
from dao import guardian as guard
from dao.changes import parse_changes, to_actions
from dao.describe import USDC_DECIMALS, describe_action
from dao.errors import ProposalStateError, UnknownAgentError
from dao.proposals import Proposal, ProposalStatus, find_proposal, format_time, list_proposals
from dao.proposals import proposal_status as read_status

__all__ = ["register"]


FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Signer: a dev account index (local chains) or a keystore file "
        "(password from AGENTDAO_KEYSTORE_PASSWORD). Default: the deployer.",
    ),
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait", help="Local chains: advance the chain's clock to when this step is allowed."
    ),
]
SUPPORT = {"for": gov.Support.FOR, "against": gov.Support.AGAINST, "abstain": gov.Support.ABSTAIN}


@dataclass
class _Agent:
    name: str
    chain: Chain
    addresses: AgentAddresses
    governor: Contract
    config: Contract
    treasury: Contract
    decimals: int
    start_block: int
    """Where event scans start: the deployment's first block."""

    def timelock(self) -> Contract:
        return self.chain.contract("AgentTimelock", self.addresses.timelock)

    def contracts(self) -> dict[str, Contract]:
        return {"config": self.config, "treasury": self.treasury, "timelock": self.timelock()}

    def signer(self, reference: str | None) -> LocalAccount:
        if reference is None:
            return self.chain.signer
        password = os.environ.get("AGENTDAO_KEYSTORE_PASSWORD")
        return load_signer(reference, local=is_local(self.chain), password=password)

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def advance_to(self, timestamp: int) -> None:
        """Move a local chain's clock just past ``timestamp``."""
        if not is_local(self.chain):
            raise ProposalStateError("--wait advances the clock, which only a local chain allows")
        gap = timestamp - self.now() + 1
        if gap > 0:
            advance_time(self.chain.w3, gap)

    def votes(self, amount: int) -> str:
        return f"{(Decimal(amount) / 10**18).normalize():,f}"


@contextmanager
def _agent(name: str) -> Iterator[_Agent]:
    settings = Settings.load()
    manifest = Manifest.load(settings.manifest_path)
    if manifest is None or name not in manifest.agents:
        raise UnknownAgentError(name, list(manifest.agents) if manifest else [])
    addresses = manifest.agents[name]
    with connect(settings) as chain:
        decimals = USDC_DECIMALS
        if manifest.payment_token and chain.has_code(manifest.payment_token):
            decimals = int(
                chain.contract("MockUSDC", manifest.payment_token).functions.decimals().call()
            )
        yield _Agent(
            name=name,
            chain=chain,
            addresses=addresses,
            governor=chain.contract("AgentGovernor", addresses.governor),
            config=chain.contract("AgentConfig", addresses.config),
            treasury=chain.contract("AgentTreasury", addresses.treasury),
            decimals=decimals,
            start_block=manifest.start_block,
        )


def _config_before(agent: _Agent, proposal: Proposal) -> LiveConfig:
    """The config as it was when the proposal was made (the current one if the node
    keeps no history)."""
    try:
        block = proposal.block_number
        struct = agent.config.functions.config().call(block_identifier=block)
        version = agent.config.functions.version().call(block_identifier=block)
        paused = agent.config.functions.paused().call(block_identifier=block)
        return LiveConfig.from_struct(version, struct, paused)
    except Exception:  # a pruned node refuses old state; now is the next best thing
        return read_live_config(agent.config)


def _describe(agent: _Agent, proposal: Proposal) -> list[str]:
    before = _config_before(agent, proposal)
    return [describe_action(a, agent.contracts(), before, agent.decimals) for a in proposal.actions]


def _tallies(agent: _Agent, status: ProposalStatus) -> str:
    reached = "reached" if status.quorum_reached else "not reached"
    return (
        f"for {agent.votes(status.votes_for)}, against {agent.votes(status.votes_against)}, "
        f"abstain {agent.votes(status.votes_abstain)}; quorum {agent.votes(status.quorum)} "
        f"({reached})"
    )


def _state(status: ProposalStatus) -> str:
    return status.state.name.lower()


def propose(
    agent: Annotated[str, typer.Argument(help="Agent name, as in the manifest")],
    changes: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="key=value: system_prompt=@file, model=provider:model, temperature=0.3, "
            "price.<skill>=0.07, skill.<name>.instructions=..., split.<share>=50, "
            "hire_budget=1.00, paused=true, treasury.paused=false, guardian=0x…|none",
        ),
    ],
    description: Annotated[str, typer.Option("--description", "-d", help="Why; shown to voters")],
    from_: FromOption = None,
    wait: WaitOption = False,
) -> None:
    """Propose a config change to an agent's token holders."""
    with _agent(agent) as ctx:
        current = read_live_config(ctx.config)
        band = (
            int(ctx.config.functions.priceFloor().call()),
            int(ctx.config.functions.priceCeiling().call()),
        )
        guardian = str(ctx.config.functions.guardian().call())
        calls = parse_changes(
            changes, current, decimals=ctx.decimals, price_band=band, guardian=guardian
        )
        for call in calls:
            if call.function == "setModel":
                try:
                    validate_model_string(str(call.args[0]))
                except UnknownModelError as exc:
                    typer.echo(f"warning: this install cannot run it ({exc})", err=True)
        if not description.strip():
            raise ProposalStateError("--description cannot be empty: voters read it")
        actions = to_actions(
            ctx.config, calls, {"treasury": ctx.treasury, "timelock": ctx.timelock()}
        )
        signer = ctx.signer(from_)
        threshold = int(ctx.governor.functions.proposalThreshold().call())
        clock = int(ctx.governor.functions.clock().call())
        power = int(ctx.governor.functions.getVotes(signer.address, clock - 1).call())
        if power < threshold:
            raise ProposalStateError(
                f"{signer.address} has {ctx.votes(power)} votes; proposing to {agent} needs "
                f"{ctx.votes(threshold)} (stake more tokens, or wait a block after staking)"
            )
        pid = gov.proposal_id(ctx.governor, actions, description)
        if int(ctx.governor.functions.proposalSnapshot(pid).call()) != 0:
            raise ProposalStateError(
                f"proposal {pid} already exists with these changes and description"
            )
        gov.propose(ctx.chain, ctx.governor, actions, description, signer)
        proposal = find_proposal(ctx.governor, str(pid), ctx.start_block)
        typer.echo(f"proposal {pid}")
        for line in _describe(ctx, proposal):
            typer.echo(f"  {line}")
        if wait:
            ctx.advance_to(proposal.vote_start)
        now = ctx.now()
        typer.echo(f"voting opens  {format_time(proposal.vote_start, now)}")
        typer.echo(f"voting closes {format_time(proposal.vote_end, now)}")


def vote(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (or a unique prefix)")],
    support: Annotated[str, typer.Argument(help="for, against or abstain")],
    reason: Annotated[str, typer.Option("--reason", help="Why, recorded on chain")] = "",
    from_: FromOption = None,
    wait: WaitOption = False,
) -> None:
    """Vote on a proposal with your staked tokens."""
    choice = SUPPORT.get(support.lower())
    if choice is None:
        raise ProposalStateError(f"{support!r}: vote for, against or abstain")
    with _agent(agent) as ctx:
        proposal = find_proposal(ctx.governor, proposal_id, ctx.start_block)
        status = read_status(ctx.governor, proposal)
        if status.state == gov.ProposalState.PENDING and wait:
            ctx.advance_to(status.snapshot)
            status = read_status(ctx.governor, proposal)
        if status.state == gov.ProposalState.PENDING:
            raise ProposalStateError(
                f"voting on proposal {proposal.id} opens {format_time(status.snapshot, status.now)}"
                " (--wait on a local chain)"
            )
        if status.state != gov.ProposalState.ACTIVE:
            raise ProposalStateError(
                f"voting on proposal {proposal.id} closed "
                f"{format_time(status.deadline, status.now)}; it is {_state(status)}"
            )
        signer = ctx.signer(from_)
        if ctx.governor.functions.hasVoted(proposal.id, signer.address).call():
            raise ProposalStateError(f"{signer.address} already voted on proposal {proposal.id}")
        power = int(ctx.governor.functions.getVotes(signer.address, status.snapshot).call())
        if power == 0:
            raise ProposalStateError(
                f"{signer.address} had no staked votes when voting opened "
                f"({format_time(status.snapshot, status.now)}); stake before a proposal is made"
            )
        gov.vote(ctx.chain, ctx.governor, proposal.id, choice, signer, reason)
        status = read_status(ctx.governor, proposal)
        typer.echo(f"voted {support.lower()} with {ctx.votes(power)} votes")
        typer.echo(f"tallies: {_tallies(ctx, status)}")


def queue(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (or a unique prefix)")],
    from_: FromOption = None,
    wait: WaitOption = False,
) -> None:
    """Queue a proposal that passed in the timelock."""
    with _agent(agent) as ctx:
        proposal = find_proposal(ctx.governor, proposal_id, ctx.start_block)
        status = read_status(ctx.governor, proposal)
        if wait and status.state in (gov.ProposalState.PENDING, gov.ProposalState.ACTIVE):
            ctx.advance_to(status.deadline)
            status = read_status(ctx.governor, proposal)
        if status.state in (gov.ProposalState.PENDING, gov.ProposalState.ACTIVE):
            raise ProposalStateError(
                f"voting on proposal {proposal.id} is open until "
                f"{format_time(status.deadline, status.now)} (--wait on a local chain)"
            )
        if status.state != gov.ProposalState.SUCCEEDED:
            raise ProposalStateError(
                f"proposal {proposal.id} is {_state(status)} ({_tallies(ctx, status)}); "
                "only a succeeded proposal can be queued"
            )
        gov.queue(
            ctx.chain, ctx.governor, proposal.actions, proposal.description, ctx.signer(from_)
        )
        status = read_status(ctx.governor, proposal)
        typer.echo(f"queued proposal {proposal.id}")
        typer.echo(f"executable {format_time(status.eta, status.now)}")


def execute(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (or a unique prefix)")],
    from_: FromOption = None,
    wait: WaitOption = False,
) -> None:
    """Execute a queued proposal once the timelock delay has passed (anyone may)."""
    with _agent(agent) as ctx:
        proposal = find_proposal(ctx.governor, proposal_id, ctx.start_block)
        status = read_status(ctx.governor, proposal)
        if status.state != gov.ProposalState.QUEUED:
            raise ProposalStateError(
                f"proposal {proposal.id} is {_state(status)}; only a queued proposal executes"
            )
        if status.now < status.eta:
            if not wait:
                raise ProposalStateError(
                    f"proposal {proposal.id} is in the timelock until "
                    f"{format_time(status.eta, status.now)} (--wait on a local chain)"
                )
            ctx.advance_to(status.eta)
        receipt = gov.execute(
            ctx.chain, ctx.governor, proposal.actions, proposal.description, ctx.signer(from_)
        )
        version = int(ctx.config.functions.version().call())
        typer.echo(
            f"executed proposal {proposal.id} in tx {receipt['transactionHash'].to_0x_hex()} "
            f"(block {receipt['blockNumber']}); {agent} config is now v{version}"
        )


def proposals(agent: Annotated[str, typer.Argument(help="Agent name")]) -> None:
    """List an agent's proposals: state, tallies, quorum, times, and what each changes."""
    with _agent(agent) as ctx:
        found = list_proposals(ctx.governor, ctx.start_block)
        if not found:
            typer.echo(f"no proposals for {agent} yet")
            return
        for proposal in reversed(found):
            status = read_status(ctx.governor, proposal)
            title = proposal.description.strip().splitlines()[0] if proposal.description else ""
            typer.echo(f"proposal {proposal.id}  [{_state(status)}]  {title}")
            typer.echo(f"  by        {proposal.proposer}")
            typer.echo(f"  votes     {_tallies(ctx, status)}")
            typer.echo(f"  snapshot  {format_time(status.snapshot, status.now)}")
            typer.echo(f"  deadline  {format_time(status.deadline, status.now)}")
            if status.eta and status.state == gov.ProposalState.CANCELED:
                typer.echo("  canceled  in the timelock window, by the guardian")
            elif status.eta:
                typer.echo(f"  eta       {format_time(status.eta, status.now)}")
            for line in _describe(ctx, proposal):
                typer.echo(f"  changes   {line}")


def cancel(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (or a unique prefix)")],
    from_: FromOption = None,
) -> None:
    """The guardian cancels a passed proposal while it waits in the timelock."""
    with _agent(agent) as ctx:
        proposal = find_proposal(ctx.governor, proposal_id, ctx.start_block)
        status = read_status(ctx.governor, proposal)
        if status.state != gov.ProposalState.QUEUED:
            raise ProposalStateError(
                f"proposal {proposal.id} is {_state(status)}; the guardian cancels only a "
                "queued proposal"
            )
        tx = guard.cancel_queued(
            ctx.chain,
            ctx.governor,
            ctx.timelock(),
            proposal.actions,
            proposal.description,
            ctx.signer(from_),
        )
        typer.echo(f"canceled proposal {proposal.id} in the timelock  tx {tx}")


def pause(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    from_: FromOption = None,
) -> None:
    """The guardian's emergency stop: the agent stops serving and its treasury stops paying
    out; only governance resumes them."""
    with _agent(agent) as ctx:
        done = guard.pause(ctx.chain, ctx.config, ctx.treasury, ctx.signer(from_))
        if done.agent_tx is None and done.treasury_tx is None:
            typer.echo(f"{agent} is already paused")
            return
        typer.echo(f"paused {agent}: serving and treasury outflows stopped")
        for label, tx in (("agent", done.agent_tx), ("treasury", done.treasury_tx)):
            if tx:
                typer.echo(f"  {label:<9} tx {tx}")
        typer.echo("  resume with a proposal: --set paused=false (and treasury unpause)")


def register(app: typer.Typer) -> None:
    """Add the governance commands to the ``agentdao`` app."""
    for command in (propose, vote, queue, execute, proposals, cancel, pause):
        app.command(command.__name__)(one_line_errors(command))
