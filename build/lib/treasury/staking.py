"""A holder's side of earnings: stake the agent's token, unstake it, withdraw it after
the cooldown, claim the payment token; the operator's side: withdraw its share.

Each helper signs with the holder's own account and waits for the receipt;
amounts are raw units (18 decimals for agent tokens, the payment token's for
claims). Staking settles the holder's accrued rewards first (AgentStake does),
so changing a stake never loses earnings. An unstake stops the stake's votes and
earnings at once and pays the tokens back only after the cooldown (the
governor's voting delay + voting period + late-quorum extension + timelock
delay), so tokens borrowed to vote cannot be returned before that vote is over.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from contracts.client import Chain
from contracts.manifest import AgentAddresses
from treasury.errors import TreasuryError

__all__ = [
    "StakeReceipt",
    "UnstakeReceipt",
    "claim",
    "stake",
    "unstake",
    "withdraw",
    "withdraw_operator_share",
]


@dataclass(frozen=True)
class StakeReceipt:
    """What one staking transaction did."""

    account: str
    amount: int
    tx: str
    staked_after: int


@dataclass(frozen=True)
class UnstakeReceipt:
    """An unstake: the tokens leave the stake now and can be withdrawn from ``ready_at``."""

    account: str
    amount: int
    tx: str
    staked_after: int
    cooling_down: int
    ready_at: int
    cooldown: int


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
) -> UnstakeReceipt:
    """Unstake ``amount`` (all when None): its votes and earnings stop now, the tokens can be
    withdrawn after the cooldown; what it earned so far stays claimable.

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
    cooling, ready_at = contract.functions.pendingWithdrawal(holder.address).call()
    return UnstakeReceipt(
        holder.address,
        amount,
        receipt["transactionHash"].to_0x_hex(),
        _staked(chain, addresses, holder.address),
        int(cooling),
        int(ready_at),
        int(contract.functions.cooldown().call()),
    )


def withdraw(chain: Chain, addresses: AgentAddresses, holder: LocalAccount) -> tuple[int, str]:
    """Pay ``holder`` the tokens whose cooldown has passed; (amount, tx).

    Raises:
        TreasuryError: nothing cooling down, or the cooldown has not passed yet (says when).
        TransactionFailedError: the chain refused the transaction.
    """
    contract = chain.contract("AgentStake", addresses.stake)
    amount, ready_at = (int(x) for x in contract.functions.pendingWithdrawal(holder.address).call())
    if amount == 0:
        raise TreasuryError(f"withdraw: {holder.address} has nothing unstaked to withdraw")
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    if now < ready_at:
        raise TreasuryError(
            f"withdraw: {holder.address}'s unstaked tokens are cooling down for "
            f"{ready_at - now} more seconds (until chain time {ready_at})"
        )
    receipt = chain.send(contract.functions.withdraw(), holder)
    return amount, receipt["transactionHash"].to_0x_hex()


def withdraw_operator_share(
    chain: Chain, addresses: AgentAddresses, operator: LocalAccount, to: str | None = None
) -> tuple[int, str | None]:
    """Pay the operator's booked share to ``to`` (default: the operator); (amount, tx), or
    (0, None) with nothing owed.

    Raises:
        TransactionFailedError: the chain refused (the guardian paused the treasury).
    """
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    if treasury.functions.operatorOwed(operator.address).call() == 0:
        return 0, None
    receipt = chain.send(treasury.functions.withdrawOperatorShare(to or operator.address), operator)
    events = treasury.events.OperatorShareWithdrawn().process_receipt(receipt, errors=DISCARD)
    paid = sum(int(e["args"]["amount"]) for e in events)
    return paid, receipt["transactionHash"].to_0x_hex()


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
