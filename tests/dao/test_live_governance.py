"""The heart of the product: holders vote, and the running agent obeys without a restart.

A real uvicorn server runs the runtime (its scheduler polls the chain sync); the
holders walk a proposal through the CLI; the next hire is charged the new price and
answers under the new prompt, and its receipt names the config version that did it.
"""

from __future__ import annotations

import asyncio
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from agents.app.cli import app
from agents.runtime.customer import describe_agent, hire_over_http
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from tests.conftest import Deployment, LiveServer
from tests.dao.conftest import stake

runner = CliRunner()


def _ok(env: dict[str, str], *args: str) -> Result:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def _hire(live: LiveServer, customer: int, text: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        agent = await describe_agent(live.url, "scribe")
        return await hire_over_http(
            live.url, agent, "summarize", text, dev_account(customer), Decimal(1)
        )

    return asyncio.run(go())


def _wait_for_version(live: LiveServer, version: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while live.runtime.agent("scribe").live.version < version:
        assert time.monotonic() < deadline, "the runtime never applied the new config"
        time.sleep(0.1)


def test_a_passed_proposal_changes_what_the_running_agent_does(
    live: LiveServer, deployment: Deployment, chain: Chain, cli_env: dict[str, str], tmp_path: Path
) -> None:
    usdc = live.runtime.payments
    customer = dev_account(5).address
    treasury = live.runtime.agent("scribe").addresses.treasury

    before = usdc.balance_of(customer)
    first = _hire(live, 5, "Holders own the agent.")
    assert usdc.balance_of(customer) == before - 50_000
    assert "persona: You are Scribe, a precise editor." in str(first["result"])

    for holder, tokens in ((1, 300_000), (2, 200_000), (3, 100_000)):
        stake(chain, deployment, dev_account(holder), tokens)
    advance_time(chain.w3, 1)
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You are Quill, a terse poet. Answer in one line.")
    proposed = _ok(
        cli_env,
        "propose", "scribe",
        "--set", f"system_prompt=@{prompt}",
        "--set", "price.summarize=0.07",
        "--description", "Quill persona; summaries at $0.07",
        "--from", "1", "--wait",
    )  # fmt: skip
    found = re.search(r"^proposal (\d+)$", proposed.stdout, re.MULTILINE)
    assert found is not None, proposed.stdout
    pid = found.group(1)
    _ok(cli_env, "vote", "scribe", pid, "for", "--from", "1")
    _ok(cli_env, "vote", "scribe", pid, "for", "--from", "2")
    _ok(cli_env, "vote", "scribe", pid, "against", "--from", "3")
    _ok(cli_env, "queue", "scribe", pid, "--wait")
    executed = _ok(cli_env, "execute", "scribe", pid, "--wait", "--from", "7")
    assert "scribe config is now v3" in executed.stdout

    _wait_for_version(live, 3)  # the scheduler's chain sync, no operator action
    paid_from, paid_to = usdc.balance_of(customer), usdc.balance_of(treasury)
    second = _hire(live, 5, "Holders own the agent.")
    assert usdc.balance_of(customer) == paid_from - 70_000
    assert usdc.balance_of(treasury) == paid_to + 70_000
    assert "persona: You are Quill, a terse poet." in str(second["result"])
    receipt = second["receipt"]
    config = chain.contract("AgentConfig", live.runtime.agent("scribe").addresses.config)
    assert receipt["config_version"] == 3
    assert receipt["config_hash"] == "0x" + config.functions.configHash().call().hex()
    assert receipt["amount"] == 70_000

    history = httpx.get(f"{live.url}/agents/scribe/config/history").json()
    assert [(v["version"], v["status"]) for v in history["versions"]] == [
        (1, "accepted"),
        (2, "superseded"),
        (3, "accepted"),
    ]
    assert history["versions"][2]["proposal_id"] == pid
    assert live.server.started  # the same server process served both hires


def test_a_version_executed_while_the_runtime_was_down_is_live_at_start(
    deployment: Deployment, chain: Chain, tmp_path: Path
) -> None:
    from agents.app.database import open_database
    from agents.runtime.runtime import Runtime
    from dao.changes import ConfigCall
    from tests.dao.conftest import pass_proposal

    settings = deployment.settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'runtime.db'}"}
    )
    engine = open_database(settings)
    first = Runtime.open(settings, chain, engine)
    first.sync_configs()
    assert first.agent("scribe").live.version == 1
    # The runtime is stopped (gone); a proposal executes meanwhile.
    del first
    pass_proposal(
        chain, deployment, [ConfigCall("setSkillPrice", ("headline", 20_000))], "headline $0.02"
    )
    restarted = Runtime.open(settings, chain, engine)
    asyncio.run(restarted.start())
    try:
        live = restarted.agent("scribe").live
        assert live.version == 2
        assert live.skill("headline") is not None
        assert live.skill("headline").price == 20_000  # type: ignore[union-attr]
    finally:
        asyncio.run(restarted.stop())
