"""The money commands against the test deployment: stake, claim, treasury, distribute, buyback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner
from web3 import Web3

from agents.app import money_cli as cli
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from tests.conftest import Deployment
from tests.treasury.support import mature_price_floor, pay

USDC = 10**6
TOKEN = 10**18


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    cli.register(app)
    return app


@pytest.fixture
def env(deployment: Deployment, tmp_path: Path) -> dict[str, str]:
    """The test deployment's manifest in a home of its own (the job state is per test)."""
    shutil.copy(deployment.settings.manifest_path, tmp_path / "deployments.json")
    return {
        "AGENTDAO_HOME": str(tmp_path),
        "AGENTDAO_RPC_URL": deployment.chain.rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
        "AGENTDAO_DISTRIBUTION_MIN_INCOME": "1",
    }


def _run(app: typer.Typer, env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_stake_distribute_treasury_claim_unstake(
    app: typer.Typer, env: dict[str, str], chain: Chain, deployment: Deployment
) -> None:
    manifest = deployment.result.manifest
    addresses = manifest.agents["scribe"]
    holder = dev_account(2)
    out = _run(app, env, "stake", "scribe", "1000", "--from", "2")
    assert f"staked 1,000 SCRIBE from {holder.address}" in out
    stake = chain.contract("AgentStake", addresses.stake)
    assert stake.functions.balanceOf(holder.address).call() == 1000 * TOKEN

    pay(chain, manifest, "scribe", 10 * USDC)
    out = _run(app, env, "distribute", "scribe")
    assert "scribe: distributed 10 USDC" in out
    assert "nothing to distribute" in _run(app, env, "distribute", "scribe")

    out = _run(app, env, "treasury", "scribe")
    assert "income      10 USDC distributed, 0 USDC pending" in out
    assert "stakers 5 USDC, operator 2 USDC, buyback 1 USDC, reserve 2 USDC" in out
    assert "reserve     2 USDC (spent by governance only)" in out
    assert "buyback     1 USDC in the fund; 0 USDC bought back" in out
    # the stakers' 5 USDC streams over scribe's hour: nothing per share yet
    assert "per share   0 USDC per staked SCRIBE" in out
    # (the stream's rate floors: its last unit is dust that stays in the stake)
    assert "streaming   4.999999 USDC still to stream to stakers until chain time" in out
    assert "(each distribution streams over 1h)" in out
    assert "operator    2 USDC owed to" in out
    assert "unstaking   a stake leaves 13m 1s after `unstake`" in out
    assert f"{holder.address}" in out

    advance_time(chain.w3, 3600)
    out = _run(app, env, "treasury", "scribe")
    assert "per share   0.00499999999999999" in out  # 0.005 less the stream's flooring
    assert "4.999999 USDC" in out.splitlines()[-1]
    usdc = chain.contract("MockUSDC", str(manifest.payment_token))
    before = usdc.functions.balanceOf(holder.address).call()
    out = _run(app, env, "claim", "scribe", "--from", "2")
    assert f"claimed 4.999999 USDC to {holder.address}" in out
    assert usdc.functions.balanceOf(holder.address).call() - before == 5 * USDC - 1
    assert "nothing to claim" in _run(app, env, "claim", "scribe", "--from", "2")

    out = _run(app, env, "unstake", "scribe", "--from", "2")
    assert "unstaked 1,000 SCRIBE" in out
    assert "cooling down for 13m 1s" in out
    assert stake.functions.balanceOf(holder.address).call() == 0
    assert "1,000 until" in _run(app, env, "treasury", "scribe").splitlines()[-1]
    advance_time(chain.w3, 13 * 60 + 2)
    out = _run(app, env, "withdraw", "scribe", "--from", "2")
    assert f"withdrew 1,000 SCRIBE to {holder.address}" in out

    operator = dev_account(0)
    before = usdc.functions.balanceOf(dev_account(5).address).call()
    out = _run(app, env, "operator-withdraw", "scribe", "--to", dev_account(5).address)
    assert "withdrew 2 USDC of operator share" in out
    assert usdc.functions.balanceOf(dev_account(5).address).call() - before == 2 * USDC
    assert f"nothing owed to {operator.address}" in _run(app, env, "operator-withdraw", "scribe")


def test_buyback_by_hand_burns(
    app: typer.Typer, env: dict[str, str], chain: Chain, deployment: Deployment
) -> None:
    manifest = deployment.result.manifest
    pay(chain, manifest, "scribe", 100 * USDC)
    _run(app, env, "distribute", "scribe")
    mature_price_floor(chain, manifest, "scribe")
    out = _run(app, env, "buyback", "scribe")
    assert "scribe: spent 10 USDC, burned" in out
    assert "SCRIBE burned)" in _run(app, env, "treasury", "scribe")
    assert "below the minimum" in _run(app, env, "buyback", "scribe")


def test_errors_are_one_line(app: typer.Typer, env: dict[str, str]) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["treasury", "nobody"], env=env)
    assert unknown.exit_code == 1
    assert "error: unknown agent 'nobody' (launched: auditor, scribe)" in unknown.output
    too_much = runner.invoke(app, ["stake", "scribe", "1e12", "--from", "2"], env=env)
    assert too_much.exit_code == 1
    assert "error: stake:" in too_much.output
    not_a_number = runner.invoke(app, ["stake", "scribe", "lots", "--from", "2"], env=env)
    assert not_a_number.exit_code == 1
    assert "'lots' is not an amount of tokens" in not_a_number.output
    nothing = runner.invoke(app, ["unstake", "scribe", "--from", "4"], env=env)
    assert nothing.exit_code == 1
    assert "stakes 0 token units" in nothing.output
