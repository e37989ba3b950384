"""An agent's live configuration, as its AgentConfig contract holds it.

The runtime never reads agents.yaml after launch: this is built from the chain
(``AgentConfig.config()`` and ``paused()``, or a ``ConfigUpdated`` /
``PauseChanged`` event) and identified by its version and hash, which every
receipt carries. The hash is AgentConfig's own: ``keccak256(abi.encode(
contentHash, paused))`` with ``contentHash = keccak256(abi.encode(config))``, so
pausing (the guardian's emergency stop) never re-hashes the content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from eth_abi.abi import encode as abi_encode
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3
from web3.contract import Contract

__all__ = [
    "AGENTIC_SKILL_ABI_TYPE",
    "CONFIG_ABI_TYPE",
    "DEFAULT_MAX_STEPS",
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

AGENTIC_SKILL_ABI_TYPE = "(string,string,uint256,string[],uint16,uint256)"
"""The layout this runtime reads a skill in once AgentConfig's ``Skill`` carries the agentic
fields: ``(name, instructions, price, tools, maxSteps, maxCost)``. AgentConfig does not hold
them yet; a skill row of three fields is today's ``(name, instructions, price)``."""

DEFAULT_MAX_STEPS = 6
"""Model calls an agentic skill may make per task when governance set no limit."""


def config_hash(content_hash: bytes, paused: bool) -> str:
    """AgentConfig's ``configHash`` for a content hash and a pause flag."""
    return Web3.keccak(abi_encode(["bytes32", "bool"], [content_hash, paused])).to_0x_hex()


class LiveSkill(BaseModel):
    """A skill as governance last set it.

    A skill with ``tools`` is agentic: it runs as an agent loop that may call them, for at
    most ``max_steps`` model calls and ``max_cost`` of tool spending per task. A skill
    without tools is one model call.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    instructions: str
    price: int
    """Payment-token units (USDC: millionths of a dollar)."""
    tools: tuple[str, ...] = ()
    """Names of the tools the skill may call (``word_count``, ``hire:scribe/summarize``);
    empty for a one-call skill."""
    max_steps: int = Field(default=DEFAULT_MAX_STEPS, ge=1)
    """The most model calls one task of an agentic skill may make; past it the task fails."""
    max_cost: int = Field(default=0, ge=0)
    """Payment-token units the skill's tools (hires of other agents) may spend per task."""

    @property
    def is_agentic(self) -> bool:
        """True if the skill runs as an agent loop with tools."""
        return bool(self.tools)

    @classmethod
    def from_row(cls, row: Any) -> LiveSkill:
        """Build from a decoded ``Skill`` struct: ``(name, instructions, price)``, optionally
        followed by ``(tools, maxSteps, maxCost)``, as a tuple or a name-keyed mapping."""
        if isinstance(row, Mapping) and "name" in row:
            return cls(
                name=row["name"],
                instructions=row["instructions"],
                price=row["price"],
                tools=tuple(row.get("tools", ())),
                max_steps=row.get("maxSteps", row.get("max_steps", DEFAULT_MAX_STEPS)),
                max_cost=row.get("maxCost", row.get("max_cost", 0)),
            )
        values = tuple(row.values()) if isinstance(row, Mapping) else tuple(row)
        name, instructions, price, *agentic = values
        if not agentic:
            return cls(name=name, instructions=instructions, price=price)
        tools, max_steps, max_cost = agentic
        return cls(
            name=name,
            instructions=instructions,
            price=price,
            tools=tuple(tools),
            max_steps=max_steps,
            max_cost=max_cost,
        )


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
        live_skills = tuple(LiveSkill.from_row(s) for s in skills)
        split_row = tuple(split.values()) if isinstance(split, dict) else tuple(split)
        # Hashed in the layout the chain sent: today's three fields, or the agentic six.
        agentic = any(len(s) > 3 for s in skills)
        skill_rows = [_skill_row(skill, agentic) for skill in live_skills]
        abi_type = CONFIG_ABI_TYPE
        if agentic:
            abi_type = CONFIG_ABI_TYPE.replace("(string,string,uint256)", AGENTIC_SKILL_ABI_TYPE)
        encoded = abi_encode(
            [abi_type],
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
            skills=live_skills,
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


def _skill_row(skill: LiveSkill, agentic: bool) -> tuple[Any, ...]:
    """A skill as ``abi.encode`` takes it, in the three- or six-field layout."""
    row: tuple[Any, ...] = (skill.name, skill.instructions, skill.price)
    if agentic:
        row += (list(skill.tools), skill.max_steps, skill.max_cost)
    return row


def read_live_config(config: Contract) -> LiveConfig:
    """Read the current version straight from an AgentConfig contract (one block)."""
    block = config.w3.eth.block_number
    version = config.functions.version().call(block_identifier=block)
    paused = config.functions.paused().call(block_identifier=block)
    struct = config.functions.config().call(block_identifier=block)
    return LiveConfig.from_struct(version, struct, paused)
