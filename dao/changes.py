"""Turn ``--set key=value`` assignments into AgentConfig calls a proposal can carry.

Keys (values in the product's units: dollars, percent, 0-2 temperature):

- ``system_prompt=<text>`` or ``system_prompt=@<file>``
- ``model=<provider:model>``
- ``temperature=<0..2, two decimals>``
- ``price.<skill>=<dollars>``
- ``skill.<name>.instructions=<text or @file>`` (a new skill also needs ``price.<name>``)
- ``split.<stakers|operator|buyback|reserve>=<percent>`` (all split keys become one
  ``setSplit``; unnamed shares keep their current value; the result must sum to 100)
- ``hire_budget=<dollars a day>``
- ``paused=true|false`` (the agent; O(1) on chain)
- ``treasury.paused=false`` (resume the treasury's outflows after a guardian's pause)
- ``guardian=<0x address>|none`` (AgentConfig's guardian and the timelock's canceller
  role move together)

Everything checkable without the chain's runtime is checked here, so a holder learns
of a typo before spending gas on a proposal that would revert at execution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from agents.core.errors import UnknownModelError
from agents.core.live_config import SPLIT_SHARES, LiveConfig, LiveSplit
from agents.core.model_ref import parse_model_string
from agents.core.money import USDC_DECIMALS, format_money
from contracts.deploy import CANCELLER_ROLE, ZERO_ADDRESS
from dao.describe import format_percent
from dao.errors import ConfigChangeError
from dao.governor import Action

__all__ = ["ConfigCall", "parse_changes", "to_actions"]

MAX_SYSTEM_PROMPT_BYTES = 8192
MAX_MODEL_BYTES = 128
MAX_SKILL_NAME_BYTES = 64
_KEYS = (
    "system_prompt, model, temperature, price.<skill>, skill.<name>.instructions, "
    f"split.<{'|'.join(SPLIT_SHARES)}>, hire_budget, paused, treasury.paused, guardian"
)


@dataclass(frozen=True)
class ConfigCall:
    """One governed write: the function name, its ABI arguments and the contract it goes to
    (``config``, ``treasury`` or ``timelock`` of the agent)."""

    function: str
    args: tuple[Any, ...] = field(default_factory=tuple)
    target: str = "config"


def _text(key: str, value: str, base_dir: Path | None) -> str:
    if not value.startswith("@"):
        return value
    if base_dir is None:
        raise ConfigChangeError(f"{key}: @file values are read only by the CLI; give the text")
    path = base_dir / value[1:]
    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigChangeError(f"{key}: cannot read {path}: {exc.strerror or exc}") from exc


def _decimal(key: str, value: str, what: str, places: int) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ConfigChangeError(f"{key}: {value!r} is not {what}") from None
    if not number.is_finite() or number < 0:
        raise ConfigChangeError(f"{key}: {value!r} is not {what}")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ConfigChangeError(f"{key}: {value!r} has more than {places} decimals")
    return number


def _money(key: str, value: str, decimals: int) -> int:
    return int(_decimal(key, value, "a dollar amount", decimals) * 10**decimals)


def _checked_prompt(key: str, prompt: str) -> str:
    size = len(prompt.encode())
    if not prompt.strip():
        raise ConfigChangeError(f"{key}: the system prompt cannot be empty")
    if size > MAX_SYSTEM_PROMPT_BYTES:
        raise ConfigChangeError(
            f"{key}: {size} bytes; AgentConfig takes at most {MAX_SYSTEM_PROMPT_BYTES}"
        )
    return prompt


def _checked_model(key: str, model: str) -> str:
    try:
        parse_model_string(model)
    except UnknownModelError as exc:
        raise ConfigChangeError(f"{key}: {exc}") from None
    if len(model.encode()) > MAX_MODEL_BYTES:
        raise ConfigChangeError(f"{key}: longer than {MAX_MODEL_BYTES} bytes")
    return model


def _checked_price(key: str, price: int, band: tuple[int, int] | None, decimals: int) -> int:
    if band is not None and not band[0] <= price <= band[1]:
        low, high = (format_money(x, decimals) for x in band)
        raise ConfigChangeError(
            f"{key}: {format_money(price, decimals)} USDC is outside this agent's price band "
            f"[{low}, {high}]"
        )
    return price


def _split_args(current: LiveConfig, shares: dict[str, int]) -> tuple[int, int, int, int]:
    merged = current.split.by_share() | shares
    total = sum(merged.values())
    if total != 10_000:
        rendered = " + ".join(f"{k} {format_percent(v)}" for k, v in merged.items())
        raise ConfigChangeError(
            f"split must sum to 100%: {rendered} = {format_percent(total)} "
            "(set the other shares too)"
        )
    return LiveSplit.from_bps([merged[s] for s in SPLIT_SHARES]).as_tuple()


def parse_changes(
    assignments: Sequence[str],
    current: LiveConfig,
    *,
    decimals: int = USDC_DECIMALS,
    price_band: tuple[int, int] | None = None,
    base_dir: Path | None = None,
    guardian: str = ZERO_ADDRESS,
    files: bool = True,
) -> list[ConfigCall]:
    """The governed calls that make ``assignments`` true of ``current``.

    Args:
        assignments: ``key=value`` strings, as given to ``--set``.
        current: The agent's live config (to find skills and untouched split shares).
        decimals: Payment-token decimals (prices and budgets are given in dollars).
        price_band: ``(floor, ceiling)`` in token units, checked when given.
        base_dir: Where ``@file`` values are read from (default: the working directory).
        guardian: The current guardian (its canceller role is revoked on a change).
        files: Whether ``@file`` values are read; False for changes from a web page,
            which must never name a file on the server.

    Raises:
        ConfigChangeError: unknown key, bad value, unknown skill, a split that does not
            sum to 100%, a key given twice, or a value equal to the current one.
    """
    base = (base_dir or Path.cwd()) if files else None
    if not assignments:
        raise ConfigChangeError(f"nothing to change: give at least one --set ({_KEYS})")
    seen: set[str] = set()
    calls: list[ConfigCall] = []
    shares: dict[str, int] = {}
    prices: dict[str, int] = {}
    instructions: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigChangeError(f"--set {assignment!r}: expected key=value ({_KEYS})")
        if key in seen:
            raise ConfigChangeError(f"--set {key} given twice")
        seen.add(key)
        head, _, rest = key.partition(".")
        if key == "system_prompt":
            prompt = _checked_prompt(key, _text(key, value, base))
            if prompt == current.system_prompt:
                raise ConfigChangeError("system_prompt: already the current prompt")
            calls.append(ConfigCall("setSystemPrompt", (prompt,)))
        elif key == "model":
            model = _checked_model(key, value.strip())
            if model == current.model:
                raise ConfigChangeError(f"model: already {model}")
            calls.append(ConfigCall("setModel", (model,)))
        elif key == "temperature":
            temperature = _decimal(key, value, "a temperature", 2)
            if temperature > 2:
                raise ConfigChangeError(f"temperature: {value} is above the maximum of 2")
            if temperature == current.temperature:
                raise ConfigChangeError(f"temperature: already {value}")
            calls.append(ConfigCall("setTemperature", (int(temperature * 100),)))
        elif head == "price" and rest:
            prices[rest] = _checked_price(key, _money(key, value, decimals), price_band, decimals)
        elif head == "skill" and rest.endswith(".instructions") and rest != ".instructions":
            name = rest.removesuffix(".instructions")
            text = _text(key, value, base)
            if not text.strip():
                raise ConfigChangeError(f"{key}: instructions cannot be empty")
            instructions[name] = text
        elif head == "split" and rest:
            if rest not in SPLIT_SHARES:
                raise ConfigChangeError(
                    f"{key}: unknown share {rest!r} (shares: {', '.join(SPLIT_SHARES)})"
                )
            percent = _decimal(key, value, "a percentage", 2)
            if percent > 100:
                raise ConfigChangeError(f"{key}: {value}% is more than 100%")
            shares[rest] = int(percent * 100)
        elif key == "hire_budget":
            budget = _money(key, value, decimals)
            if budget == current.hire_budget:
                raise ConfigChangeError(f"hire_budget: already {value} USDC")
            calls.append(ConfigCall("setHireBudget", (budget,)))
        elif key == "paused":
            flag = value.strip().lower()
            if flag not in {"true", "false"}:
                raise ConfigChangeError(f"paused: {value!r} is not true or false")
            if (flag == "true") == current.paused:
                raise ConfigChangeError(f"paused: already {flag}")
            calls.append(ConfigCall("setPaused", (flag == "true",)))
        elif key == "treasury.paused":
            if value.strip().lower() != "false":
                raise ConfigChangeError(
                    "treasury.paused: only false (the guardian pauses, governance resumes)"
                )
            calls.append(ConfigCall("unpause", (), "treasury"))
        elif key == "guardian":
            calls.extend(_guardian_calls(value.strip(), guardian))
        else:
            raise ConfigChangeError(f"unknown key {key!r} (keys: {_KEYS})")
    calls.extend(_skill_calls(current, prices, instructions, decimals))
    if shares:
        split = _split_args(current, shares)
        if split == current.split.as_tuple():
            raise ConfigChangeError("split: already the current split")
        calls.append(ConfigCall("setSplit", (split,)))
    return calls


def _skill_calls(
    current: LiveConfig, prices: dict[str, int], instructions: dict[str, str], decimals: int
) -> list[ConfigCall]:
    calls: list[ConfigCall] = []
    known = ", ".join(s.name for s in current.skills)
    for name, price in prices.items():
        skill = current.skill(name)
        if name in instructions:
            continue  # becomes one setSkill below
        if skill is None:
            raise ConfigChangeError(
                f"price.{name}: the agent has no skill {name!r} (skills: {known}); "
                f"add one with skill.{name}.instructions=... and price.{name}=..."
            )
        if skill.price == price:
            raise ConfigChangeError(f"price.{name}: already {format_money(price, decimals)} USDC")
        calls.append(ConfigCall("setSkillPrice", (name, price)))
    for name, text in instructions.items():
        if not name or len(name.encode()) > MAX_SKILL_NAME_BYTES:
            raise ConfigChangeError(f"skill {name!r}: a name is 1 to {MAX_SKILL_NAME_BYTES} bytes")
        skill = current.skill(name)
        if skill is None and name not in prices:
            raise ConfigChangeError(
                f"skill.{name}.instructions: {name!r} is a new skill; give its price.{name} too"
            )
        price = prices.get(name, skill.price if skill else 0)
        calls.append(ConfigCall("setSkill", ((name, text, price),)))
    return calls


def _guardian_calls(value: str, current: str) -> list[ConfigCall]:
    new = ZERO_ADDRESS if value.lower() == "none" else value
    if not Web3.is_address(new):
        raise ConfigChangeError(f"guardian: {value!r} is not an address or none")
    new = Web3.to_checksum_address(new)
    if new == Web3.to_checksum_address(current):
        raise ConfigChangeError(f"guardian: already {value}")
    calls = [ConfigCall("setGuardian", (new,))]
    if current != ZERO_ADDRESS:
        calls.append(ConfigCall("revokeRole", (CANCELLER_ROLE, current), "timelock"))
    if new != ZERO_ADDRESS:
        calls.append(ConfigCall("grantRole", (CANCELLER_ROLE, new), "timelock"))
    return calls


def to_actions(
    config: Contract,
    calls: Sequence[ConfigCall],
    others: Mapping[str, Contract] | None = None,
) -> list[Action]:
    """Encode calls as proposal actions: against the agent's AgentConfig, or the contract
    ``others`` names for a call's target (``treasury``, ``timelock``)."""
    contracts = {"config": config, **(others or {})}
    actions = []
    for call in calls:
        contract = contracts.get(call.target)
        if contract is None:
            raise ConfigChangeError(f"{call.function}: no {call.target} contract to call")
        data = contract.encode_abi(call.function, list(call.args))
        actions.append(Action(target=contract.address, calldata=bytes.fromhex(data[2:])))
    return actions
