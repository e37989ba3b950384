"""An agent's live configuration, as its AgentConfig contract holds it.

The runtime never reads agents.yaml after launch: this is built from the chain
(``AgentConfig.config()`` and ``paused()``, or a ``ConfigUpdated`` /
``PauseChanged`` event) and identified by its version and hash, which every
receipt carries. The hash is AgentConfig's own: ``keccak256(abi.encode(
contentHash, paused))`` with ``contentHash = keccak256(abi.encode(config))``, so
pausing (the guardian's emergency stop) never re-hashes the content.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from eth_abi.abi import encode as abi_encode
from pydantic import BaseModel, ConfigDict
from web3 import Web3
from web3.contract import Contract

__all__ = [
    "CONFIG_ABI_TYPE",
    "SPLIT_SHARES",
    "LiveConfig",
    "LiveSkill",
    "LiveSplit",
    "config_hash",
    "read_live_config",
]

CONFIG_ABI_TYPE = (
    "(string,string,uint16,(string,string,uint256)[],(uint16,uint16,uint16,uint16),uint256)"
)
"""``AgentConfig.Config`` as an ABI tuple type; content hash = keccak256(abi.encode(config))."""


def config_hash(content_hash: bytes, paused: bool) -> str:
    """AgentConfig's ``configHash`` for a content hash and a pause flag."""
    return Web3.keccak(abi_encode(["bytes32", "bool"], [content_hash, paused])).to_0x_hex()


class LiveSkill(BaseModel):
    """A skill as governance last set it."""

    model_config = ConfigDict(frozen=True)

    name: str
    instructions: str
    price: int
    """Payment-token units (USDC: millionths of a dollar)."""


SPLIT_SHARES = ("stakers", "operator", "buyback", "reserve")
"""The four shares of an agent's income, in the order AgentConfig's ``Split`` holds them;
every place that names them (agents.yaml, ``--set split.<share>``, the API) uses these."""


class LiveSplit(BaseModel):
    """Revenue split in basis points (sums to 10,000)."""

    model_config = ConfigDict(frozen=True)

    stakers_bps: int
    operator_bps: int
    buyback_bps: int
    reserve_bps: int

    @classmethod
    def from_bps(cls, bps: Sequence[int]) -> LiveSplit:
        """Build from the four basis points in :data:`SPLIT_SHARES` order (AgentConfig's)."""
        stakers, operator, buyback, reserve = (int(x) for x in bps)
        return cls(
            stakers_bps=stakers, operator_bps=operator, buyback_bps=buyback, reserve_bps=reserve
        )

    def as_tuple(self) -> tuple[int, int, int, int]:
        """The four basis points in :data:`SPLIT_SHARES` order, as AgentConfig takes them."""
        return (self.stakers_bps, self.operator_bps, self.buyback_bps, self.reserve_bps)

    def by_share(self) -> dict[str, int]:
        """Basis points by share name, in :data:`SPLIT_SHARES` order."""
        return dict(zip(SPLIT_SHARES, self.as_tuple(), strict=True))


class LiveConfig(BaseModel):
    """One version of an agent's governed configuration."""

    model_config = ConfigDict(frozen=True)

    version: int
    config_hash: str
    content_hash: str
    """The hash of everything but the pause flag (unchanged by pause and resume)."""
    system_prompt: str
    model: str
    temperature: Decimal
    skills: tuple[LiveSkill, ...]
    split: LiveSplit
    hire_budget: int
    paused: bool

    @classmethod
    def from_struct(cls, version: int, struct: Any, paused: bool = False) -> LiveConfig:
        """Build from the decoded ``Config`` tuple (a call result or an event argument) and
        the pause flag, which AgentConfig keeps beside it."""
        if isinstance(struct, dict):
            struct = tuple(struct.values())
        prompt, model, temperature, skills, split, hire_budget = struct
        skill_rows = [tuple(s.values()) if isinstance(s, dict) else tuple(s) for s in skills]
        split_row = tuple(split.values()) if isinstance(split, dict) else tuple(split)
        encoded = abi_encode(
            [CONFIG_ABI_TYPE],
            [(prompt, model, temperature, skill_rows, split_row, hire_budget)],
        )
        content = Web3.keccak(encoded)
        return cls(
            version=version,
            config_hash=config_hash(content, paused),
            content_hash=content.to_0x_hex(),
            system_prompt=prompt,
            model=model,
            temperature=Decimal(temperature) / 100,
            skills=tuple(LiveSkill(name=n, instructions=i, price=p) for n, i, p in skill_rows),
            split=LiveSplit.from_bps(split_row),
            hire_budget=hire_budget,
            paused=paused,
        )

    def with_pause(self, version: int, paused: bool) -> LiveConfig:
        """The same content at ``version``, paused or resumed (a ``PauseChanged`` event)."""
        return self.model_copy(
            update={
                "version": version,
                "paused": paused,
                "config_hash": config_hash(bytes.fromhex(self.content_hash[2:]), paused),
            }
        )

    def skill(self, name: str) -> LiveSkill | None:
        """The skill called ``name``, if the agent sells it."""
        return next((s for s in self.skills if s.name == name), None)


def read_live_config(config: Contract) -> LiveConfig:
    """Read the current version straight from an AgentConfig contract (one block)."""
    block = config.w3.eth.block_number
    version = config.functions.version().call(block_identifier=block)
    paused = config.functions.paused().call(block_identifier=block)
    struct = config.functions.config().call(block_identifier=block)
    return LiveConfig.from_struct(version, struct, paused)
