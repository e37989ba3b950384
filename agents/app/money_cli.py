"""Holders' and operators' money commands: ``stake``, ``unstake``, ``withdraw``, ``claim``,
``treasury``, ``distribute``, ``buyback``, ``operator-withdraw``.

Thin: each command resolves the agent and the signer, then calls the treasury
package. ``agents/cli.py`` registers them with :func:`register`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agents.app.agent_context import open_agent
from agents.app.console import one_line_errors
from agents.core.money import TOKEN_DECIMALS, format_money, format_tokens, parse_amount
from agents.core.settings import Settings
from treasury import staking
from treasury.buyback import BuybackKeeper, BuybackQuote, BuybackStatus
from treasury.distribution import DistributionJob, DistributionStatus
from treasury.ledger import TreasuryState, read_treasury
from treasury.settings import EarningsSettings

__all__ = ["register"]

AgentArgument = Annotated[str, typer.Argument(help="The agent, e.g. scribe")]
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Signer: a dev account index (local chains) or a keystore file "
        "(password from AGENTDAO_KEYSTORE_PASSWORD). Default: the deployer.",
    ),
]


def _token_units(text: str) -> int:
    return parse_amount(text, TOKEN_DECIMALS, "tokens")


def _tokens(units: int) -> str:
    return format_tokens(units)


def _usdc(state: TreasuryState, units: int) -> str:
    return f"{format_money(units, state.payment_decimals)} USDC"


def stake(
    agent: AgentArgument,
    amount: Annotated[str, typer.Argument(help="Whole tokens to stake, e.g. 1000 or 12.5")],
    from_: FromOption = None,
) -> None:
    """Stake an agent's token: vote with it and earn the stakers' share of its revenue."""
    with open_agent(agent) as a:
        done = staking.stake(a.chain, a.addresses, a.signer(from_), _token_units(amount))
        typer.echo(f"staked {_tokens(done.amount)} {a.symbol} from {done.account}")
        typer.echo(f"  now staking {_tokens(done.staked_after)} {a.symbol}  tx {done.tx}")


def unstake(
    agent: AgentArgument,
    amount: Annotated[
        str | None, typer.Argument(help="Whole tokens to unstake (default: all)")
    ] = None,
    from_: FromOption = None,
) -> None:
    """Unstake an agent's token: votes and earnings stop now; `withdraw` after the cooldown."""
    with open_agent(agent) as a:
        units = None if amount is None else _token_units(amount)
        done = staking.unstake(a.chain, a.addresses, a.signer(from_), units)
        typer.echo(f"unstaked {_tokens(done.amount)} {a.symbol} for {done.account}")
        typer.echo(f"  now staking {_tokens(done.staked_after)} {a.symbol}  tx {done.tx}")
        typer.echo(
            f"  {_tokens(done.cooling_down)} {a.symbol} cooling down for "
            f"{_duration(done.cooldown)} (the DAO's voting delay + voting period + late-quorum "
            "extension + timelock delay, so a stake cannot vote and leave before the vote is "
            f"over); withdraw from chain time {done.ready_at} with "
            f"`agentdao withdraw {agent}`"
        )


def withdraw(agent: AgentArgument, from_: FromOption = None) -> None:
    """Withdraw the tokens you unstaked, once their cooldown has passed."""
    with open_agent(agent) as a:
        holder = a.signer(from_)
        amount, tx = staking.withdraw(a.chain, a.addresses, holder)
        typer.echo(f"withdrew {_tokens(amount)} {a.symbol} to {holder.address}")
        typer.echo(f"  tx {tx}")


def operator_withdraw(
    agent: AgentArgument,
    to: Annotated[
        str | None, typer.Option("--to", help="Pay to this address (default: the operator)")
    ] = None,
    from_: FromOption = None,
) -> None:
    """The operator withdraws its share of an agent's income (pulled, never pushed)."""
    with open_agent(agent) as a:
        operator = a.signer(from_)
        paid, tx = staking.withdraw_operator_share(a.chain, a.addresses, operator, to)
        if tx is None:
            typer.echo(f"nothing owed to {operator.address}")
            return
        typer.echo(f"withdrew {format_money(paid, a.payment_decimals)} USDC of operator share")
        typer.echo(f"  tx {tx}")


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")) if v]
    return " ".join(parts) or "0s"


def claim(agent: AgentArgument, from_: FromOption = None) -> None:
    """Claim everything your stake in an agent has earned."""
    with open_agent(agent) as a:
        holder = a.signer(from_)
        paid, tx = staking.claim(a.chain, a.addresses, holder)
        if tx is None:
            typer.echo(f"nothing to claim for {holder.address}")
            return
        typer.echo(f"claimed {format_money(paid, a.payment_decimals)} USDC to {holder.address}")
        typer.echo(f"  tx {tx}")


def treasury(agent: AgentArgument) -> None:
    """Show an agent's earnings: income, its split, reserve, buyback and burn, stakers."""
    with open_agent(agent) as a:
        state = read_treasury(a.chain, agent, a.addresses, a.manifest.start_block)
    typer.echo(f"{agent} treasury {state.treasury}")
    typer.echo(
        f"  income      {_usdc(state, state.total_income)} distributed, "
        f"{_usdc(state, state.pending_income)} pending"
    )
    typer.echo(
        f"  split       stakers {_usdc(state, state.total_to_stakers)}, "
        f"operator {_usdc(state, state.total_to_operator)}, "
        f"buyback {_usdc(state, state.total_to_buyback)}, "
        f"reserve {_usdc(state, state.total_to_reserve)}"
    )
    typer.echo(f"  per share   {state.per_share.normalize():f} USDC per staked {a.symbol}")
    typer.echo(
        f"  streaming   {_usdc(state, state.streaming_left)} still to stream to stakers"
        + (f" until chain time {state.period_finish}" if state.streaming_left else "")
        + f" (each distribution streams over {_duration(state.reward_duration)})"
    )
    typer.echo(
        f"  operator    {_usdc(state, state.operator_owed)} owed to {state.operator} "
        "(withdrawn with `agentdao operator-withdraw`)"
    )
    if state.paused:
        typer.echo("  PAUSED      the guardian stopped outflows; only governance resumes them")
    typer.echo(f"  reserve     {_usdc(state, state.reserve)} (spent by governance only)")
    if state.has_dex:
        typer.echo(
            f"  buyback     {_usdc(state, state.buyback_fund)} in the fund; "
            f"{_usdc(state, state.total_bought_back)} bought back"
        )
    else:
        typer.echo(
            f"  buyback     {_usdc(state, state.buyback_fund)} in the fund; no DEX configured: "
            "the buyback share accumulates until governance spends it"
        )
    typer.echo(
        f"  supply      {_tokens(state.token_supply)} {a.symbol} "
        f"({_tokens(state.total_burned)} {a.symbol} burned)"
    )
    typer.echo(f"  staked      {_tokens(state.total_staked)} {a.symbol}")
    if not state.stakers:
        typer.echo("  stakers     none yet")
        return
    typer.echo(f"  unstaking   a stake leaves {_duration(state.unstake_cooldown)} after `unstake`")
    typer.echo(f"  {'staker':<42}  {'staked':>20}  {'claimable':>16}  cooling down")
    for p in state.stakers:
        cooling = f"{_tokens(p.cooling_down)} until {p.ready_at}" if p.cooling_down else "-"
        typer.echo(
            f"  {p.account:<42}  {_tokens(p.staked):>20}  "
            f"{_usdc(state, p.claimable):>16}  {cooling}"
        )


def distribute(agent: AgentArgument) -> None:
    """Distribute an agent's pending income now (anyone may; the job does it on schedule)."""
    from agents.app.database import open_database

    with open_agent(agent) as a:
        job = DistributionJob(a.chain, open_database(a.settings), a.manifest, EarningsSettings())
        outcome = job.run(agent, force=True)
        decimals = a.payment_decimals
    if outcome.status is DistributionStatus.NOTHING_PENDING:
        typer.echo(f"{agent}: nothing to distribute (no income since the last distribution)")
        return
    typer.echo(f"{agent}: distributed {format_money(outcome.income, decimals)} USDC")
    typer.echo(f"  tx {outcome.tx}")


def claim_vouchers() -> None:
    """Claim what every agent's prepaid channels owe and settle it into the treasuries
    now (the runtime's job does it on schedule; the operator's key pays the gas)."""
    from agents.app.database import open_database
    from agents.runtime.runtime import Runtime
    from contracts.session import connect

    settings = Settings.load()
    with connect(settings) as chain:
        runtime = Runtime.open(settings, chain, open_database(settings))
        if runtime.payments.batch is None:
            typer.echo("no batch-settlement escrow on this chain: nothing to claim")
            return
        rounds = runtime.claim_vouchers()
    vouchers = sum(r.vouchers for r in rounds)
    typer.echo(
        f"claimed {vouchers} vouchers in {sum(len(r.claim_txs) for r in rounds)} transactions"
    )
    for done in rounds:
        for tx in done.claim_txs:
            typer.echo(f"  claim  {tx}")
        if done.settle_tx:
            typer.echo(f"  settle {done.settle_tx}")


def buyback(
    agent: AgentArgument,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Dollars to spend (default: the whole fund)")
    ] = None,
    from_: FromOption = None,
) -> None:
    """Buy back and burn the agent's token with its buyback fund (the keeper only)."""
    with open_agent(agent) as a:
        keeper = BuybackKeeper(a.chain, a.manifest, EarningsSettings(), signer=a.signer(from_))
        decimals = a.payment_decimals
        units = None if amount is None else parse_amount(amount, decimals, "dollars")
        quote = keeper.quote(agent, units)
        if not isinstance(quote, BuybackQuote):
            typer.echo(f"{agent}: {quote.reason}")
            return
        outcome = keeper.execute(quote)
    if outcome.status is BuybackStatus.BURNED:
        typer.echo(
            f"{agent}: spent {format_money(outcome.amount_in, decimals)} USDC, "
            f"burned {_tokens(outcome.burned)} {a.symbol}"
        )
        typer.echo(f"  tx {outcome.tx}")


def register(app: typer.Typer) -> None:
    """Add the money commands to the ``agentdao`` app."""
    for command in (stake, unstake, withdraw, claim, treasury, distribute, buyback):
        app.command(command.__name__)(one_line_errors(command))
    app.command("operator-withdraw")(one_line_errors(operator_withdraw))
    app.command("claim-vouchers")(one_line_errors(claim_vouchers))
