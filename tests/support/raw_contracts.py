"""Contracts assembled by hand (no compiler needed) for tests of sending transactions.

- The burner: ``fill(n)`` writes ``n`` fresh storage slots (~22,000 gas each), for
  transactions heavier than any fixed gas limit; its code loops ``n`` times over
  ``SSTORE(n, n); n -= 1``.
- The reverter: every call reverts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BURNER_ABI", "BURNER_BYTECODE", "REVERTER_BYTECODE", "SLOT_GAS"]

_RUNTIME = (
    "6004"  # PUSH1 4
    "35"  # CALLDATALOAD: n
    "5b"  # JUMPDEST (loop, 0x03)
    "80"  # DUP1
    "15"  # ISZERO
    "6013"  # PUSH1 0x13 (end)
    "57"  # JUMPI
    "80"  # DUP1
    "80"  # DUP1
    "55"  # SSTORE(n, n)
    "6001"  # PUSH1 1
    "90"  # SWAP1
    "03"  # SUB: n - 1
    "6003"  # PUSH1 0x03 (loop)
    "56"  # JUMP
    "5b"  # JUMPDEST (end, 0x13)
    "00"  # STOP
)
_SIZE = f"{len(_RUNTIME) // 2:02x}"
BURNER_BYTECODE = (
    f"0x60{_SIZE}600c600039"  # CODECOPY(0, 12, size): the runtime code after this prefix
    f"60{_SIZE}6000f3" + _RUNTIME  # RETURN(0, size)
)
BURNER_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "fill",
        "inputs": [{"name": "n", "type": "uint256"}],
        "outputs": [],
        "stateMutability": "nonpayable",
    }
]
SLOT_GAS = 22_100
"""What each fresh slot costs (a cold SSTORE of a non-zero value)."""
REVERTER_BYTECODE = (
    "0x6460006000fd"  # PUSH5 the runtime code: REVERT(0, 0)
    "600052"  # MSTORE at 0 (right-aligned: bytes 27 to 31)
    "6005601bf3"  # RETURN(27, 5)
)
