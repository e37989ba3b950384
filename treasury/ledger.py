"""What an agent's treasury holds and has paid out, read from the chain.

The numbers ``agentdao treasury`` prints and ``GET /agents/{name}/treasury``
serves: income, the four parts of it, reserve, buyback fund, tokens burned,
per-share earnings, each staker's claimable (stakers found from ``Staked``
events), and the history of distributions and buybacks from their events.
Amounts are raw integer units; :func:`agents.core.money.to_decimal` turns them into
dollars or tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from web3 import Web3
from web3.contract import Contract

from agents.core.money import TOKEN_DECIMALS, to_decimal
from contracts.client import Chain
from contracts.logs import scan_events
from contracts.manifest import AgentAddresses

__all__ = [
    "PRECISION",
    "BuybackRecord",
    "DistributionRecord",
    "StakerPosition",
    "TreasuryState",
    "buyback_history",
    "distribution_history",
    "payment_decimals",
    "read_treasury",
    "stakers_of",
]

PRECISION = 10**36
"""Fixed-point scale of ``AgentStake.rewardPerToken``."""
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def payment_decimals(chain: Chain, treasury: Contract) -> int:
    """Decimals of the token ``treasury`` is paid in, asked of the token itself."""
    token = chain.contract("MockUSDC", treasury.functions.paymentToken().call())
    return int(token.functions.decimals().call())


@dataclass(frozen=True)
class StakerPosition:
    """One account that ever staked: what it stakes now, what it may claim, and what is
    cooling down after an unstake (withdrawable from ``ready_at``)."""

    account: str
    staked: int
    claimable: int
    cooling_down: int = 0
    ready_at: int = 0


@dataclass(frozen=True)
class DistributionRecord:
    """One ``Distributed`` event."""

    block: int
    timestamp: int
    tx: str
    income: int
    to_stakers: int
    to_operator: int
    to_buyback: int
    to_reserve: int


@dataclass(frozen=True)
class BuybackRecord:
    """One ``BuybackExecuted`` event."""

    block: int
    timestamp: int
    tx: str
    amount_in: int
    burned: int


@dataclass(frozen=True)
class TreasuryState:
    """One treasury's books at one block (raw units)."""

    agent: str
    treasury: str
    payment_decimals: int
    pending_income: int
    total_income: int
    total_to_stakers: int
    total_to_operator: int
    total_to_buyback: int
    total_to_reserve: int
    reserve: int
    buyback_fund: int
    total_bought_back: int
    total_burned: int
    token_supply: int
    total_staked: int
    reward_per_token: int
    router: str | None
    keeper: str
    operator: str = ZERO_ADDRESS
    operator_owed: int = 0
    """The operator's share booked and not yet withdrawn (the operator pulls it)."""
    paused: bool = False
    """The guardian stopped the treasury's outflows; only governance resumes them."""
    reward_rate: int = 0
    """Payment-token units per second streaming to stakers, scaled by ``PRECISION``."""
    period_finish: int = 0
    """When the current stream ends (chain time)."""
    reward_duration: int = 0
    """How long each distribution's stakers' share streams."""
    unstake_cooldown: int = 0
    """Seconds between an unstake and its withdrawal."""
    now: int = 0
    """Chain time of the reading."""
    stakers: list[StakerPosition] = field(default_factory=list)

    @property
    def streaming_left(self) -> int:
        """Stakers' income still to stream (units), from now to ``period_finish``."""
        if self.period_finish <= self.now:
            return 0
        return self.reward_rate * (self.period_finish - self.now) // PRECISION

    @property
    def has_dex(self) -> bool:
        """False when the treasury has no router: the buyback share only accumulates."""
        return self.router is not None

    @property
    def per_share(self) -> Decimal:
        """Dollars earned so far by one whole staked token (the accumulator, unfloored)."""
        per_token_unit = Decimal(self.reward_per_token) / PRECISION
        return per_token_unit.scaleb(TOKEN_DECIMALS - self.payment_decimals)

    def dollars(self, units: int) -> Decimal:
        return to_decimal(units, self.payment_decimals)


def stakers_of(stake: Contract, from_block: int = 0) -> list[str]:
    """Every account that ever staked, in order of first stake (from ``Staked`` events)."""
    seen: dict[str, None] = {}
    for event in scan_events(stake.events.Staked(), from_block):
        seen.setdefault(str(event["args"]["account"]), None)
    return list(seen)


def read_treasury(
    chain: Chain, name: str, addresses: AgentAddresses, from_block: int = 0
) -> TreasuryState:
    """The treasury's books, its stake's accumulator and each staker's position."""
    treasury = chain.contract("AgentTreasury", addresses.treasury).functions
    stake = chain.contract("AgentStake", addresses.stake)
    token = chain.contract("AgentToken", addresses.token).functions
    payment = chain.contract("MockUSDC", treasury.paymentToken().call()).functions
    router = str(treasury.router().call())
    positions = []
    for account in stakers_of(stake, from_block):
        cooling, ready_at = stake.functions.pendingWithdrawal(account).call()
        positions.append(
            StakerPosition(
                account=account,
                staked=stake.functions.balanceOf(account).call(),
                claimable=stake.functions.claimable(account).call(),
                cooling_down=int(cooling),
                ready_at=int(ready_at),
            )
        )
    operator = str(treasury.operator().call())
    return TreasuryState(
        agent=name,
        treasury=addresses.treasury,
        payment_decimals=payment.decimals().call(),
        pending_income=treasury.pendingIncome().call(),
        total_income=treasury.totalIncome().call(),
        total_to_stakers=treasury.totalToStakers().call(),
        total_to_operator=treasury.totalToOperator().call(),
        total_to_buyback=treasury.totalToBuyback().call(),
        total_to_reserve=treasury.totalToReserve().call(),
        reserve=treasury.reserveBalance().call(),
        buyback_fund=treasury.buybackBalance().call(),
        total_bought_back=treasury.totalBoughtBack().call(),
        total_burned=treasury.totalBurned().call(),
        token_supply=token.totalSupply().call(),
        total_staked=stake.functions.totalSupply().call(),
        reward_per_token=stake.functions.rewardPerToken().call(),
        router=None if router == ZERO_ADDRESS else router,
        keeper=str(treasury.keeper().call()),
        operator=operator,
        operator_owed=treasury.operatorOwed(operator).call(),
        paused=treasury.paused().call(),
        reward_rate=stake.functions.rewardRate().call(),
        period_finish=stake.functions.periodFinish().call(),
        reward_duration=stake.functions.rewardDuration().call(),
        unstake_cooldown=stake.functions.cooldown().call(),
        now=int(chain.w3.eth.get_block("latest")["timestamp"]),
        stakers=positions,
    )


class _BlockTimes:
    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self._times: dict[int, int] = {}

    def __call__(self, block: int) -> int:
        if block not in self._times:
            self._times[block] = int(self._chain.w3.eth.get_block(block)["timestamp"])
        return self._times[block]


def _tx(event: Any) -> str:
    return str(Web3.to_hex(event["transactionHash"]))


def distribution_history(
    chain: Chain, addresses: AgentAddresses, from_block: int = 0
) -> list[DistributionRecord]:
    """Every distribution of the treasury, oldest first: revenue over time."""
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    when = _BlockTimes(chain)
    records = []
    for event in scan_events(treasury.events.Distributed(), from_block):
        args = event["args"]
        records.append(
            DistributionRecord(
                block=event["blockNumber"],
                timestamp=when(event["blockNumber"]),
                tx=_tx(event),
                income=args["income"],
                to_stakers=args["toStakers"],
                to_operator=args["toOperator"],
                to_buyback=args["toBuyback"],
                to_reserve=args["toReserve"],
            )
        )
    return records


def buyback_history(
    chain: Chain, addresses: AgentAddresses, from_block: int = 0
) -> list[BuybackRecord]:
    """Every buyback-and-burn of the treasury, oldest first."""
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    when = _BlockTimes(chain)
    return [
        BuybackRecord(
            block=event["blockNumber"],
            timestamp=when(event["blockNumber"]),
            tx=_tx(event),
            amount_in=event["args"]["amountIn"],
            burned=event["args"]["tokensBurned"],
        )
        for event in scan_events(treasury.events.BuybackExecuted(), from_block)
    ]
