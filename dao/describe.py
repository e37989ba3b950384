"""Config changes in words: decode a proposal's calldata, or compare two versions.

``"summarize price 0.05 -> 0.07 USDC"`` is what a holder reads before voting and
what the config history shows after the change landed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from web3 import Web3
from web3.contract import Contract

from agents.core.live_config import SPLIT_SHARES, LiveConfig, LiveSplit
from agents.core.money import USDC_DECIMALS, format_money
from contracts.deploy import CANCELLER_ROLE
from dao.governor import Action

__all__ = [
    "as_tuple",
    "describe_action",
    "diff_configs",
    "format_percent",
    "quote",
]


def as_tuple(value: Any) -> Any:
    """A decoded struct as plain tuples (web3 hands event and input structs as mappings)."""
    if isinstance(value, Mapping):
        return tuple(as_tuple(v) for v in value.values())
    if isinstance(value, list):
        return [as_tuple(v) for v in value]
    if isinstance(value, tuple):
        return tuple(as_tuple(v) for v in value)
    return value


def format_percent(bps: int) -> str:
    """Basis points as a percentage: 5_000 -> ``50%``, 1_250 -> ``12.5%``."""
    return f"{(Decimal(bps) / 100).normalize():f}%"


def quote(text: str, limit: int = 60) -> str:
    """A prompt or instructions, quoted on one line and cut to ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f'"{flat}"'


def _split_bps(split: Any) -> tuple[int, int, int, int]:
    if isinstance(split, LiveSplit):
        return split.as_tuple()
    if isinstance(split, Mapping):
        split = tuple(split.values())
    return LiveSplit.from_bps(split).as_tuple()


def _describe_split(before: tuple[int, ...] | None, after: tuple[int, ...]) -> str:
    parts = []
    for index, share in enumerate(SPLIT_SHARES):
        if before is None:
            parts.append(f"{share} {format_percent(after[index])}")
        elif before[index] != after[index]:
            parts.append(
                f"{share} {format_percent(before[index])} -> {format_percent(after[index])}"
            )
    return "split " + ", ".join(parts or ["unchanged"])


def _skill_fields(skill: Any) -> tuple[str, str, int]:
    if isinstance(skill, Mapping):
        skill = tuple(skill.values())
    name, instructions, price = skill
    return str(name), str(instructions), int(price)


def _describe_config_call(
    function: str, args: Mapping[str, Any], before: LiveConfig | None, decimals: int
) -> str:
    if function == "setSystemPrompt":
        new = str(args["systemPrompt"])
        if before is None:
            return f"system prompt -> {quote(new)}"
        return f"system prompt {quote(before.system_prompt)} -> {quote(new)}"
    if function == "setModel":
        old = f"{before.model} " if before else ""
        return f"model {old}-> {args['model']}"
    if function == "setTemperature":
        new_temperature = Decimal(int(args["temperature"])) / 100
        old = f"{before.temperature.normalize():f} " if before else ""
        return f"temperature {old}-> {new_temperature.normalize():f}"
    if function == "setSkillPrice":
        name = str(args["name"])
        skill = before.skill(name) if before else None
        old = f"{format_money(skill.price, decimals)} " if skill else ""
        return f"{name} price {old}-> {format_money(int(args['price']), decimals)} USDC"
    if function == "setSkill":
        name, instructions, price = _skill_fields(args["skill"])
        existing = before.skill(name) if before else None
        if existing is None:
            verb = "add skill" if before is not None else "set skill"
            return f"{verb} {name} at {format_money(price, decimals)} USDC: {quote(instructions)}"
        changes = []
        if existing.price != price:
            changes.append(
                f"price {format_money(existing.price, decimals)} -> "
                f"{format_money(price, decimals)} USDC"
            )
        if existing.instructions != instructions:
            changes.append(
                f"instructions {quote(existing.instructions, 40)} -> {quote(instructions, 40)}"
            )
        return f"{name} " + ("; ".join(changes) or "unchanged")
    if function == "removeSkill":
        return f"remove skill {args['name']}"
    if function == "setSplit":
        old_split = _split_bps(before.split) if before else None
        return _describe_split(old_split, _split_bps(args["newSplit"]))
    if function == "setHireBudget":
        old = f"{format_money(before.hire_budget, decimals)} " if before else ""
        new_budget = format_money(int(args["hireBudget"]), decimals)
        return f"hire budget {old}-> {new_budget} USDC a day"
    if function == "setPaused":
        return "pause the agent" if args["paused_"] else "resume the agent"
    if function == "setGuardian":
        return f"guardian -> {args['newGuardian']}"
    if function == "setConfig":
        after = LiveConfig.from_struct(
            0, as_tuple(args["newConfig"]), before.paused if before else False
        )
        if before is None:
            return "replace the whole config"
        return "replace the whole config: " + "; ".join(
            diff_configs(before, after, decimals) or ["no field changes"]
        )
    rendered = ", ".join(f"{k}={v}" for k, v in args.items())
    return f"{function}({rendered})"


def describe_action(
    action: Action,
    contracts: Mapping[str, Contract],
    before: LiveConfig | None = None,
    decimals: int = USDC_DECIMALS,
) -> str:
    """One proposal action in words.

    Args:
        action: The call the timelock will make.
        contracts: Known contracts by role (``"config"``, ``"treasury"``...); the
            action's target is decoded against the ABI of the one at that address.
        before: The config the change applies to, to show old -> new values.
        decimals: Payment-token decimals for prices and budgets.
    """
    target = Web3.to_checksum_address(action.target)
    value = f" sending {action.value} wei" if action.value else ""
    for role, contract in contracts.items():
        if contract.address != target:
            continue
        try:
            function, args = contract.decode_function_input(action.calldata)
        except ValueError:
            return f"{role}: unknown call 0x{action.calldata[:4].hex()}{value}"
        name = str(function.fn_name)
        if role == "config":
            return _describe_config_call(name, args, before, decimals) + value
        if role == "treasury" and name == "unpause":
            return "resume the treasury's outflows" + value
        if role == "timelock" and name in ("grantRole", "revokeRole"):
            verb = "may cancel" if name == "grantRole" else "may no longer cancel"
            if bytes(args["role"]) == CANCELLER_ROLE:
                return f"{args['account']} {verb} queued proposals (guardian)" + value
        rendered = ", ".join(str(v) for v in args.values())
        return f"{role}.{name}({rendered}){value}"
    return f"call {target} with 0x{action.calldata[:4].hex()}…{value}"


def diff_configs(
    before: LiveConfig | None, after: LiveConfig, decimals: int = USDC_DECIMALS
) -> list[str]:
    """What changed from ``before`` to ``after``, one phrase per field; ``before=None``
    describes the first version."""
    if before is None:
        return ["initial config"]
    changes: list[str] = []
    if before.system_prompt != after.system_prompt:
        changes.append(
            f"system prompt {quote(before.system_prompt)} -> {quote(after.system_prompt)}"
        )
    if before.model != after.model:
        changes.append(f"model {before.model} -> {after.model}")
    if before.temperature != after.temperature:
        changes.append(
            f"temperature {before.temperature.normalize():f} -> {after.temperature.normalize():f}"
        )
    old_skills = {s.name: s for s in before.skills}
    new_skills = {s.name: s for s in after.skills}
    for name, skill in new_skills.items():
        old = old_skills.get(name)
        if old is None:
            changes.append(
                f"add skill {name} at {format_money(skill.price, decimals)} USDC: "
                f"{quote(skill.instructions)}"
            )
            continue
        if old.price != skill.price:
            changes.append(
                f"{name} price {format_money(old.price, decimals)} -> "
                f"{format_money(skill.price, decimals)} USDC"
            )
        if old.instructions != skill.instructions:
            changes.append(
                f"{name} instructions {quote(old.instructions, 40)} -> "
                f"{quote(skill.instructions, 40)}"
            )
    changes.extend(f"remove skill {name}" for name in old_skills if name not in new_skills)
    if before.split != after.split:
        changes.append(_describe_split(_split_bps(before.split), _split_bps(after.split)))
    if before.hire_budget != after.hire_budget:
        changes.append(
            f"hire budget {format_money(before.hire_budget, decimals)} -> "
            f"{format_money(after.hire_budget, decimals)} USDC a day"
        )
    if before.paused != after.paused:
        changes.append("paused" if after.paused else "resumed")
    return changes or ["no field changed (guardian or identical write)"]
