"""A holder's staking steps as transactions for the holder's own wallet, and where the
holder stands.

The same steps as :mod:`treasury.staking`, checked the same way before anything is
signed (a positive amount within the balance or the stake, something to claim or
withdraw), but encoded instead of sent: a browser wallet, a hardware key or a dev
account signs them. The runtime holds no key for any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.core.money import format_tokens
from contracts.client import Chain
from contracts.manifest import AgentAddresses
from contracts.unsigned import UnsignedTx
from treasury.errors import TreasuryError

__all__ = ["Position", "claim_tx", "position", "stake_txs", "unstake_tx", "withdraw_tx"]


@dataclass(frozen=True)
class Position:
    """One account's holdings in one agent, in raw units."""

    account: str
    tokens: int
    """Agent tokens in the wallet (not staked)."""
    staked: int
    claimable: int
    """Payment-token units the stake earned and the account may claim now."""
    cooling_down: int
    """Agent tokens unstaked and not yet withdrawable."""
    withdrawable_at: int
    """Chain time from which the cooling-down tokens can be withdrawn (0: none)."""
    payment_balance: int
    """Payment-token units in the wallet (what it can hire with)."""


def position(chain: Chain, addresses: AgentAddresses, account: str) -> Position:
    """Where ``account`` stands in the agent: wallet, stake, earnings, cooldown."""
    token = chain.contract("AgentToken", addresses.token)
    stake = chain.contract("AgentStake", addresses.stake)
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    payment = chain.contract("MockUSDC", treasury.functions.paymentToken().call())
    cooling, ready_at = (int(x) for x in stake.functions.pendingWithdrawal(account).call())
    return Position(
        account=account,
        tokens=int(token.functions.balanceOf(account).call()),
        staked=int(stake.functions.balanceOf(account).call()),
        claimable=int(stake.functions.claimable(account).call()),
        cooling_down=cooling,
        withdrawable_at=ready_at if cooling else 0,
        payment_balance=int(payment.functions.balanceOf(account).call()),
    )


def stake_txs(
    chain: Chain, addresses: AgentAddresses, account: str, amount: int
) -> list[UnsignedTx]:
    """Approve (when the allowance is short) and stake ``amount`` token units, in order.

    Raises:
        TreasuryError: zero amount, or more than the account's token balance.
    """
    token = chain.contract("AgentToken", addresses.token)
    stake = chain.contract("AgentStake", addresses.stake)
    balance = int(token.functions.balanceOf(account).call())
    if amount <= 0:
        raise TreasuryError("stake: the amount must be above zero")
    if amount > balance:
        raise TreasuryError(
            f"stake: {account} holds {format_tokens(balance)} tokens, not {format_tokens(amount)}"
        )
    txs = []
    if int(token.functions.allowance(account, addresses.stake).call()) < amount:
        txs.append(
            UnsignedTx.of(
                token,
                "approve",
                (addresses.stake, amount),
                f"let the stake take {format_tokens(amount)} tokens",
            )
        )
    txs.append(UnsignedTx.of(stake, "stake", (amount,), f"stake {format_tokens(amount)} tokens"))
    return txs


def unstake_tx(
    chain: Chain, addresses: AgentAddresses, account: str, amount: int | None = None
) -> UnsignedTx:
    """Unstake ``amount`` (all when None): votes and earnings stop when it lands.

    Raises:
        TreasuryError: nothing staked, or more than staked.
    """
    stake = chain.contract("AgentStake", addresses.stake)
    staked = int(stake.functions.balanceOf(account).call())
    amount = staked if amount is None else amount
    if amount <= 0 or amount > staked:
        raise TreasuryError(
            f"unstake: {account} stakes {format_tokens(staked)} tokens, not {format_tokens(amount)}"
        )
    return UnsignedTx.of(stake, "unstake", (amount,), f"unstake {format_tokens(amount)} tokens")


def withdraw_tx(chain: Chain, addresses: AgentAddresses, account: str) -> UnsignedTx:
    """Withdraw the unstaked tokens whose cooldown has passed.

    Raises:
        TreasuryError: nothing cooling down, or the cooldown has not passed yet.
    """
    stake = chain.contract("AgentStake", addresses.stake)
    amount, ready_at = (int(x) for x in stake.functions.pendingWithdrawal(account).call())
    if amount == 0:
        raise TreasuryError(f"withdraw: {account} has nothing unstaked to withdraw")
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    if now < ready_at:
        raise TreasuryError(
            f"withdraw: {account}'s unstaked tokens are cooling down for "
            f"{ready_at - now} more seconds"
        )
    return UnsignedTx.of(stake, "withdraw", (), f"withdraw {format_tokens(amount)} tokens")


def claim_tx(chain: Chain, addresses: AgentAddresses, account: str) -> UnsignedTx:
    """Claim everything ``account``'s stake earned.

    Raises:
        TreasuryError: nothing to claim.
    """
    stake = chain.contract("AgentStake", addresses.stake)
    if int(stake.functions.claimable(account).call()) == 0:
        raise TreasuryError(f"claim: nothing to claim for {account} yet")
    return UnsignedTx.of(stake, "claim", (), "claim earnings")
