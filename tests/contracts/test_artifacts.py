"""Committed artifacts match the Solidity sources they claim to come from."""

from __future__ import annotations

import pytest

from contracts import artifacts


@pytest.mark.parametrize("name", artifacts.DEPLOYABLE)
def test_artifact_is_fresh(name: str) -> None:
    artifact = artifacts.load(name)
    assert artifact.sources_digest == artifacts.sources_digest(), (
        f"{name}: contracts/artifacts is stale against contracts/src; "
        "run `python -m contracts.build`"
    )
    assert artifact.bytecode.startswith("0x")
    assert len(artifact.bytecode) > 100
    # the registry takes no arguments; the x402 escrow's runtime code is placed without one
    assert any(entry.get("type") == "constructor" for entry in artifact.abi) or name in {
        "AgentRegistry",
        "BatchSettlement",
        "ERC3009DepositCollector",
        "TryAggregate",
    }


def test_digest_changes_with_any_source(tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    scratch = Path(str(tmp_path)) / "contracts" / "src"
    shutil.copytree(artifacts.SOURCES_DIR, scratch)
    shutil.copy(artifacts.SOURCES_DIR.parent.parent / "package.json", scratch.parent.parent)
    before = artifacts.sources_digest(scratch)
    assert before == artifacts.sources_digest()
    target = scratch / "AgentConfig.sol"
    target.write_text(target.read_text() + "\n// edited\n")
    assert artifacts.sources_digest(scratch) != before
