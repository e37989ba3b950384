"""The ``agentdao`` command. Thin: each command wires arguments to a function.

Errors are one clear line on stderr and a non-zero exit code.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from agents.app import governance_cli, money_cli
from agents.app.console import one_line_errors
from agents.core.errors import AgentDaoError
from agents.core.settings import Settings

app = typer.Typer(
    name="agentdao",
    help="Run AI agents that their token holders own.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


AgentsFileOption = Annotated[
    Path | None, typer.Option("--file", "-f", help="agents.yaml to read (default: ./agents.yaml)")
]


def _settings(agents_file: Path | None = None) -> Settings:
    settings = Settings.load()
    if agents_file is not None:
        settings = settings.model_copy(update={"agents_file": agents_file})
    return settings


def _echo(message: str) -> None:
    typer.echo(message)


@app.command()
@one_line_errors
def launch(agents_file: AgentsFileOption = None) -> None:
    """Deploy every agent of agents.yaml that is not on chain yet (idempotent)."""
    from agents.app.database import open_database
    from agents.core.spec import load_agents_file
    from agents.runtime.launch import launch as run_launch
    from contracts.session import connect

    settings = _settings(agents_file)
    spec = load_agents_file(settings.agents_file)
    engine = open_database(settings)
    with connect(settings) as chain:
        result = run_launch(settings, spec, chain, engine, report=_echo)
    if not result.changed_anything:
        typer.echo("nothing to deploy: every agent is already launched")
    typer.echo(f"manifest: {settings.manifest_path}")


@app.command()
@one_line_errors
def up(
    agents_file: AgentsFileOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="API processes on one port, sharing the database (PostgreSQL for many)",
        ),
    ] = 1,
) -> None:
    """Start the embedded chain, launch the agents, and serve them over HTTP until Ctrl-C
    or SIGTERM (both stop cleanly: hires in flight finish, the chain saves its state)."""
    from agents.app.server import stop_signals

    with stop_signals():
        try:
            _up(agents_file, workers)
        except KeyboardInterrupt:
            typer.echo("stopped")


def _up(agents_file: Path | None, workers: int = 1) -> None:
    from agents.app.database import open_database
    from agents.app.server import serve
    from agents.core.spec import load_agents_file
    from agents.runtime.launch import launch as run_launch
    from contracts.chain import EmbeddedChain
    from contracts.session import connect

    settings = _settings(agents_file)
    spec = load_agents_file(settings.agents_file)
    engine = open_database(settings)
    embedded = None
    try:
        if settings.embedded_chain:
            embedded = EmbeddedChain(
                settings.chain_state_path, settings.chain_host, settings.chain_port
            ).start()
            typer.echo(f"embedded chain on {embedded.rpc_url} (state: {settings.chain_state_path})")
        with connect(settings) as chain:
            run_launch(settings, spec, chain, engine, report=_echo)
            typer.echo(
                f"serving agents on http://{settings.api_host}:{settings.api_port} "
                "(API docs at /docs). Ctrl-C stops."
            )
            serve(settings, chain, engine, workers)
    finally:
        if embedded is not None:
            embedded.stop()
            typer.echo("chain stopped; state saved")


@app.command()
@one_line_errors
def hire(
    agent: Annotated[str, typer.Argument(help="The agent to hire, e.g. scribe")],
    skill: Annotated[str, typer.Argument(help="One of its skills, e.g. summarize")],
    task_input: Annotated[str, typer.Argument(metavar="INPUT", help="The task's input text")],
    from_: Annotated[
        str,
        typer.Option("--from", help="Who pays: a dev account index (local chain) or a keystore"),
    ] = "1",
    url: Annotated[
        str | None, typer.Option("--url", help="The runtime (default: http://API_HOST:API_PORT)")
    ] = None,
    max_price: Annotated[
        Decimal, typer.Option("--max-price", help="Refuse to pay more than this (dollars)")
    ] = Decimal("1"),
) -> None:
    """Hire an agent for one task, pay with x402, and print the result and receipt."""
    import asyncio
    import os

    from agents.core.money import USDC_DECIMALS, to_decimal
    from agents.runtime.customer import describe_agent, hire_over_http, is_local_network
    from contracts.accounts import load_signer

    settings = _settings()
    base = url or f"http://{settings.api_host}:{settings.api_port}"
    described = asyncio.run(describe_agent(base, agent))
    signer = load_signer(
        from_,
        local=is_local_network(described["network"]),
        password=os.environ.get("AGENTDAO_KEYSTORE_PASSWORD"),
    )
    answer = asyncio.run(hire_over_http(base, described, skill, task_input, signer, max_price))
    receipt = answer["receipt"]
    typer.echo(answer["result"])
    typer.echo("")
    typer.echo(f"receipt   task {receipt['task_id']}")
    decimals = int(described.get("payment_token_decimals", USDC_DECIMALS))
    amount = to_decimal(int(receipt["amount"]), decimals)
    typer.echo(f"  paid    {amount} {described['payment_token_symbol']} from {receipt['payer']}")
    typer.echo(f"  to      {described['addresses']['treasury']} ({agent} treasury)")
    typer.echo(f"  tx      {receipt['settlement_tx']}")
    typer.echo(f"  config  v{receipt['config_version']} {receipt['config_hash']}")


@app.command()
@one_line_errors
def tasks(
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's tasks")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first")] = 50,
) -> None:
    """List the runtime's tasks, newest first, with their state and settlement."""
    from agents.app.database import open_database
    from agents.core.money import USDC_DECIMALS, to_decimal
    from agents.runtime.tasks import TaskStore

    rows = TaskStore(open_database(_settings())).list(agent=agent, limit=limit)
    if not rows:
        typer.echo("no tasks yet")
        return
    for task in rows:
        when = task.created_at.strftime("%Y-%m-%d %H:%M:%S")
        # the task row keeps units, not the token's decimals: USDC is what runtimes take
        paid = f"{to_decimal(task.amount, USDC_DECIMALS)} USDC" if task.charged else "not charged"
        typer.echo(
            f"{task.id}  {when}  {task.agent}/{task.skill:<10} {task.state.value:<13} {paid}"
        )
        if task.settlement_tx:
            typer.echo(f"    tx {task.settlement_tx}")
        if task.error:
            typer.echo(f"    {task.error}")


@app.command("agents")
@one_line_errors
def list_agents() -> None:
    """List launched agents with the configuration read back from the chain."""
    from agents.core.live_config import read_live_config
    from agents.core.money import USDC_DECIMALS, format_money
    from contracts.manifest import Manifest
    from contracts.session import connect

    settings = _settings()
    manifest = Manifest.load(settings.manifest_path)
    if manifest is None or not manifest.agents:
        raise AgentDaoError(
            f"no agents launched yet ({settings.manifest_path}); run `agentdao launch`"
        )
    with connect(settings) as chain:
        decimals = USDC_DECIMALS
        if manifest.payment_token and chain.has_code(manifest.payment_token):
            usdc = chain.contract("MockUSDC", manifest.payment_token)
            decimals = int(usdc.functions.decimals().call())
        for name, addresses in manifest.agents.items():
            config = read_live_config(chain.contract("AgentConfig", addresses.config))
            split = config.split
            typer.echo(f"{name}  (config v{config.version} {config.config_hash[:10]}…)")
            typer.echo(f"  model     {config.model} @ temperature {config.temperature}")
            typer.echo(f"  prompt    {config.system_prompt.strip().splitlines()[0]}")
            for skill in config.skills:
                typer.echo(
                    f"  skill     {skill.name:<12} {format_money(skill.price, decimals)} USDC"
                )
            shares = split.by_share().items()
            typer.echo("  split     " + "  ".join(f"{k} {bps / 100}%" for k, bps in shares))
            typer.echo(f"  paused    {config.paused}")
            for role in ("token", "stake", "governor", "timelock", "config", "treasury"):
                typer.echo(f"  {role:<9} {getattr(addresses, role)}")


# The holders' and guardian's commands, and the money commands.
governance_cli.register(app)
money_cli.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
