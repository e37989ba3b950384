"""The deployment manifest, ``.agentdao/deployments.json``: every contract address.

Written atomically after each step of a launch, so an interrupted launch
resumes where it stopped: finished agents sit under ``agents``, an agent still
being launched under ``pending`` with the addresses it has so far.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from agents.core.errors import UnknownAgentError

__all__ = ["AgentAddresses", "DexAddresses", "Manifest", "PendingAgent"]


class AgentAddresses(BaseModel):
    """One launched agent's contracts."""

    model_config = ConfigDict(extra="forbid")

    token: str
    stake: str
    governor: str
    timelock: str
    config: str
    treasury: str


class PendingAgent(BaseModel):
    """An agent whose launch started and has not finished; what exists so far."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = None
    stake: str | None = None
    timelock: str | None = None
    governor: str | None = None
    config: str | None = None
    treasury: str | None = None


class DexAddresses(BaseModel):
    """The Uniswap V2 deployment the treasuries' buybacks trade on."""

    model_config = ConfigDict(extra="forbid")

    factory: str
    """UniswapV2Factory."""
    router: str
    """UniswapV2Router02, immutable in every treasury launched with it."""
    weth: str
    """WETH9 the router was built with."""


class Manifest(BaseModel):
    """What one deployment has on one chain."""

    model_config = ConfigDict(extra="forbid")

    chain_id: int
    rpc_url: str
    payment_token: str | None = None
    registry: str | None = None
    start_block: int = 0
    """The chain's head when this deployment's first launch began: nothing of it is
    older, so event scans (config sync, proposals, stakers, settlements) start here."""
    dex: DexAddresses | None = None
    """Uniswap V2 the buybacks use; None when the chain has none (the buyback share accumulates)."""
    batch_escrow: str | None = None
    """The x402 batch-settlement escrow (its canonical address) when the chain has it:
    customers prepay agents through channels there. None: ``exact`` payments only."""
    agents: dict[str, AgentAddresses] = Field(default_factory=dict)
    pending: dict[str, PendingAgent] = Field(default_factory=dict)

    def agent(self, name: str) -> AgentAddresses:
        """The launched agent's addresses.

        Raises:
            UnknownAgentError: no launched agent of that name (the message lists those there are).
        """
        try:
            return self.agents[name]
        except KeyError:
            raise UnknownAgentError(name, self.agents) from None

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or None when there is none yet."""
        if not path.is_file():
            return None
        return cls.model_validate_json(path.read_text())

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves the old manifest or the new one, never half."""
        path.parent.mkdir(parents=True, exist_ok=True)
        document = self.model_dump(mode="json", exclude_none=False)
        if not document["pending"]:
            del document["pending"]
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".deployments-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)
