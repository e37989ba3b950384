"""A real uvicorn server on anvil, driven by the `agentdao hire` and `agentdao tasks` commands."""

from __future__ import annotations

import asyncio
import socket
import threading
from decimal import Decimal
from typing import Any

import pytest
import uvicorn
from eth_typing import HexStr
from typer.testing import CliRunner
from web3 import Web3
from x402.schemas import PaymentPayload, PaymentRequirements

from agents.app.cli import app as cli
from agents.app.server import tcp_listener
from agents.runtime.customer import describe_agent, hire_over_http
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.chain import free_port
from tests.support.live_server import LiveServer

runner = CliRunner()


def env(live: LiveServer) -> dict[str, str]:
    return {
        "AGENTDAO_HOME": str(live.settings.home),
        "AGENTDAO_RPC_URL": live.runtime.chain.rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
        "AGENTDAO_DATABASE_URL": str(live.settings.database_url),
        "AGENTDAO_API_PORT": str(live.settings.api_port),
    }


def test_hire_pays_through_a_real_server_and_prints_result_and_receipt(live: LiveServer) -> None:
    payer = dev_account(4).address
    vault = live.runtime.agent("auditor").addresses.treasury
    before = live.runtime.payments.balance_of(payer), live.runtime.payments.balance_of(vault)
    result = runner.invoke(
        cli, ["hire", "auditor", "explain", "contract Vault {}", "--from", "4"], env=env(live)
    )
    assert result.exit_code == 0, result.output
    assert "persona: You are Auditor" in result.stdout
    assert f"paid    0.1 USDC from {payer}" in result.stdout
    tx = next(line.split()[-1] for line in result.stdout.splitlines() if "  tx  " in line)
    assert live.runtime.chain.w3.eth.get_transaction_receipt(HexStr(tx))["status"] == 1
    assert live.runtime.payments.balance_of(payer) == before[0] - 100_000
    assert live.runtime.payments.balance_of(vault) == before[1] + 100_000

    listed = runner.invoke(cli, ["tasks", "--agent", "auditor"], env=env(live))
    assert listed.exit_code == 0, listed.output
    assert "auditor/explain" in listed.stdout
    assert "settled" in listed.stdout
    assert tx in listed.stdout
    assert runner.invoke(cli, ["tasks", "--agent", "scribe"], env=env(live)).stdout.strip() == (
        "no tasks yet"
    )


def test_hire_errors_are_one_line_and_charge_nothing(live: LiveServer) -> None:
    payer = dev_account(4).address
    before = live.runtime.payments.balance_of(payer)
    cases = {
        ("nobody", "explain", "x"): "no agent named 'nobody'",
        ("auditor", "dance", "x"): "agent 'auditor' has no skill 'dance'",
        ("auditor", "explain", "[[offline:fail]]"): "HTTP 502: task ",
    }
    for args, message in cases.items():
        result = runner.invoke(cli, ["hire", *args, "--from", "4"], env=env(live))
        assert result.exit_code == 1
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("error: ")
        assert message in line
    too_dear = runner.invoke(
        cli, ["hire", "auditor", "review", "x", "--from", "4", "--max-price", "0.2"], env=env(live)
    )
    assert too_dear.exit_code == 1
    assert "more than --max-price 0.2" in too_dear.stderr
    assert live.runtime.payments.balance_of(payer) == before


def test_the_server_finishes_a_hire_in_flight_before_it_stops(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop signal (uvicorn's should_exit) while a hire is settling lets it complete."""
    settling = threading.Event()
    settle = live.runtime.payments.settle

    async def slow_settle(payment: PaymentPayload, wanted: PaymentRequirements) -> str:
        settling.set()
        await asyncio.sleep(1.0)
        return await settle(payment, wanted)

    monkeypatch.setattr(live.runtime.payments, "settle", slow_settle)
    answers: list[dict[str, Any]] = []

    def hire() -> None:
        agent = asyncio.run(describe_agent(live.url, "scribe"))
        answers.append(
            asyncio.run(
                hire_over_http(live.url, agent, "summarize", "x", dev_account(5), Decimal(1))
            )
        )

    payer = dev_account(5).address
    before = live.runtime.payments.balance_of(payer)
    worker = threading.Thread(target=hire)
    worker.start()
    assert settling.wait(20)
    live.server.should_exit = True
    worker.join(60)
    assert len(answers) == 1
    task = live.runtime.task(answers[0]["receipt"]["task_id"])
    assert task is not None
    assert task.state is TaskState.SETTLED
    assert live.runtime.payments.balance_of(payer) == before - 50_000


def test_worker_processes_answer_without_nagles_delay() -> None:
    """``up --workers N`` listens on a socket uvicorn binds with protocol 0; asyncio then
    left Nagle's algorithm on for every connection, and each keep-alive response waited
    ~40 ms for the client's delayed ACK (one client: 9 paid calls/s instead of 38)."""
    config = uvicorn.Config("agents.app.worker:app", host="127.0.0.1", port=free_port())
    listener = tcp_listener(config)

    async def accepted_nodelay() -> int:
        loop = asyncio.get_running_loop()
        option: asyncio.Future[int] = loop.create_future()

        class Report(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                option.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await loop.create_server(Report, sock=listener)
        _, writer = await asyncio.open_connection("127.0.0.1", config.port)
        try:
            return await asyncio.wait_for(option, 5)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accepted_nodelay()) != 0
