"""A holder's side of earnings: stake the agent's token, unstake it, claim the payment token.

Each helper signs with the holder's own account and waits for the receipt;
amounts are raw units (18 decimals for agent tokens, the payment token's for
claims). Staking settles the holder's accrued rewards first (AgentStake does),
so changing a stake never loses earnings.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from contracts.client import Chain
from contracts.manifest import AgentAddresses
from treasury.errors import TreasuryError

__all__ = ["StakeReceipt", "claim", "stake", "unstake"]


@dataclass(frozen=True)
class StakeReceipt:
    """What one staking transaction did."""

    account: str
    amount: int
    tx: str
    staked_after: int


def _staked(chain: Chain, addresses: AgentAddresses, account: str) -> int:
    return int(chain.contract("AgentStake", addresses.stake).functions.balanceOf(account).call())


def stake(
    chain: Chain, addresses: AgentAddresses, holder: LocalAccount, amount: int
) -> StakeReceipt:
    """Approve (when needed) and stake ``amount`` of the agent's token from ``holder``.

    Raises:
        TreasuryError: zero amount, or more than the holder's token balance.
        TransactionFailedError: the chain refused a transaction.
    """
    token = chain.contract("AgentToken", addresses.token)
    balance = token.functions.balanceOf(holder.address).call()
    if amount <= 0:
        raise TreasuryError("stake: the amount must be above zero")
    if amount > balance:
        raise TreasuryError(f"stake: {holder.address} holds {balance} token units, not {amount}")
    if token.functions.allowance(holder.address, addresses.stake).call() < amount:
        chain.send(token.functions.approve(addresses.stake, amount), holder)
    contract = chain.contract("AgentStake", addresses.stake)
    receipt = chain.send(contract.functions.stake(amount), holder)
    return StakeReceipt(
        holder.address,
        amount,
        receipt["transactionHash"].to_0x_hex(),
        _staked(chain, addresses, holder.address),
    )


def unstake(
    chain: Chain, addresses: AgentAddresses, holder: LocalAccount, amount: int | None = None
) -> StakeReceipt:
    """Unstake ``amount`` (all when None); what it earned so far stays claimable.

    Raises:
        TreasuryError: nothing staked, or more than staked.
        TransactionFailedError: the chain refused the transaction.
    """
    staked = _staked(chain, addresses, holder.address)
    amount = staked if amount is None else amount
    if amount <= 0 or amount > staked:
        raise TreasuryError(f"unstake: {holder.address} stakes {staked} token units, not {amount}")
    contract = chain.contract("AgentStake", addresses.stake)
    receipt = chain.send(contract.functions.unstake(amount), holder)
    return StakeReceipt(
        holder.address,
        amount,
        receipt["transactionHash"].to_0x_hex(),
        _staked(chain, addresses, holder.address),
    )


def claim(chain: Chain, addresses: AgentAddresses, holder: LocalAccount) -> tuple[int, str | None]:
    """Claim everything ``holder`` earned; (amount paid, tx), or (0, None) with nothing owed.

    Raises:
        TransactionFailedError: the chain refused the transaction.
    """
    contract = chain.contract("AgentStake", addresses.stake)
    if contract.functions.claimable(holder.address).call() == 0:
        return 0, None
    receipt = chain.send(contract.functions.claim(), holder)
    events = contract.events.RewardClaimed().process_receipt(receipt, errors=DISCARD)
    paid = sum(int(e["args"]["amount"]) for e in events)
    return paid, receipt["transactionHash"].to_0x_hex()
