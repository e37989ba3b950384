"""HTTP: an agent's earnings (``GET /agents/{name}/treasury``).

The app includes :data:`router` and overrides :func:`get_reader` with its chain
and manifest::

    app.include_router(treasury_api.router)
    reader = treasury_api.TreasuryReader(runtime.chain, runtime.manifest)
    app.dependency_overrides[treasury_api.get_reader] = lambda: reader
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from agents.app.problems import HTTPProblem, answers
from agents.core.errors import UnknownAgentError
from agents.core.money import TOKEN_DECIMALS, to_decimal
from contracts.client import Chain
from contracts.manifest import Manifest
from treasury.ledger import buyback_history, distribution_history, read_treasury

__all__ = ["TreasuryOut", "TreasuryReader", "get_reader", "router"]

router = APIRouter(tags=["earnings"])


@dataclass(frozen=True)
class TreasuryReader:
    """Where the endpoint reads from: the runtime's chain and deployment manifest."""

    chain: Chain
    manifest: Manifest


def get_reader() -> TreasuryReader:
    """The chain and manifest; the app overrides this dependency."""
    raise HTTPProblem(503, "treasury: no chain configured", "not_configured")


ReaderDep = Annotated[TreasuryReader, Depends(get_reader)]


class StakerOut(BaseModel):
    account: str
    staked: Decimal
    """Agent tokens staked now."""
    claimable: Decimal
    """Dollars the staker may claim now."""
    cooling_down: Decimal
    """Agent tokens unstaked and not yet withdrawable (no votes, no earnings)."""
    withdrawable_at: datetime | None
    """When the cooling-down tokens can be withdrawn; null when none."""


class DistributionOut(BaseModel):
    block: int
    at: datetime
    tx: str
    income: Decimal
    to_stakers: Decimal
    to_operator: Decimal
    to_buyback: Decimal
    to_reserve: Decimal


class RevenuePoint(BaseModel):
    at: datetime
    income: Decimal
    """Dollars distributed at this point."""
    cumulative: Decimal
    """Dollars distributed since launch, up to and including this point."""


class BuybackOut(BaseModel):
    block: int
    at: datetime
    tx: str
    spent: Decimal
    """Dollars of the buyback fund swapped."""
    burned: Decimal
    """Agent tokens bought and burned."""


class TreasuryOut(BaseModel):
    """One agent's earnings: dollars and tokens as decimal strings."""

    agent: str
    treasury: str
    income: Decimal
    """Dollars distributed since launch."""
    pending_income: Decimal
    """Dollars arrived and not distributed yet."""
    to_stakers: Decimal
    to_operator: Decimal
    to_buyback: Decimal
    to_reserve: Decimal
    reserve: Decimal
    """Dollars held that only governance spends."""
    buyback_fund: Decimal
    """Dollars waiting to buy back the token (accumulating when there is no DEX)."""
    bought_back: Decimal
    dex: str | None
    """The Uniswap V2 router buybacks trade on; null: none, the fund accumulates."""
    keeper: str
    operator: str
    operator_owed: Decimal
    """Dollars of the operator's share not yet withdrawn (the operator pulls it)."""
    paused: bool
    """The guardian stopped the treasury's outflows; only governance resumes them."""
    streaming: Decimal
    """Dollars of the stakers' share still to stream to stakers."""
    streaming_until: datetime | None
    """When the current stream ends; null when nothing streams."""
    reward_duration: int
    """Seconds each distribution's stakers' share streams over."""
    unstake_cooldown: int
    """Seconds between an unstake and its withdrawal."""
    token_supply: Decimal
    burned_supply: Decimal
    total_staked: Decimal
    per_share: Decimal
    """Dollars earned since launch by one token staked throughout."""
    stakers: list[StakerOut]
    revenue: list[RevenuePoint]
    distributions: list[DistributionOut]
    buybacks: list[BuybackOut]


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@router.get(
    "/agents/{name}/treasury",
    response_model=TreasuryOut,
    summary="An agent's revenue, distributions, buyback and burn, and each staker's claimable",
    responses=answers(
        s404="Unknown agent",
        s503="The chain cannot be reached now (reason `chain_unavailable`, with Retry-After)",
    ),
)
def get_treasury(name: str, reader: ReaderDep) -> TreasuryOut:
    """The treasury's books read from the chain now, with revenue over time from its
    ``Distributed`` events and buybacks from its ``BuybackExecuted`` events."""
    try:
        addresses = reader.manifest.agent(name)
    except UnknownAgentError as exc:
        raise HTTPProblem(404, exc.message, "unknown_agent") from exc
    state = read_treasury(reader.chain, name, addresses, reader.manifest.start_block)
    usd = state.dollars

    def tokens(units: int) -> Decimal:
        return to_decimal(units, TOKEN_DECIMALS)

    distributions = distribution_history(reader.chain, addresses, reader.manifest.start_block)
    revenue, cumulative = [], 0
    for d in distributions:
        cumulative += d.income
        revenue.append(
            RevenuePoint(at=_at(d.timestamp), income=usd(d.income), cumulative=usd(cumulative))
        )
    return TreasuryOut(
        agent=name,
        treasury=state.treasury,
        income=usd(state.total_income),
        pending_income=usd(state.pending_income),
        to_stakers=usd(state.total_to_stakers),
        to_operator=usd(state.total_to_operator),
        to_buyback=usd(state.total_to_buyback),
        to_reserve=usd(state.total_to_reserve),
        reserve=usd(state.reserve),
        buyback_fund=usd(state.buyback_fund),
        bought_back=usd(state.total_bought_back),
        dex=state.router,
        keeper=state.keeper,
        operator=state.operator,
        operator_owed=usd(state.operator_owed),
        paused=state.paused,
        streaming=usd(state.streaming_left),
        streaming_until=_at(state.period_finish) if state.streaming_left else None,
        reward_duration=state.reward_duration,
        unstake_cooldown=state.unstake_cooldown,
        token_supply=tokens(state.token_supply),
        burned_supply=tokens(state.total_burned),
        total_staked=tokens(state.total_staked),
        per_share=state.per_share,
        stakers=[
            StakerOut(
                account=p.account,
                staked=tokens(p.staked),
                claimable=usd(p.claimable),
                cooling_down=tokens(p.cooling_down),
                withdrawable_at=_at(p.ready_at) if p.cooling_down else None,
            )
            for p in state.stakers
        ],
        revenue=revenue,
        distributions=[
            DistributionOut(
                block=d.block,
                at=_at(d.timestamp),
                tx=d.tx,
                income=usd(d.income),
                to_stakers=usd(d.to_stakers),
                to_operator=usd(d.to_operator),
                to_buyback=usd(d.to_buyback),
                to_reserve=usd(d.to_reserve),
            )
            for d in distributions
        ],
        buybacks=[
            BuybackOut(
                block=b.block,
                at=_at(b.timestamp),
                tx=b.tx,
                spent=usd(b.amount_in),
                burned=tokens(b.burned),
            )
            for b in buyback_history(reader.chain, addresses, reader.manifest.start_block)
        ],
    )
