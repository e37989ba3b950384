"""An agent's live configuration, as its AgentConfig contract holds it.

The runtime never reads agents.yaml after launch: this is built from the chain
(``AgentConfig.config()`` or a ``ConfigUpdated`` event) and identified by its
version and hash, which every receipt carries.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eth_abi.abi import encode as abi_encode
from pydantic import BaseModel, ConfigDict
from web3 import Web3
from web3.contract import Contract

__all__ = ["CONFIG_ABI_TYPE", "LiveConfig", "LiveSkill", "LiveSplit", "read_live_config"]

CONFIG_ABI_TYPE = (
    "(string,string,uint16,(string,string,uint256)[],(uint16,uint16,uint16,uint16),uint256,bool)"
)
"""``AgentConfig.Config`` as an ABI tuple type; its hash is keccak256(abi.encode(config))."""


class LiveSkill(BaseModel):
    """A skill as governance last set it."""

    model_config = ConfigDict(frozen=True)

    name: str
    instructions: str
    price: int
    """Payment-token units (USDC: millionths of a dollar)."""


class LiveSplit(BaseModel):
    """Revenue split in basis points (sums to 10,000)."""

    model_config = ConfigDict(frozen=True)

    stakers_bps: int
    operator_bps: int
    buyback_bps: int
    reserve_bps: int


class LiveConfig(BaseModel):
    """One version of an agent's governed configuration."""

    model_config = ConfigDict(frozen=True)

    version: int
    config_hash: str
    system_prompt: str
    model: str
    temperature: Decimal
    skills: tuple[LiveSkill, ...]
    split: LiveSplit
    hire_budget: int
    paused: bool

    @classmethod
    def from_struct(cls, version: int, struct: Any) -> LiveConfig:
        """Build from the decoded ``Config`` tuple (a call result or an event argument)."""
        if isinstance(struct, dict):
            struct = tuple(struct.values())
        prompt, model, temperature, skills, split, hire_budget, paused = struct
        skill_rows = [tuple(s.values()) if isinstance(s, dict) else tuple(s) for s in skills]
        split_row = tuple(split.values()) if isinstance(split, dict) else tuple(split)
        encoded = abi_encode(
            [CONFIG_ABI_TYPE],
            [(prompt, model, temperature, skill_rows, split_row, hire_budget, paused)],
        )
        return cls(
            version=version,
            config_hash=Web3.keccak(encoded).to_0x_hex(),
            system_prompt=prompt,
            model=model,
            temperature=Decimal(temperature) / 100,
            skills=tuple(LiveSkill(name=n, instructions=i, price=p) for n, i, p in skill_rows),
            split=LiveSplit(
                stakers_bps=split_row[0],
                operator_bps=split_row[1],
                buyback_bps=split_row[2],
                reserve_bps=split_row[3],
            ),
            hire_budget=hire_budget,
            paused=paused,
        )

    def skill(self, name: str) -> LiveSkill | None:
        """The skill called ``name``, if the agent sells it."""
        return next((s for s in self.skills if s.name == name), None)


def read_live_config(config: Contract) -> LiveConfig:
    """Read the current version straight from an AgentConfig contract (one block)."""
    block = config.w3.eth.block_number
    version = config.functions.version().call(block_identifier=block)
    return LiveConfig.from_struct(version, config.functions.config().call(block_identifier=block))
