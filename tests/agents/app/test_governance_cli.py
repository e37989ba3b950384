"""Holders walk proposals through the CLI on anvil; the sync applies what passed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from eth_account import Account
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from agents.app import governance_api as api
from agents.app.cli import app
from agents.core.live_config import read_live_config
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from dao.history import VersionStatus, config_history
from dao.sync import ConfigSync
from tests.conftest import Deployment
from tests.dao.conftest import DictSink, stake

runner = CliRunner()


def _run(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, list(args), env=env)


def _ok(env: dict[str, str], *args: str) -> Result:
    result = _run(env, *args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def _proposal_id(result: Result) -> str:
    found = re.search(r"^proposal (\d+)$", result.stdout, re.MULTILINE)
    assert found is not None, result.stdout
    return found.group(1)


def _holders_stake(chain: Chain, deployment: Deployment) -> None:
    stake(chain, deployment, dev_account(1), 300_000)
    stake(chain, deployment, dev_account(2), 200_000)
    stake(chain, deployment, dev_account(3), 100_000)
    advance_time(chain.w3, 1)


def _sync(deployment: Deployment, engine: Engine, sink: DictSink) -> ConfigSync:
    return ConfigSync(
        deployment.chain.rpc_url, engine, deployment.result.manifest.agents, sink, confirmations=0
    )


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_passed_proposal_changes_prompt_and_price_and_the_sync_applies_it(
    deployment: Deployment,
    chain: Chain,
    cli_env: dict[str, str],
    engine: Engine,
    sink: DictSink,
    tmp_path: Path,
) -> None:
    _holders_stake(chain, deployment)
    sync = _sync(deployment, engine, sink)
    assert [a.version for a in sync.poll_once() if a.agent == "scribe"] == [1]
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You are Scribe. Answer in exactly one sentence.")

    proposed = _ok(
        cli_env,
        "propose", "scribe",
        "--set", f"system_prompt=@{prompt}",
        "--set", "price.summarize=0.07",
        "--description", "One-sentence answers; summaries cost $0.07",
        "--from", "1",
        "--wait",
    )  # fmt: skip
    pid = _proposal_id(proposed)
    assert "summarize price 0.05 -> 0.07 USDC" in proposed.stdout
    assert 'system prompt "You are Scribe, a precise editor.' in proposed.stdout

    assert "voted for" in _ok(cli_env, "vote", "scribe", pid, "for", "--from", "1").stdout
    _ok(cli_env, "vote", "scribe", pid[:8], "for", "--from", "2", "--reason", "fair price")
    tallied = _ok(cli_env, "vote", "scribe", pid, "against", "--from", "3")
    assert "for 500,000, against 100,000, abstain 0" in tallied.stdout
    listed = _ok(cli_env, "proposals", "scribe")
    assert f"proposal {pid}  [active]" in listed.stdout
    assert "changes   summarize price 0.05 -> 0.07 USDC" in listed.stdout
    # 4% of SCRIBE's 1,000,000 supply, not of the 600,000 staked
    assert "quorum 40,000 (reached)" in listed.stdout

    early = _run(cli_env, "queue", "scribe", pid)
    assert "voting on proposal" in _one_error_line(early)
    _ok(cli_env, "queue", "scribe", pid, "--wait")
    not_yet = _run(cli_env, "execute", "scribe", pid)
    assert "in the timelock until" in _one_error_line(not_yet)
    executed = _ok(cli_env, "execute", "scribe", pid, "--wait", "--from", "7")
    # Two changes, two writes in one transaction: v2 (prompt) and v3 (prompt + price).
    assert "scribe config is now v3" in executed.stdout
    assert "[executed]" in _ok(cli_env, "proposals", "scribe").stdout

    applied = sync.poll_once()
    assert [(a.agent, a.version, a.status) for a in applied] == [
        ("scribe", 2, VersionStatus.SUPERSEDED),
        ("scribe", 3, VersionStatus.ACCEPTED),
    ]
    assert sink.received[-1] == ("scribe", 3)
    assert ("scribe", 2) not in sink.received  # never served half a proposal
    live = sink.live["scribe"]
    assert live.version == 3
    assert live.system_prompt == "You are Scribe. Answer in exactly one sentence."
    assert live.skill("summarize") is not None
    assert live.skill("summarize").price == 70_000  # type: ignore[union-attr]
    assert live.skill("headline").price == 10_000  # type: ignore[union-attr]
    chain_config = chain.contract("AgentConfig", deployment.result.manifest.agents["scribe"].config)
    assert live.config_hash == read_live_config(chain_config).config_hash

    history = config_history(engine, "scribe")
    assert history.live_version == 3
    assert [v.status for v in history.versions] == [
        VersionStatus.ACCEPTED,
        VersionStatus.SUPERSEDED,
        VersionStatus.ACCEPTED,
    ]
    v3 = history.versions[-1]
    assert v3.proposal_id == pid
    assert history.versions[1].proposal_id == pid
    assert v3.tx_hash in executed.stdout
    assert len(v3.changes) == 2
    assert v3.changes[0].startswith('system prompt "You are Scribe, a precise editor.')
    assert v3.changes[1] == "summarize price 0.05 -> 0.07 USDC"
    assert history.versions[0].proposal_id is None

    web = FastAPI()
    web.include_router(api.router)
    web.dependency_overrides[api.get_engine] = lambda: engine
    with TestClient(web) as client:
        body = client.get("/agents/scribe/config/history").json()
        assert body["live_version"] == 3
        assert [v["version"] for v in body["versions"]] == [1, 2, 3]
        assert [v["status"] for v in body["versions"]] == ["accepted", "superseded", "accepted"]
        assert body["versions"][2]["proposal_id"] == pid
        assert body["versions"][2]["config"]["skills"][0]["price"] == 70_000
        assert client.get("/agents/nobody/config/history").status_code == 404


def test_defeated_proposal_changes_nothing(
    deployment: Deployment,
    chain: Chain,
    cli_env: dict[str, str],
    engine: Engine,
    sink: DictSink,
) -> None:
    _holders_stake(chain, deployment)
    proposed = _ok(
        cli_env, "propose", "scribe", "--set", "price.summarize=0.09",
        "-d", "Raise to $0.09", "--from", "3", "--wait",
    )  # fmt: skip
    pid = _proposal_id(proposed)
    _ok(cli_env, "vote", "scribe", pid, "for", "--from", "3")
    _ok(cli_env, "vote", "scribe", pid, "against", "--from", "1")
    _ok(cli_env, "vote", "scribe", pid, "abstain", "--from", "2")
    refused = _run(cli_env, "queue", "scribe", pid, "--wait")
    line = _one_error_line(refused)
    assert "is defeated" in line
    assert "for 100,000, against 300,000, abstain 200,000" in line
    config = chain.contract("AgentConfig", deployment.result.manifest.agents["scribe"].config)
    assert config.functions.version().call() == 1
    assert config.functions.priceOf("summarize").call() == 50_000
    _sync(deployment, engine, sink).poll_once()
    assert [v.version for v in config_history(engine, "scribe").versions] == [1]
    assert sink.live["scribe"].skill("summarize").price == 50_000  # type: ignore[union-attr]


def test_holder_below_threshold_cannot_propose(
    deployment: Deployment, chain: Chain, cli_env: dict[str, str]
) -> None:
    stake(chain, deployment, dev_account(3), 999)  # threshold: 1,000 staked SCRIBE
    advance_time(chain.w3, 1)
    nonce = chain.w3.eth.get_transaction_count(dev_account(3).address)
    refused = _run(
        cli_env, "propose", "scribe", "--set", "price.summarize=0.06", "-d", "x", "--from", "3"
    )
    line = _one_error_line(refused)
    assert "has 999 votes; proposing to scribe needs 1,000" in line
    assert chain.w3.eth.get_transaction_count(dev_account(3).address) == nonce


def test_votes_after_the_deadline_do_not_count(
    deployment: Deployment, chain: Chain, cli_env: dict[str, str]
) -> None:
    _holders_stake(chain, deployment)
    pid = _proposal_id(
        _ok(cli_env, "propose", "scribe", "--set", "paused=true", "-d", "pause", "--from", "1")
    )
    pending = _run(cli_env, "vote", "scribe", pid, "for", "--from", "2")
    assert "opens" in _one_error_line(pending)
    _ok(cli_env, "vote", "scribe", pid, "for", "--from", "1", "--wait")
    spec = deployment.agents_file.agents["scribe"].governance
    advance_time(chain.w3, int(spec.voting_period) + 1)
    late = _run(cli_env, "vote", "scribe", pid, "against", "--from", "2")
    assert "closed" in _one_error_line(late)
    governor = chain.contract("AgentGovernor", deployment.result.manifest.agents["scribe"].governor)
    against, for_, _ = governor.functions.proposalVotes(int(pid)).call()
    assert (against, for_) == (0, 300_000 * 10**18)
    assert not governor.functions.hasVoted(int(pid), dev_account(2).address).call()


def test_model_the_runtime_cannot_run_is_stored_rejected_and_old_config_stays(
    deployment: Deployment,
    chain: Chain,
    cli_env: dict[str, str],
    engine: Engine,
    sink: DictSink,
) -> None:
    _holders_stake(chain, deployment)
    sync = _sync(deployment, engine, sink)
    sync.poll_once()
    proposed = _ok(
        cli_env, "propose", "scribe", "--set", "model=anthropic:claude-x",
        "-d", "switch model", "--from", "1", "--wait",
    )  # fmt: skip
    assert "warning: this install cannot run it" in proposed.stderr
    pid = _proposal_id(proposed)
    _ok(cli_env, "vote", "scribe", pid, "for", "--from", "1")
    _ok(cli_env, "queue", "scribe", pid, "--wait")
    _ok(cli_env, "execute", "scribe", pid, "--wait")

    applied = sync.poll_once()
    assert [(a.version, a.status) for a in applied] == [(2, VersionStatus.REJECTED)]
    assert sink.live["scribe"].version == 1
    assert sink.live["scribe"].model == "offline:echo-1"
    history = config_history(engine, "scribe")
    assert history.live_version == 1
    rejected = history.versions[-1]
    assert rejected.status == VersionStatus.REJECTED
    assert rejected.reason is not None
    assert "anthropic" in rejected.reason
    assert rejected.changes == ["model offline:echo-1 -> anthropic:claude-x"]


def test_bad_changes_are_refused_before_anything_is_sent(
    deployment: Deployment, chain: Chain, cli_env: dict[str, str]
) -> None:
    _holders_stake(chain, deployment)
    nonce = chain.w3.eth.get_transaction_count(dev_account(1).address)
    cases = {
        ("price.translate=0.1",): "no skill 'translate'",
        ("split.stakers=60",): "split must sum to 100%",
        ("temperature=hot",): "'hot' is not a temperature",
        ("model=gpt4",): "expected 'provider:model'",
        ("price.summarize=5000",): "outside this agent's price band",
        ("price.summarize=1e30",): "a number too large or too precise to use",
    }
    for changes, message in cases.items():
        args = [a for c in changes for a in ("--set", c)]
        result = _run(cli_env, "propose", "scribe", *args, "-d", "bad", "--from", "1")
        assert message in _one_error_line(result), changes
    unknown = _run(cli_env, "vote", "nobody", "1", "for")
    assert "unknown agent 'nobody'" in _one_error_line(unknown)
    missing = _run(cli_env, "execute", "scribe", "123456789")
    assert "no proposal 123456789" in _one_error_line(missing)
    assert chain.w3.eth.get_transaction_count(dev_account(1).address) == nonce


def test_from_takes_a_keystore_unlocked_by_the_env_password(
    deployment: Deployment, chain: Chain, cli_env: dict[str, str], tmp_path: Path
) -> None:
    _holders_stake(chain, deployment)
    keystore = tmp_path / "bob.json"
    keystore.write_text(json.dumps(Account.encrypt(dev_account(2).key, "s3cret")))
    pid = _proposal_id(
        _ok(
            cli_env, "propose", "scribe", "--set", "paused=true", "-d", "p", "--from", "1", "--wait"
        )
    )
    locked = _run(cli_env, "vote", "scribe", pid, "for", "--from", str(keystore))
    assert "needs a password (AGENTDAO_KEYSTORE_PASSWORD)" in _one_error_line(locked)
    wrong = _run(
        {**cli_env, "AGENTDAO_KEYSTORE_PASSWORD": "nope"},
        "vote", "scribe", pid, "for", "--from", str(keystore),
    )  # fmt: skip
    assert "cannot unlock keystore" in _one_error_line(wrong)
    _ok(
        {**cli_env, "AGENTDAO_KEYSTORE_PASSWORD": "s3cret"},
        "vote", "scribe", pid, "for", "--from", str(keystore),
    )  # fmt: skip
    governor = chain.contract("AgentGovernor", deployment.result.manifest.agents["scribe"].governor)
    assert governor.functions.hasVoted(int(pid), dev_account(2).address).call()
