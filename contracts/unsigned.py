"""Transactions for someone else's wallet to sign: the address and calldata, never a key.

A holder who signs in a browser wallet (or anywhere the runtime holds no key) gets the
same checked calls the CLI would send, encoded here, and sends them itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

__all__ = ["UnsignedTx"]


@dataclass(frozen=True)
class UnsignedTx:
    """One call to sign and send as is (no value, gas left to the wallet)."""

    to: str
    """The contract called (checksummed)."""
    data: str
    """The ABI-encoded call, 0x-hex."""
    what: str
    """What it does, in words, for the person about to sign it."""

    @classmethod
    def of(cls, contract: Contract, function: str, args: Sequence[Any], what: str) -> UnsignedTx:
        """Encode ``contract.function(*args)``."""
        return cls(to=contract.address, data=contract.encode_abi(function, list(args)), what=what)
