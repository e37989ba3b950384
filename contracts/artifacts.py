"""Compiled contract artifacts committed with the package.

The Python package deploys to any chain without Node: ``contracts/artifacts``
holds each deployable contract's ABI and bytecode, written by
``python -m contracts.build`` from forge's output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["ARTIFACTS_DIR", "DEPLOYABLE", "SOURCES_DIR", "Artifact", "load", "sources_digest"]

PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"
SOURCES_DIR = PACKAGE_DIR / "src"

DEPLOYABLE: tuple[str, ...] = (
    "MockUSDC",
    "AgentToken",
    "AgentStake",
    "AgentTimelock",
    "AgentGovernor",
    "AgentConfig",
    "AgentTreasury",
    "AgentRegistry",
    "BatchSettlement",
    "ERC3009DepositCollector",
    "TryAggregate",
)
"""Contracts the Python side deploys; each has ``artifacts/<name>.json``.

``BatchSettlement``, ``ERC3009DepositCollector`` and ``TryAggregate`` have no constructor: the
embedded chain places their ``deployedBytecode`` at the addresses the x402 package calls
(``anvil_setCode``; ``TryAggregate`` at Multicall3's).
"""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: what web3 needs to deploy and call it."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    """The runtime code (what a constructor leaves), for placing code at a fixed address."""
    sources_digest: str


@cache
def load(name: str) -> Artifact:
    """Load the committed artifact of a deployable contract.

    Raises:
        FileNotFoundError: no artifact of that name (run ``python -m contracts.build``).
    """
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no compiled artifact {path}; run `python -m contracts.build`")
    data = json.loads(path.read_text())
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        sources_digest=data["sourcesDigest"],
    )


def sources_digest(sources_dir: Path = SOURCES_DIR) -> str:
    """SHA-256 over the toolchain pins and every Solidity source, in path order.

    Artifacts record the digest of the sources they were compiled from, so a
    test can tell when they are stale without compiling.
    """
    digest = hashlib.sha256()
    pins = json.loads((sources_dir.parent.parent / "package.json").read_text())["dependencies"]
    digest.update(json.dumps(pins, sort_keys=True).encode())
    for path in sorted(sources_dir.rglob("*.sol")):
        digest.update(path.relative_to(sources_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
