"""The batch-settlement escrow answers every call the `x402` package makes, as it encodes them.

Every function and event of the package's ``BATCH_SETTLEMENT_ABI`` must exist in the compiled
``BatchSettlement`` artifact with the same name, input types, output types and state mutability
(events: the same types and the same indexed inputs), so the stock client, server and facilitator
work against it unchanged. Pure unit test: no chain.
"""

from __future__ import annotations

from typing import Any

import pytest
from x402.mechanisms.evm import constants as evm_constants
from x402.mechanisms.evm.batch_settlement import abi as package_abi
from x402.mechanisms.evm.batch_settlement import constants as package_constants

from contracts import artifacts

Entry = dict[str, Any]


def _type(param: Entry) -> str:
    """The canonical ABI type of a parameter, tuples spelled out: ``(address,uint40)[]``."""
    kind = str(param["type"])
    if not kind.startswith("tuple"):
        return kind
    inner = ",".join(_type(component) for component in param["components"])
    return f"({inner}){kind.removeprefix('tuple')}"


def _function_signature(entry: Entry) -> tuple[str, tuple[str, ...], tuple[str, ...], str]:
    return (
        entry["name"],
        tuple(_type(p) for p in entry["inputs"]),
        tuple(_type(p) for p in entry.get("outputs", [])),
        entry["stateMutability"],
    )


def _event_signature(entry: Entry) -> tuple[str, tuple[tuple[str, bool], ...], bool]:
    return (
        entry["name"],
        tuple((_type(p), bool(p["indexed"])) for p in entry["inputs"]),
        bool(entry.get("anonymous", False)),
    )


def _ours(kind: str) -> list[Entry]:
    return [entry for entry in artifacts.load("BatchSettlement").abi if entry["type"] == kind]


def _theirs(kind: str) -> list[Entry]:
    return [entry for entry in package_abi.BATCH_SETTLEMENT_ABI if entry["type"] == kind]


@pytest.mark.parametrize("entry", _theirs("function"), ids=lambda entry: entry["name"])
def test_every_package_function_exists_with_its_signature(entry: Entry) -> None:
    name = entry["name"]
    ours = [_function_signature(mine) for mine in _ours("function") if mine["name"] == name]
    assert _function_signature(entry) in ours, (
        f"{name}: the package calls {_function_signature(entry)}, the contract has {ours}"
    )


@pytest.mark.parametrize("entry", _theirs("event"), ids=lambda entry: entry["name"])
def test_every_package_event_exists_with_its_signature(entry: Entry) -> None:
    name = entry["name"]
    ours = [_event_signature(mine) for mine in _ours("event") if mine["name"] == name]
    assert _event_signature(entry) in ours, (
        f"{name}: the package decodes {_event_signature(entry)}, the contract emits {ours}"
    )


def test_the_package_abi_is_not_empty() -> None:
    # a package that renamed or emptied the list would make the tests above pass vacuously
    assert len(_theirs("function")) >= 17
    assert {entry["name"] for entry in _theirs("event")} >= {"Settled"}


def test_collector_is_bound_to_the_canonical_settlement_address() -> None:
    # the collector forwards deposits to the settlement contract at the address the package calls
    code = artifacts.load("ERC3009DepositCollector").bytecode.lower()
    assert package_constants.BATCH_SETTLEMENT_ADDRESS.lower().removeprefix("0x") in code


def test_try_aggregate_answers_the_package_multicall() -> None:
    # the facilitator reads channel state through Multicall3's tryAggregate; TryAggregate stands in
    ours = [
        _function_signature(entry)
        for entry in artifacts.load("TryAggregate").abi
        if entry["type"] == "function"
    ]
    for entry in evm_constants.MULTICALL3_TRY_AGGREGATE_ABI:
        assert _function_signature(entry) in ours


@pytest.mark.parametrize("name", ["BatchSettlement", "ERC3009DepositCollector", "TryAggregate"])
def test_escrow_contracts_have_no_constructor(name: str) -> None:
    # their runtime code is placed at the canonical addresses, where no constructor runs
    assert not [entry for entry in artifacts.load(name).abi if entry["type"] == "constructor"]
