"""The CLI's promises: one-line errors, non-zero exits, nothing deployed on bad input."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner
from web3 import Web3

from agents.app.cli import app
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain
from tests.conftest import SAMPLE_AGENTS

runner = CliRunner()


def _env(home: Path, rpc_url: str) -> dict[str, str]:
    return {
        "AGENTDAO_HOME": str(home),
        "AGENTDAO_RPC_URL": rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
    }


def test_unreachable_rpc_is_one_line_and_non_zero(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["launch", "--file", str(SAMPLE_AGENTS)], env=_env(tmp_path, "http://127.0.0.1:9")
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot reach the chain at http://127.0.0.1:9")


def test_malformed_file_names_the_line_and_deploys_nothing(
    anvil: EmbeddedChain, tmp_path: Path
) -> None:
    bad = tmp_path / "agents.yaml"
    bad.write_text(SAMPLE_AGENTS.read_text().replace("reserve: 20}", "reserve: 25}", 1))
    deployer = dev_account(0).address
    from contracts.client import Chain

    w3 = Chain(anvil.rpc_url, dev_account(0)).w3
    nonce = w3.eth.get_transaction_count(deployer)
    result = runner.invoke(
        app, ["launch", "--file", str(bad)], env=_env(tmp_path / "home", anvil.rpc_url)
    )
    assert result.exit_code == 1
    assert "agents.scribe.split: split must sum to 100%, got 105%" in result.stderr
    assert f"{bad}:" in result.stderr
    assert w3.eth.get_transaction_count(deployer) == nonce
    assert not (tmp_path / "home" / "deployments.json").exists()


def test_launch_then_agents_lists_config_from_chain(anvil: EmbeddedChain, tmp_path: Path) -> None:
    env = _env(tmp_path, anvil.rpc_url)
    first = runner.invoke(app, ["launch", "--file", str(SAMPLE_AGENTS)], env=env)
    assert first.exit_code == 0, first.output
    assert "scribe: launched" in first.stdout
    again = runner.invoke(app, ["launch", "--file", str(SAMPLE_AGENTS)], env=env)
    assert again.exit_code == 0
    assert "nothing to deploy" in again.stdout
    listed = runner.invoke(app, ["agents"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "summarize    0.05 USDC" in listed.stdout
    assert "review       0.5 USDC" in listed.stdout
    assert "config v1" in listed.stdout
