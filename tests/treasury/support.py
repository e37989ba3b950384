"""Helpers of the earnings tests: pay a treasury, settings, and the accumulator in Python."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.manifest import Manifest
from treasury.settings import EarningsSettings

PRECISION = 10**36


def settings(**overrides: object) -> EarningsSettings:
    """Earnings settings fixed by the test, whatever the environment says."""
    values: dict[str, object] = {
        "distribution_min_income": Decimal("1"),
        "distribution_period": 3600,
        "buyback_slippage_bps": 100,
        "buyback_deadline": 120,
        "buyback_min_amount": Decimal("0.01"),
    }
    values.update(overrides)
    return EarningsSettings.model_validate(values)


def pay(chain: Chain, manifest: Manifest, agent: str, units: int, customer: int = 5) -> None:
    """A customer's payment reaching the agent's treasury (what an x402 settlement does)."""
    assert manifest.payment_token is not None
    usdc = chain.contract("MockUSDC", manifest.payment_token)
    payer = dev_account(customer)
    chain.send(usdc.functions.transfer(manifest.agents[agent].treasury, units), payer)


def now(chain: Chain) -> int:
    """The latest block's timestamp: when the last transaction took effect."""
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def mature_price_floor(chain: Chain, manifest: Manifest, agent: str) -> None:
    """Let the treasury's buyback floor become usable: an observation of the pool at least a
    TWAP window old (and not stale)."""
    treasury = chain.contract("AgentTreasury", manifest.agents[agent].treasury)
    window = int(treasury.functions.twapWindow().call())
    chain.send(treasury.functions.observePrice())  # a no-op while the last one is recent
    advance_time(chain.w3, window + 1)
    chain.send(treasury.functions.observePrice())


@dataclass
class Accumulator:
    """AgentStake's streamed rewards, recomputed from what the test did and when.

    Each notified amount (plus what is left of the running stream, plus what streamed
    while nobody staked) streams at a constant rate over ``duration`` seconds; the
    reward-per-token grows by ``rate * dt / supply`` while anyone stakes. Integer
    arithmetic as the contract does it, so results agree to the unit.
    """

    duration: int
    reward_per_token: int = 0
    last_update: int = 0
    finish: int = 0
    rate: int = 0
    unstreamed: int = 0
    supply: int = 0
    balance: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    accrued: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notified: int = 0

    def _streamed(self, at: int) -> tuple[int, int]:
        until = min(at, self.finish)
        if until <= self.last_update:
            return self.reward_per_token, 0
        streamed = self.rate * (until - self.last_update)
        if self.supply == 0:
            return self.reward_per_token, streamed
        return self.reward_per_token + streamed // self.supply, 0

    def _update(self, at: int) -> int:
        per_token, idle = self._streamed(at)
        if self.last_update == at:
            return per_token
        if idle:
            self.unstreamed += idle
        else:
            self.reward_per_token = per_token
        self.last_update = at
        return per_token

    def _settle(self, account: str, per_token: int) -> None:
        owed = self.balance[account] * (per_token - self.paid[account]) // PRECISION
        self.accrued[account] += owed
        self.paid[account] = per_token

    def stake(self, account: str, amount: int, at: int) -> None:
        self._settle(account, self._update(at))
        self.balance[account] += amount
        self.supply += amount

    def unstake(self, account: str, amount: int, at: int) -> None:
        self._settle(account, self._update(at))
        self.balance[account] -= amount
        self.supply -= amount

    def notify(self, amount: int, at: int) -> None:
        self._update(at)
        self.notified += amount
        scaled = amount * PRECISION + self.unstreamed
        if at < self.finish:
            scaled += (self.finish - at) * self.rate
        self.unstreamed = 0
        self.rate = scaled // self.duration
        self.finish = at + self.duration

    def claimable(self, account: str, at: int) -> int:
        per_token, _ = self._streamed(at)
        pending = self.balance[account] * (per_token - self.paid[account]) // PRECISION
        return self.accrued[account] + pending

    def claim(self, account: str, at: int) -> int:
        per_token = self._update(at)
        amount = self.accrued[account] + (
            self.balance[account] * (per_token - self.paid[account]) // PRECISION
        )
        self.accrued[account] = 0
        self.paid[account] = per_token
        return amount
