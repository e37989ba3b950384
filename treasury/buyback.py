"""The buyback keeper: turn each treasury's buyback fund into burned agent tokens.

A buyback is quoted off chain (Router02 ``getAmountsOut`` at the current
reserves), bounded by ``buyback_slippage_bps`` into ``minOut``, given a short
deadline (``buyback_deadline`` seconds of chain time), then executed by
``AgentTreasury.buyback``, which swaps on Uniswap V2 and burns what arrived.
The treasury itself refuses a fill below its on-chain floor: the pool's
time-weighted price over the governed ``twapWindow`` less ``maxSlippageBps``,
so neither a sandwich nor a dishonest keeper can buy at a moved price. The
floor needs an observation of the pool at least a window old: the keeper keeps
them coming (``observePrice`` once a window) and reports ``waiting_for_price``
until one is ready. If the price moved beyond either bound, the swap reverts and
the fund stays in the treasury for the next try. Where the treasury has no
router, nothing is swapped: the buyback share accumulates and only governance
can spend it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from agents.core.errors import AgentDaoError, TransactionFailedError
from agents.core.money import format_money
from contracts import uniswap
from contracts.client import Chain
from contracts.manifest import AgentAddresses, Manifest
from treasury.errors import NotKeeperError
from treasury.ledger import ZERO_ADDRESS, payment_decimals
from treasury.settings import EarningsSettings

__all__ = ["BuybackKeeper", "BuybackOutcome", "BuybackQuote", "BuybackStatus"]

log = logging.getLogger(__name__)


class BuybackStatus(StrEnum):
    BURNED = "burned"
    NO_DEX = "no_dex"
    NO_POOL = "no_pool"
    BELOW_MINIMUM = "below_minimum"
    WAITING_FOR_PRICE = "waiting_for_price"
    PAUSED = "paused"
    FAILED = "failed"


@dataclass(frozen=True)
class BuybackQuote:
    """A buyback ready to execute: spend ``amount_in``, accept no fewer than ``min_out``."""

    agent: str
    amount_in: int
    expected_out: int
    min_out: int
    deadline: int
    floor: int = 0
    """The treasury's own floor (TWAP less the governed slippage); ``min_out`` is never below."""


@dataclass(frozen=True)
class BuybackOutcome:
    """What one keeper run did for one agent (raw units)."""

    agent: str
    status: BuybackStatus
    reason: str
    amount_in: int = 0
    burned: int = 0
    tx: str | None = None


class BuybackKeeper:
    """Buys back and burns for every agent whose treasury names this signer as keeper.

    Args:
        chain: The chain; ``signer`` (default: the chain's) must be each treasury's keeper.
        manifest: The deployment's agents.
        settings: Slippage bound, deadline and minimum fund.
    """

    def __init__(
        self,
        chain: Chain,
        manifest: Manifest,
        settings: EarningsSettings,
        *,
        signer: LocalAccount | None = None,
    ) -> None:
        self.chain = chain
        self.manifest = manifest
        self.settings = settings
        self.signer = signer or chain.signer

    def quote(self, name: str, amount_in: int | None = None) -> BuybackQuote | BuybackOutcome:
        """A quote for spending ``amount_in`` (default: the whole fund), or the reason
        there is nothing to buy back (no DEX, no pool, fund below the minimum)."""
        addresses = self.manifest.agent(name)
        contract = self.chain.contract("AgentTreasury", addresses.treasury)
        treasury = contract.functions
        fund = int(treasury.buybackBalance().call())
        router = str(treasury.router().call())
        decimals = payment_decimals(self.chain, contract)
        dollars = format_money(fund, decimals)
        if router == ZERO_ADDRESS:
            return BuybackOutcome(
                name,
                BuybackStatus.NO_DEX,
                f"no DEX configured: the buyback share accumulates ({dollars} USDC held)",
            )
        if treasury.paused().call():
            return BuybackOutcome(
                name, BuybackStatus.PAUSED, "the guardian paused the treasury's outflows"
            )
        amount = fund if amount_in is None else min(amount_in, fund)
        minimum = int(self.settings.buyback_min_amount.scaleb(decimals))
        if amount == 0 or amount < minimum:
            return BuybackOutcome(
                name,
                BuybackStatus.BELOW_MINIMUM,
                f"buyback fund {dollars} USDC is below the minimum "
                f"{self.settings.buyback_min_amount}",
            )
        path = [str(treasury.paymentToken().call()), addresses.token]
        try:
            expected = int(
                uniswap.router(self.chain, router).functions.getAmountsOut(amount, path).call()[-1]
            )
        except Exception as exc:  # the library reverts on a missing or empty pool
            return BuybackOutcome(name, BuybackStatus.NO_POOL, f"no pool to buy from ({exc})")
        if expected == 0:
            return BuybackOutcome(name, BuybackStatus.NO_POOL, "the pool has no tokens to sell")
        now = int(self.chain.w3.eth.get_block("latest")["timestamp"])
        floor, ready_at = (int(x) for x in treasury.buybackFloor(amount).call())
        if ready_at > now:
            when = (
                "after the keeper's next observation"
                if ready_at >= 2**255
                else f"at chain time {ready_at}"
            )
            return BuybackOutcome(
                name,
                BuybackStatus.WAITING_FOR_PRICE,
                f"the treasury's price floor needs an observation a window old: ready {when}",
            )
        if expected < floor:
            return BuybackOutcome(
                name,
                BuybackStatus.FAILED,
                f"the pool pays {expected} token units, below the treasury's floor {floor} "
                "(its time-weighted price less the governed slippage): not buying at a moved price",
            )
        min_out = max(floor, expected * (10_000 - self.settings.buyback_slippage_bps) // 10_000)
        return BuybackQuote(
            name, amount, expected, min_out, now + self.settings.buyback_deadline, floor
        )

    def observe(self, name: str) -> str | None:
        """Record the pool's price in the treasury when an observation is due (none yet, or
        the newest is a window old), so the floor is always ready; returns the tx, if any."""
        addresses = self.manifest.agent(name)
        treasury = self.chain.contract("AgentTreasury", addresses.treasury).functions
        if str(treasury.router().call()) == ZERO_ADDRESS:
            return None
        _older, newer = treasury.priceObservations().call()
        now = int(self.chain.w3.eth.get_block("latest")["timestamp"])
        if newer[0] != 0 and now - int(newer[0]) < int(treasury.twapWindow().call()):
            return None
        try:
            receipt = self.chain.send(treasury.observePrice(), self.signer)
        except TransactionFailedError as exc:  # no pool yet: nothing to observe
            log.info("%s: no price to observe (%s)", name, exc.message)
            return None
        return str(receipt["transactionHash"].to_0x_hex())

    def execute(self, quote: BuybackQuote) -> BuybackOutcome:
        """Execute a quote: swap, burn, and report what burned.

        Raises:
            NotKeeperError: the signer is not the treasury's keeper.
            TransactionFailedError: the swap reverted (price beyond the bound, deadline
                passed); the fund stays in the treasury.
        """
        addresses = self.manifest.agent(quote.agent)
        treasury = self.chain.contract("AgentTreasury", addresses.treasury)
        keeper = str(treasury.functions.keeper().call())
        if keeper.lower() != self.signer.address.lower():
            raise NotKeeperError(self.signer.address, keeper)
        receipt = self.chain.send(
            treasury.functions.buyback(quote.amount_in, quote.min_out, quote.deadline), self.signer
        )
        events = treasury.events.BuybackExecuted().process_receipt(receipt, errors=DISCARD)
        burned = sum(int(e["args"]["tokensBurned"]) for e in events)
        return BuybackOutcome(
            quote.agent,
            BuybackStatus.BURNED,
            f"{format_money(quote.amount_in, payment_decimals(self.chain, treasury))} USDC "
            f"bought {burned} token units, all burned",
            amount_in=quote.amount_in,
            burned=burned,
            tx=receipt["transactionHash"].to_0x_hex(),
        )

    def run(self, name: str, amount_in: int | None = None) -> BuybackOutcome:
        """Quote and execute at once; a revert is reported as FAILED (the fund stays)."""
        quote = self.quote(name, amount_in)
        if isinstance(quote, BuybackOutcome):
            return quote
        try:
            return self.execute(quote)
        except TransactionFailedError as exc:
            return BuybackOutcome(name, BuybackStatus.FAILED, exc.message)

    def run_due(self, names: Iterable[str] | None = None) -> list[BuybackOutcome]:
        """Buy back for every agent (or those named) where this signer is keeper. For a
        scheduler: failures are logged and reported, never raised."""
        outcomes = []
        for name in names if names is not None else list(self.manifest.agents):
            if not self._is_keeper(self.manifest.agent(name)):
                continue
            try:
                self.observe(name)
                outcome = self.run(name)
            except AgentDaoError as exc:
                outcome = BuybackOutcome(name, BuybackStatus.FAILED, exc.message)
            if outcome.status is BuybackStatus.FAILED:
                log.warning("buyback of %s failed: %s", name, outcome.reason)
            outcomes.append(outcome)
        return outcomes

    def _is_keeper(self, addresses: AgentAddresses) -> bool:
        treasury = self.chain.contract("AgentTreasury", addresses.treasury)
        return str(treasury.functions.keeper().call()).lower() == self.signer.address.lower()
