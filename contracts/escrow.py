"""The x402 batch-settlement escrow: at its canonical addresses, or placed there locally.

The ``x402`` package calls the escrow, its ERC-3009 deposit collector and Multicall3 at
fixed addresses (deployed by CREATE2 on public chains). A local chain has none of them,
so launch places the runtime code of our own contracts (written from the scheme's
specification and ABI, ``contracts/src/x402``; ``TryAggregate`` from Multicall3's
``tryAggregate`` ABI) at those addresses with ``anvil_setCode``. None of the three keeps
constructor-written state, so code placed this way behaves as deployed code would.
"""

from __future__ import annotations

from typing import Final

from web3 import Web3
from x402.mechanisms.evm.batch_settlement import (
    BATCH_SETTLEMENT_ADDRESS,
    ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
)
from x402.mechanisms.evm.constants import MULTICALL3_ADDRESS

from contracts import artifacts
from contracts.client import Chain

__all__ = ["ESCROW_ADDRESS", "PLACED", "escrow_on_chain", "place_escrow"]

ESCROW_ADDRESS: Final = Web3.to_checksum_address(BATCH_SETTLEMENT_ADDRESS)

PLACED: Final[dict[str, str]] = {
    Web3.to_checksum_address(MULTICALL3_ADDRESS): "TryAggregate",
    ESCROW_ADDRESS: "BatchSettlement",
    Web3.to_checksum_address(ERC3009_DEPOSIT_COLLECTOR_ADDRESS): "ERC3009DepositCollector",
}
"""Canonical address -> the contract of ours whose code a local chain gets there."""


def escrow_on_chain(chain: Chain) -> bool:
    """True when the escrow and the contracts the x402 facilitator calls beside it are
    all there (on a public chain: their canonical deployments)."""
    return all(chain.has_code(address) for address in PLACED)


def place_escrow(chain: Chain) -> list[str]:
    """Put our contracts' code at each canonical address that has none (a local anvil
    only: ``anvil_setCode``); return the names placed."""
    placed = []
    for address, name in PLACED.items():
        if chain.has_code(address):
            continue
        code = artifacts.load(name).deployed_bytecode
        chain.w3.provider.make_request("anvil_setCode", [address, code])  # type: ignore[arg-type]
        placed.append(name)
    return placed
