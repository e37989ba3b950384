"""Holders' governance commands: ``propose``, ``vote``, ``queue``, ``execute``, ``proposals``;
the guardian's: ``cancel``, ``pause``.

Thin: each command resolves the agent and the signer, calls
:class:`dao.governance.AgentGovernance` (which checks the rules and raises typed
errors), and prints. ``agents/cli.py`` registers them with :func:`register`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agents.app.agent_context import open_agent
from agents.app.console import one_line_errors
from agents.core.errors import UnknownModelError
from agents.core.money import format_tokens
from agents.runtime.models import validate_model_string
from dao import governor as gov
from dao.governance import parse_support
from dao.proposals import format_time

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
    with open_agent(agent) as ctx:
        governance = ctx.governance
        calls = governance.plan(changes)
        for call in calls:
            if call.function == "setModel":
                try:
                    validate_model_string(str(call.args[0]))
                except UnknownModelError as exc:
                    typer.echo(f"warning: this install cannot run it ({exc})", err=True)
        proposal = governance.propose(calls, description, ctx.signer(from_))
        typer.echo(f"proposal {proposal.id}")
        for line in governance.describe(proposal):
            typer.echo(f"  {line}")
        if wait:
            governance.wait_until(proposal.vote_start)
        now = governance.now()
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
    choice = parse_support(support)
    with open_agent(agent) as ctx:
        voted = ctx.governance.vote(proposal_id, choice, ctx.signer(from_), reason, wait=wait)
        typer.echo(f"voted {support.lower()} with {format_tokens(voted.power)} votes")
        typer.echo(f"tallies: {voted.status.tallies()}")


def queue(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (or a unique prefix)")],
    from_: FromOption = None,
    wait: WaitOption = False,
) -> None:
    """Queue a proposal that passed in the timelock."""
    with open_agent(agent) as ctx:
        proposal, status = ctx.governance.queue(proposal_id, ctx.signer(from_), wait=wait)
        typer.echo(f"queued proposal {proposal.id}")
        typer.echo(f"executable {format_time(status.eta, status.now)}")


def execute(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (or a unique prefix)")],
    from_: FromOption = None,
    wait: WaitOption = False,
) -> None:
    """Execute a queued proposal once the timelock delay has passed (anyone may)."""
    with open_agent(agent) as ctx:
        done = ctx.governance.execute(proposal_id, ctx.signer(from_), wait=wait)
        typer.echo(
            f"executed proposal {done.proposal.id} in tx "
            f"{done.receipt['transactionHash'].to_0x_hex()} (block {done.receipt['blockNumber']}); "
            f"{agent} config is now v{done.config_version}"
        )


def proposals(agent: Annotated[str, typer.Argument(help="Agent name")]) -> None:
    """List an agent's proposals: state, tallies, quorum, times, and what each changes."""
    with open_agent(agent) as ctx:
        governance = ctx.governance
        found = governance.proposals()
        if not found:
            typer.echo(f"no proposals for {agent} yet")
            return
        for proposal in reversed(found):
            status = governance.status(proposal)
            title = proposal.description.strip().splitlines()[0] if proposal.description else ""
            typer.echo(f"proposal {proposal.id}  [{status.state_name}]  {title}")
            typer.echo(f"  by        {proposal.proposer}")
            typer.echo(f"  votes     {status.tallies()}")
            typer.echo(f"  snapshot  {format_time(status.snapshot, status.now)}")
            typer.echo(f"  deadline  {format_time(status.deadline, status.now)}")
            if status.eta and status.state == gov.ProposalState.CANCELED:
                typer.echo("  canceled  in the timelock window, by the guardian")
            elif status.eta:
                typer.echo(f"  eta       {format_time(status.eta, status.now)}")
            for line in governance.describe(proposal):
                typer.echo(f"  changes   {line}")


def cancel(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (or a unique prefix)")],
    from_: FromOption = None,
) -> None:
    """The guardian cancels a passed proposal while it waits in the timelock."""
    with open_agent(agent) as ctx:
        proposal, tx = ctx.governance.cancel(proposal_id, ctx.signer(from_))
        typer.echo(f"canceled proposal {proposal.id} in the timelock  tx {tx}")


def pause(
    agent: Annotated[str, typer.Argument(help="Agent name")],
    from_: FromOption = None,
) -> None:
    """The guardian's emergency stop: the agent stops serving and its treasury stops paying
    out; only governance resumes them."""
    with open_agent(agent) as ctx:
        done = ctx.governance.pause(ctx.signer(from_))
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
