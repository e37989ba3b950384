"""Walk an OZ Governor proposal through its life: propose, vote, queue, execute.

Proposals are plain OpenZeppelin Governor proposals, so any wallet or
governance UI can vote on them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from contracts.client import Chain
from contracts.unsigned import UnsignedTx

__all__ = [
    "Action",
    "ProposalState",
    "Support",
    "description_hash",
    "execute",
    "execute_tx",
    "proposal_id",
    "propose",
    "propose_tx",
    "queue",
    "queue_tx",
    "vote",
    "vote_tx",
]


class ProposalState(IntEnum):
    """OZ ``IGovernor.ProposalState``."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


class Support(IntEnum):
    """``GovernorCountingSimple`` vote types."""

    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


@dataclass(frozen=True)
class Action:
    """One call the timelock makes when the proposal executes."""

    target: str
    calldata: bytes
    value: int = 0


def _columns(actions: Sequence[Action]) -> tuple[list[str], list[int], list[bytes]]:
    return (
        [Web3.to_checksum_address(a.target) for a in actions],
        [a.value for a in actions],
        [a.calldata for a in actions],
    )


def description_hash(description: str) -> bytes:
    """What ``queue`` and ``execute`` take instead of the description."""
    return bytes(Web3.keccak(text=description))


def proposal_id(governor: Contract, actions: Sequence[Action], description: str) -> int:
    """The id the governor gives these actions and description."""
    targets, values, calldatas = _columns(actions)
    return int(
        governor.functions.hashProposal(
            targets, values, calldatas, description_hash(description)
        ).call()
    )


def propose(
    chain: Chain,
    governor: Contract,
    actions: Sequence[Action],
    description: str,
    signer: LocalAccount,
) -> int:
    """Submit a proposal; return its id."""
    targets, values, calldatas = _columns(actions)
    chain.send(governor.functions.propose(targets, values, calldatas, description), signer)
    return proposal_id(governor, actions, description)


def vote(
    chain: Chain,
    governor: Contract,
    proposal: int,
    support: Support,
    signer: LocalAccount,
    reason: str = "",
) -> TxReceipt:
    """Cast ``signer``'s vote (its voting power at the proposal's snapshot)."""
    if reason:
        return chain.send(
            governor.functions.castVoteWithReason(proposal, int(support), reason), signer
        )
    return chain.send(governor.functions.castVote(proposal, int(support)), signer)


def queue(
    chain: Chain,
    governor: Contract,
    actions: Sequence[Action],
    description: str,
    signer: LocalAccount | None = None,
) -> TxReceipt:
    """Queue a succeeded proposal in the timelock."""
    targets, values, calldatas = _columns(actions)
    return chain.send(
        governor.functions.queue(targets, values, calldatas, description_hash(description)), signer
    )


def execute(
    chain: Chain,
    governor: Contract,
    actions: Sequence[Action],
    description: str,
    signer: LocalAccount | None = None,
) -> TxReceipt:
    """Execute a queued proposal once the timelock delay has passed; return the receipt."""
    targets, values, calldatas = _columns(actions)
    return chain.send(
        governor.functions.execute(targets, values, calldatas, description_hash(description)),
        signer,
    )


# Unsigned: the same calls for a wallet the runtime holds no key of.


def propose_tx(governor: Contract, actions: Sequence[Action], description: str) -> UnsignedTx:
    """``propose`` for the proposer's own wallet."""
    targets, values, calldatas = _columns(actions)
    return UnsignedTx.of(
        governor, "propose", (targets, values, calldatas, description), "submit the proposal"
    )


def vote_tx(governor: Contract, proposal: int, support: Support, reason: str = "") -> UnsignedTx:
    """``castVote`` (``castVoteWithReason`` with a reason) for the voter's own wallet."""
    what = f"vote {support.name.lower()}"
    if reason:
        return UnsignedTx.of(governor, "castVoteWithReason", (proposal, int(support), reason), what)
    return UnsignedTx.of(governor, "castVote", (proposal, int(support)), what)


def queue_tx(governor: Contract, actions: Sequence[Action], description: str) -> UnsignedTx:
    """``queue`` for any wallet."""
    targets, values, calldatas = _columns(actions)
    return UnsignedTx.of(
        governor,
        "queue",
        (targets, values, calldatas, description_hash(description)),
        "queue the proposal in the timelock",
    )


def execute_tx(governor: Contract, actions: Sequence[Action], description: str) -> UnsignedTx:
    """``execute`` for any wallet."""
    targets, values, calldatas = _columns(actions)
    return UnsignedTx.of(
        governor,
        "execute",
        (targets, values, calldatas, description_hash(description)),
        "execute the proposal",
    )
