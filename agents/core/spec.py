"""The schema of agents.yaml: what an operator launches.

After launch the YAML no longer drives anything: each agent's live
configuration is read from its AgentConfig contract, and only its holders'
DAO changes it. Every field is documented here; ``extra="forbid"`` turns a
typo into an error, and :func:`load_agents_file` names the YAML line of each
problem.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agents.core.errors import ConfigFileError
from agents.core.live_config import SPLIT_SHARES, LiveSplit
from agents.core.yaml_limits import YamlLimitError, check_yaml_limits

__all__ = [
    "AgentSpec",
    "AgentsFile",
    "Allocation",
    "BuybackSpec",
    "DeploymentSpec",
    "GovernanceSpec",
    "LiquiditySpec",
    "SkillSpec",
    "SplitSpec",
    "TokenSpec",
    "load_agents_file",
    "parse_agents_yaml",
]

MAX_PROMPT_BYTES = 8192
MAX_MODEL_BYTES = 128
MAX_SKILLS = 32
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
_SKILL = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_HOLDER = re.compile(r"^(dev:\d+|0x[0-9a-fA-F]{40})$")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SAFE_VOTING_DELAY = 86400
SAFE_VOTING_PERIOD = 3 * 86400
SAFE_TIMELOCK_DELAY = 2 * 86400
SAFE_QUORUM_PERCENT = 4


def _seconds(value: Any) -> Any:
    """Accept ``90``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"``."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("a duration is a whole number of seconds or like '15m', '2h', '1d'")
        return int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    return value


Duration = Annotated[int, BeforeValidator(_seconds), Field(ge=0)]
"""Seconds; YAML may say ``3600``, ``"60m"`` or ``"1h"``."""

Holder = Annotated[str, Field(pattern=_HOLDER.pattern)]
"""An address ``0x…`` or ``dev:N``, the N-th well-known account of the local chain."""

Usd = Annotated[Decimal, Field(ge=0, decimal_places=6)]
"""An amount of the payment stablecoin in dollars, at most 6 decimals (``"0.05"``)."""

Tokens = Annotated[Decimal, Field(gt=0, decimal_places=18)]
"""An amount of an agent token in whole tokens (18 decimals)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Allocation(_Strict):
    """Who receives agent tokens when the fixed supply is minted at launch."""

    holder: Holder
    """Recipient: an address, or ``dev:N`` on the embedded chain."""
    amount: Tokens
    """Whole tokens."""


class TokenSpec(_Strict):
    """The agent's ERC-20: fixed supply, minted once at launch."""

    name: str = Field(min_length=1, max_length=64)
    """ERC-20 name, e.g. ``"Scribe"``."""
    symbol: str = Field(pattern=r"^[A-Z0-9]{2,11}$")
    """ERC-20 symbol, upper case, 2-11 characters."""
    allocations: list[Allocation] = Field(min_length=1)
    """The whole supply: total supply is the sum of these."""

    @field_validator("allocations")
    @classmethod
    def _distinct_holders(cls, allocations: list[Allocation]) -> list[Allocation]:
        holders = [a.holder.lower() for a in allocations]
        duplicates = sorted({h for h in holders if holders.count(h) > 1})
        if duplicates:
            raise ValueError(f"holder listed twice: {', '.join(duplicates)}")
        return allocations

    @property
    def total_supply(self) -> Decimal:
        """Sum of the allocations, in whole tokens."""
        return sum((a.amount for a in self.allocations), Decimal(0))


class SkillSpec(_Strict):
    """A skill the agent sells: instructions added to the system prompt, and a price."""

    name: str = Field(pattern=_SKILL.pattern)
    """Path segment of ``POST /agents/{agent}/skills/{skill}``."""
    instructions: str = Field(min_length=1, max_length=4096)
    """What the model is told to do with the customer's input for this skill."""
    price: Usd
    """Price per call in dollars of the payment stablecoin."""


class SplitSpec(_Strict):
    """How each distribution divides new income, in percent; must total 100."""

    stakers: Decimal = Field(ge=0, le=100, decimal_places=2)
    """Paid pro rata to holders who stake the agent's token."""
    operator: Decimal = Field(ge=0, le=100, decimal_places=2)
    """Paid to the operator for compute and gas."""
    buyback: Decimal = Field(ge=0, le=100, decimal_places=2)
    """Buys the agent's token back and burns it."""
    reserve: Decimal = Field(ge=0, le=100, decimal_places=2)
    """Stays in the treasury; only governance spends it."""

    @model_validator(mode="after")
    def _sums_to_100(self) -> SplitSpec:
        total = sum(getattr(self, s) for s in SPLIT_SHARES)
        if total != 100:
            raise ValueError(f"split must sum to 100%, got {total}%")
        return self

    def basis_points(self) -> tuple[int, int, int, int]:
        """The shares in basis points, in ``SPLIT_SHARES`` order (as AgentConfig stores them)."""
        return LiveSplit.from_bps([int(getattr(self, s) * 100) for s in SPLIT_SHARES]).as_tuple()


class GovernanceSpec(_Strict):
    """The DAO's rules. Fixed at launch (they live in the governor and timelock).

    The defaults are the floor for a real chain: launch refuses shorter delays or a
    smaller quorum anywhere but the embedded chain unless ``allow_unsafe`` is set. A
    stake leaves only after ``voting_delay + voting_period + late_quorum_extension +
    timelock_delay`` (read live from the governor), so tokens borrowed to vote stay
    locked until the proposal they voted on could have executed.
    """

    voting_delay: Duration = SAFE_VOTING_DELAY
    """Time between proposing and the start of voting (votes are counted at its end)."""
    voting_period: Duration = Field(default=SAFE_VOTING_PERIOD, gt=0)
    """How long voting stays open."""
    timelock_delay: Duration = SAFE_TIMELOCK_DELAY
    """Time between queueing a passed proposal and executing it; the guardian may cancel
    in this window."""
    proposal_threshold: Tokens = Decimal(1000)
    """Staked tokens (votes) needed to propose; must be above zero."""
    quorum_percent: int = Field(default=SAFE_QUORUM_PERCENT, ge=1, le=100)
    """Share of the agent token's total supply (not of the staked supply, which an
    attacker's own stake would grow) that must vote for or abstain; fixed per proposal
    when it is made."""
    late_quorum_extension: Duration = 86400
    """Voting extends by this much when quorum is reached at the last moment."""
    reward_duration: Duration = Field(default=7 * 86400, ge=3600, le=365 * 86400)
    """Each distribution's stakers' share streams over this long, so a stake held for S
    seconds earns at most about S / reward_duration of it (stake x time)."""
    allow_unsafe: bool = False
    """Launch with delays or a quorum below the safe floor on a real chain (never needed on
    the embedded chain, where short periods and ``--wait`` are the demo)."""

    def unsafe_settings(self) -> list[str]:
        """The settings below the floor a real chain needs, in words (empty when safe)."""
        found = []
        if self.voting_delay < SAFE_VOTING_DELAY:
            found.append(f"voting_delay {self.voting_delay}s < {SAFE_VOTING_DELAY}s (1 day)")
        if self.voting_period < SAFE_VOTING_PERIOD:
            found.append(f"voting_period {self.voting_period}s < {SAFE_VOTING_PERIOD}s (3 days)")
        if self.timelock_delay < SAFE_TIMELOCK_DELAY:
            found.append(f"timelock_delay {self.timelock_delay}s < {SAFE_TIMELOCK_DELAY}s (2 days)")
        if self.quorum_percent < SAFE_QUORUM_PERCENT:
            found.append(f"quorum_percent {self.quorum_percent} < {SAFE_QUORUM_PERCENT}")
        return found


class BuybackSpec(_Strict):
    """The on-chain floor under every buyback (AgentTreasury, changeable by governance)."""

    twap_window: Duration = Field(default=1800, ge=300, le=7 * 86400)
    """The pool's time-weighted price is averaged over at least this long (5 minutes to 7
    days, AgentTreasury's bounds); a price moved within one block (a sandwich) barely moves
    the average."""
    max_slippage: Annotated[Decimal, Field(ge=Decimal("0.5"), le=20, decimal_places=2)] = Decimal(3)
    """Percent below the time-weighted price a buyback may fill at; a worse fill reverts. At
    least 0.5 (above the pool's 0.3 % fee), at most 20; AgentTreasury enforces the same."""

    def slippage_bps(self) -> int:
        """``max_slippage`` in basis points."""
        return int(self.max_slippage * 100)


class LiquiditySpec(_Strict):
    """The agent token / stablecoin pool launch seeds on the embedded chain's Uniswap V2, so the
    treasury's buyback-and-burn has a market. The tokens come out of ``dev:0``'s allocation (the
    deployer adds the liquidity and keeps the LP tokens); the stablecoin is minted MockUSDC. Ignored
    on other chains, where the operator seeds the pool on the chain's own DEX."""

    tokens: Tokens
    """Whole agent tokens put in the pool; ``dev:0``'s allocation must cover them."""
    usdc: Annotated[Decimal, Field(gt=0, decimal_places=6)]
    """Dollars of stablecoin against them; ``usdc / tokens`` is the opening price."""


class AgentSpec(_Strict):
    """One agent: its token, its DAO, and the initial configuration it launches with."""

    description: str = Field(default="", max_length=280)
    """One line for the registry and ``GET /agents``."""
    token: TokenSpec
    """The agent's ERC-20."""
    system_prompt: str = Field(min_length=1)
    """The system prompt every skill runs under."""
    model: str = Field(pattern=r"^[a-z0-9_-]+:\S+$", max_length=MAX_MODEL_BYTES)
    """LangChain ``provider:model``, e.g. ``offline:echo-1`` or ``openai:gpt-4o-mini``."""
    temperature: Decimal = Field(default=Decimal("0.7"), ge=0, le=2, decimal_places=2)
    """Sampling temperature, 0 to 2."""
    skills: list[SkillSpec] = Field(min_length=1, max_length=MAX_SKILLS)
    """What the agent sells."""
    split: SplitSpec
    """Revenue split of each distribution."""
    hire_budget: Usd = Decimal(0)
    """Dollars per day the agent may spend hiring other agents."""
    price_floor: Usd = Decimal("0.000001")
    """Lowest skill price governance may set (enforced by AgentConfig)."""
    price_ceiling: Usd = Decimal(1000)
    """Highest skill price governance may set (enforced by AgentConfig)."""
    governance: GovernanceSpec = GovernanceSpec()
    """The DAO's voting rules."""
    buyback: BuybackSpec = BuybackSpec()
    """The price floor under buyback-and-burn."""
    guardian: Holder | None = None
    """Account that may, in an emergency, pause the agent and its treasury's outflows and
    cancel a queued proposal in the timelock window (and do nothing else). Governance can
    replace or remove it."""
    liquidity: LiquiditySpec | None = None
    """Opening pool for buyback-and-burn on the embedded chain's DEX. Unset: no pool (a buyback
    then has no market and the keeper skips it)."""

    @field_validator("system_prompt")
    @classmethod
    def _prompt_fits(cls, prompt: str) -> str:
        if not prompt.strip():
            raise ValueError("system prompt is empty")
        if len(prompt.encode()) > MAX_PROMPT_BYTES:
            raise ValueError(f"system prompt is over {MAX_PROMPT_BYTES} bytes")
        return prompt

    @field_validator("skills")
    @classmethod
    def _distinct_skills(cls, skills: list[SkillSpec]) -> list[SkillSpec]:
        names = [s.name for s in skills]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"skill defined twice: {', '.join(duplicates)}")
        return skills

    @model_validator(mode="after")
    def _prices_in_band(self) -> AgentSpec:
        if self.price_floor > self.price_ceiling:
            raise ValueError("price_floor is above price_ceiling")
        for skill in self.skills:
            if not self.price_floor <= skill.price <= self.price_ceiling:
                raise ValueError(
                    f"skill {skill.name!r} costs {skill.price}, outside the band "
                    f"[{self.price_floor}, {self.price_ceiling}]"
                )
        return self

    @field_validator("liquidity")
    @classmethod
    def _liquidity_from_dev0(
        cls, liquidity: LiquiditySpec | None, info: ValidationInfo
    ) -> LiquiditySpec | None:
        token = info.data.get("token")
        if liquidity is None or token is None:
            return liquidity
        own = sum((a.amount for a in token.allocations if a.holder == "dev:0"), Decimal(0))
        if own < liquidity.tokens:
            raise ValueError(
                f"liquidity.tokens is {liquidity.tokens} but dev:0's allocation is only {own}"
            )
        return liquidity


class DeploymentSpec(_Strict):
    """What all agents of this file share."""

    operator: Holder = "dev:0"
    """Receives the operator share (compute and gas); ``dev:0`` is the local deployer."""
    payment_token: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    """The stablecoin customers pay in. Unset on the embedded chain: launch deploys MockUSDC."""
    dev_funding: Usd = Decimal(10000)
    """Dollars of MockUSDC minted to each of the ten dev accounts on the embedded chain."""
    dex_router: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    """A Uniswap V2 Router02 the treasuries buy back through. Unset on the embedded chain: launch
    deploys Uniswap V2 itself. Unset elsewhere: no DEX, and the buyback share accumulates in each
    treasury until governance spends it."""


class AgentsFile(_Strict):
    """The whole of agents.yaml."""

    deployment: DeploymentSpec = DeploymentSpec()
    """Settings shared by every agent."""
    agents: dict[str, AgentSpec] = Field(min_length=1)
    """Agents by name (lower case, 2-32 characters: letters, digits, dashes)."""

    @field_validator("agents")
    @classmethod
    def _names_are_slugs(cls, agents: dict[str, AgentSpec]) -> dict[str, AgentSpec]:
        for name in agents:
            if not _NAME.match(name):
                raise ValueError(
                    f"agent name {name!r} must be 2-32 lower-case letters, digits or dashes"
                )
        return agents


def load_agents_file(path: Path) -> AgentsFile:
    """Read and validate agents.yaml.

    Raises:
        ConfigFileError: the file is missing, not YAML, or invalid; the
            message names the line of every problem.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None
    return parse_agents_yaml(text, str(path))


def parse_agents_yaml(text: str, source: str = "agents.yaml") -> AgentsFile:
    """Validate the text of an agents.yaml (see :func:`load_agents_file`).

    A document nested deeper than ``yaml_limits.MAX_YAML_DEPTH`` levels or expanding
    (through aliases) to more than ``yaml_limits.MAX_YAML_NODES`` nodes is refused
    before anything builds it.
    """
    try:
        check_yaml_limits(text)
    except YamlLimitError as exc:
        raise ConfigFileError(f"{source}:{exc.line}: refused: {exc}") from None
    except yaml.YAMLError:
        pass  # compose below reports it with its line
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigFileError(f"{where}: not valid YAML: {problem}") from exc
    if root is None:
        raise ConfigFileError(f"{source}: the file is empty")
    _refuse_duplicate_keys(root, source)
    data = yaml.safe_load(text)
    try:
        return AgentsFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            line = _line_of(root, loc)
            dotted = ".".join(str(part) for part in loc) or "(top level)"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{source}:{line}: {dotted}: {message}")
        raise ConfigFileError("\n".join(problems)) from exc


def _line_of(root: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node the pydantic location reaches."""
    node = root
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _child(node: yaml.Node, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value  # type: ignore[no-any-return]
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]  # type: ignore[no-any-return]
    return None


def _refuse_duplicate_keys(node: yaml.Node, source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                line = key.start_mark.line + 1
                raise ConfigFileError(f"{source}:{line}: key {key.value!r} appears twice")
            seen.add(key.value)
            _refuse_duplicate_keys(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, source)
