"""Helpers of the earnings tests: pay a treasury, settings, and the accumulator in Python."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from contracts.accounts import dev_account
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


@dataclass
class Accumulator:
    """AgentStake's reward-per-token accumulator, recomputed from what the test did."""

    reward_per_token: int = 0
    supply: int = 0
    balance: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    accrued: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notified: int = 0

    def _settle(self, account: str) -> None:
        owed = self.balance[account] * (self.reward_per_token - self.paid[account]) // PRECISION
        self.accrued[account] += owed
        self.paid[account] = self.reward_per_token

    def stake(self, account: str, amount: int) -> None:
        self._settle(account)
        self.balance[account] += amount
        self.supply += amount

    def unstake(self, account: str, amount: int) -> None:
        self._settle(account)
        self.balance[account] -= amount
        self.supply -= amount

    def notify(self, amount: int) -> None:
        if self.supply == 0 or amount == 0:
            return
        self.notified += amount
        self.reward_per_token += amount * PRECISION // self.supply

    def claimable(self, account: str) -> int:
        pending = self.balance[account] * (self.reward_per_token - self.paid[account]) // PRECISION
        return self.accrued[account] + pending

    def claim(self, account: str) -> int:
        amount = self.claimable(account)
        self.accrued[account] = 0
        self.paid[account] = self.reward_per_token
        return amount
