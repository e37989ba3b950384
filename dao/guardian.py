"""The guardian's two powers: stop an attack in flight, and nothing else.

- :func:`cancel_queued` cancels a passed proposal while it waits in the timelock
  (the guardian holds the timelock's canceller role). The governor then reports
  the proposal as canceled.
- :func:`pause` stops the agent (AgentConfig: no hire is served or charged) and
  the treasury's outflows (reserve, buyback fund, buyback, operator share). Both
  cost the same at any config size; only governance resumes them.

Governance replaces or removes the guardian with AgentConfig.setGuardian plus the
timelock's own grantRole/revokeRole of the canceller role. A proposal that only removes
the guardian (and revokes its canceller role) or resumes the agent is a remedy:
AgentTimelock lets no guardian cancel it, so a rogue guardian key cannot veto its
own removal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from contracts.client import Chain
from contracts.deploy import CANCELLER_ROLE
from dao.errors import GovernanceError
from dao.governor import Action, description_hash

__all__ = ["GuardianError", "PauseResult", "cancel_queued", "operation_id", "pause"]

ZERO_BYTES32 = b"\x00" * 32


class GuardianError(GovernanceError, PermissionError):
    """The signer is not the guardian, or there is nothing to stop."""


def operation_id(
    governor: Contract, timelock: Contract, actions: Sequence[Action], description: str
) -> bytes:
    """The timelock operation a queued proposal became (OZ GovernorTimelockControl salts it
    with the governor's address xor the description hash)."""
    salt = bytearray(description_hash(description))
    for i, byte in enumerate(bytes.fromhex(governor.address[2:])):
        salt[i] ^= byte
    return bytes(
        timelock.functions.hashOperationBatch(
            [Web3.to_checksum_address(a.target) for a in actions],
            [a.value for a in actions],
            [a.calldata for a in actions],
            ZERO_BYTES32,
            bytes(salt),
        ).call()
    )


def cancel_queued(
    chain: Chain,
    governor: Contract,
    timelock: Contract,
    actions: Sequence[Action],
    description: str,
    guardian: LocalAccount,
) -> str:
    """Cancel a queued proposal in the timelock; returns the transaction hash.

    Raises:
        GuardianError: the signer may not cancel, or the proposal is not waiting there.
    """
    if not timelock.functions.hasRole(CANCELLER_ROLE, guardian.address).call():
        raise GuardianError(f"{guardian.address} is not this agent's guardian (timelock canceller)")
    op = operation_id(governor, timelock, actions, description)
    if not timelock.functions.isOperationPending(op).call():
        raise GuardianError("the proposal is not waiting in the timelock (not queued, or done)")
    if timelock.functions.isRemedy(op).call():
        raise GuardianError(
            "the proposal only removes the guardian or resumes the agent: the guardian cannot "
            "cancel its own removal"
        )
    receipt = chain.send(timelock.functions.cancel(op), guardian)
    return receipt["transactionHash"].to_0x_hex()


@dataclass(frozen=True)
class PauseResult:
    """What a guardian's pause stopped (a transaction hash, or None when already paused)."""

    agent_tx: str | None
    treasury_tx: str | None


def pause(
    chain: Chain, config: Contract, treasury: Contract, guardian: LocalAccount
) -> PauseResult:
    """Pause the agent and its treasury's outflows.

    Raises:
        GuardianError: the signer is not the config's guardian.
    """
    named = str(config.functions.guardian().call())
    if named.lower() != guardian.address.lower():
        raise GuardianError(f"{guardian.address} is not this agent's guardian ({named} is)")
    agent_tx = treasury_tx = None
    if not config.functions.paused().call():
        agent_tx = chain.send(config.functions.pause(), guardian)["transactionHash"].to_0x_hex()
    if not treasury.functions.paused().call():
        treasury_tx = chain.send(treasury.functions.pause(), guardian)[
            "transactionHash"
        ].to_0x_hex()
    return PauseResult(agent_tx, treasury_tx)
