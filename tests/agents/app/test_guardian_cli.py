"""The guardian stops an attack in flight: it cancels a queued proposal and pauses the agent
and its treasury; governance alone resumes them and can replace the guardian."""

from __future__ import annotations

import re

from typer.testing import CliRunner, Result
from web3 import Web3

from agents.app.cli import app
from agents.core.live_config import read_live_config
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.deploy import CANCELLER_ROLE
from dao.changes import ConfigCall, parse_changes
from tests.conftest import Deployment
from tests.dao.conftest import pass_proposal, stake

runner = CliRunner()
GUARDIAN = "9"  # agents.yaml: scribe's guardian is dev:9


def _run(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, list(args), env=env)


def _ok(env: dict[str, str], *args: str) -> Result:
    result = _run(env, *args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def test_the_guardian_cancels_a_queued_drain_of_the_reserve(
    chain: Chain, deployment: Deployment, cli_env: dict[str, str]
) -> None:
    stake(chain, deployment, dev_account(1), 300_000)
    advance_time(chain.w3, 1)
    proposed = _ok(
        cli_env,
        "propose",
        "scribe",
        "--set",
        "split.operator=90",
        "--set",
        "split.stakers=0",
        "--set",
        "split.reserve=0",
        "--set",
        "split.buyback=10",
        "-d",
        "everything to the operator",
        "--from",
        "1",
        "--wait",
    )
    pid = re.search(r"^proposal (\d+)$", proposed.stdout, re.MULTILINE)
    assert pid is not None
    _ok(cli_env, "vote", "scribe", pid.group(1), "for", "--from", "1")
    _ok(cli_env, "queue", "scribe", pid.group(1), "--wait")

    # only the guardian may cancel
    refused = _run(cli_env, "cancel", "scribe", pid.group(1), "--from", "4")
    assert refused.exit_code == 1
    assert "not this agent's guardian" in refused.stderr
    _ok(cli_env, "cancel", "scribe", pid.group(1), "--from", GUARDIAN)

    listed = _ok(cli_env, "proposals", "scribe").stdout
    assert "[canceled]" in listed
    assert "by the guardian" in listed
    late = _run(cli_env, "execute", "scribe", pid.group(1), "--wait")
    assert late.exit_code == 1
    assert "canceled" in late.stderr
    config = chain.contract("AgentConfig", deployment.result.manifest.agents["scribe"].config)
    assert config.functions.split().call()[1] == 2000  # the operator still has 20%


def test_the_guardian_pauses_agent_and_treasury_and_governance_resumes_both(
    chain: Chain, deployment: Deployment, cli_env: dict[str, str]
) -> None:
    addresses = deployment.result.manifest.agents["scribe"]
    config = chain.contract("AgentConfig", addresses.config)
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    refused = _run(cli_env, "pause", "scribe", "--from", "3")
    assert refused.exit_code == 1
    assert "not this agent's guardian" in refused.stderr

    out = _ok(cli_env, "pause", "scribe", "--from", GUARDIAN).stdout
    assert "serving and treasury outflows stopped" in out
    assert config.functions.paused().call()
    assert treasury.functions.paused().call()
    assert "already paused" in _ok(cli_env, "pause", "scribe", "--from", GUARDIAN).stdout

    pass_proposal(
        chain,
        deployment,
        [ConfigCall("setPaused", (False,)), ConfigCall("unpause", (), "treasury")],
        "resume scribe",
    )
    assert not config.functions.paused().call()
    assert not treasury.functions.paused().call()


def test_governance_replaces_the_guardian_in_config_and_timelock(
    chain: Chain, deployment: Deployment
) -> None:
    addresses = deployment.result.manifest.agents["scribe"]
    config = chain.contract("AgentConfig", addresses.config)
    timelock = chain.contract("AgentTimelock", addresses.timelock)
    old, new = dev_account(9).address, dev_account(8).address
    assert timelock.functions.hasRole(CANCELLER_ROLE, old).call()

    calls = parse_changes([f"guardian={new}"], read_live_config(config), guardian=old)
    assert [c.target for c in calls] == ["config", "timelock", "timelock"]
    pass_proposal(chain, deployment, calls, "new guardian")
    assert Web3.to_checksum_address(config.functions.guardian().call()) == new
    assert not timelock.functions.hasRole(CANCELLER_ROLE, old).call()
    assert timelock.functions.hasRole(CANCELLER_ROLE, new).call()


def test_the_guardian_cannot_cancel_its_own_removal(
    chain: Chain, deployment: Deployment, cli_env: dict[str, str]
) -> None:
    stake(chain, deployment, dev_account(1), 300_000)
    advance_time(chain.w3, 1)
    proposed = _ok(
        cli_env,
        "propose",
        "scribe",
        "--set",
        "guardian=none",
        "-d",
        "retire the guardian",
        "--from",
        "1",
        "--wait",
    )
    pid = re.search(r"^proposal (\d+)$", proposed.stdout, re.MULTILINE)
    assert pid is not None
    assert "may no longer cancel queued proposals (guardian)" in proposed.stdout
    _ok(cli_env, "vote", "scribe", pid.group(1), "for", "--from", "1")
    _ok(cli_env, "queue", "scribe", pid.group(1), "--wait")
    refused = _run(cli_env, "cancel", "scribe", pid.group(1), "--from", GUARDIAN)
    assert refused.exit_code == 1
    assert "cannot cancel its own removal" in refused.stderr
    _ok(cli_env, "execute", "scribe", pid.group(1), "--wait")
    addresses = deployment.result.manifest.agents["scribe"]
    config = chain.contract("AgentConfig", addresses.config)
    timelock = chain.contract("AgentTimelock", addresses.timelock)
    assert config.functions.guardian().call() == "0x0000000000000000000000000000000000000000"
    assert not timelock.functions.hasRole(CANCELLER_ROLE, dev_account(9).address).call()
