"""``agentdao up --workers 2`` on PostgreSQL: customers paying by voucher while one worker
is killed with SIGKILL lose nothing and pay nothing twice, and SIGTERM stops it all."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import httpx
from x402 import x402Client
from x402.http.clients.httpx import PaymentError, x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.batch_settlement.client.config import BatchSettlementEvmSchemeOptions
from x402.mechanisms.evm.batch_settlement.client.scheme import BatchSettlementEvmScheme

from agents.app.database import open_database
from agents.core.settings import Settings
from agents.runtime.tasks import TaskState, TaskStore
from contracts.accounts import dev_account
from contracts.chain import free_port
from contracts.client import Chain
from contracts.manifest import Manifest
from tests.agents.runtime.test_crash import AGENTDAO, wait_gone, wait_ready
from tests.conftest import SAMPLE_AGENTS
from tests.support.postgres import postgres_url

__all__ = ["postgres_url"]

HEADLINE = "/agents/scribe/skills/headline"
PRICE = 10_000
CUSTOMERS = (3, 4, 5, 6)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _workers(up: int) -> list[int]:
    """uvicorn's worker processes under ``agentdao up`` (not the chain, not
    multiprocessing's resource tracker)."""
    return [
        pid for pid in _children(up) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _stock_client(index: int, url: str) -> httpx.AsyncClient:
    client = x402Client()
    options = BatchSettlementEvmSchemeOptions(salt="0x" + secrets.token_hex(32))
    signer = EthAccountSigner(dev_account(index))
    client.register("eip155:*", BatchSettlementEvmScheme(signer, options))
    client.set_spend_controls(False)
    return httpx.AsyncClient(transport=x402AsyncTransport(client), base_url=url, timeout=30)


def test_a_worker_killed_mid_load_loses_nothing_and_charges_nothing_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    api_port, chain_port = free_port(), free_port()
    url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDAO_")}
    env |= {
        "AGENTDAO_HOME": str(home),
        "AGENTDAO_API_PORT": str(api_port),
        "AGENTDAO_CHAIN_PORT": str(chain_port),
        "AGENTDAO_AGENTS_FILE": str(SAMPLE_AGENTS),
        "AGENTDAO_DATABASE_URL": postgres_url,
        "AGENTDAO_CLAIM_SECONDS": "3600",  # the test claims itself, after the kill
        "AGENTDAO_EARNINGS_INTERVAL": "3600",
    }
    log = tmp_path / "up.log"
    with log.open("ab") as sink:
        up = subprocess.Popen(
            [AGENTDAO, "up", "--workers", "2"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_ready(url, up, log, timeout=180)
        deadline = time.monotonic() + 30
        while len(_workers(up.pid)) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        victim = _workers(up.pid)[0]
        answers = asyncio.run(_load_while_killing(url, victim))
        wait_gone(victim)
        assert victim not in _workers(up.pid)
        paid = [a for a in answers if a.status_code == 200]
        assert len(paid) >= 40
        # Whatever the killed worker was doing: no 5xx reached a customer as a charge.
        settings = Settings(home=home, database_url=postgres_url)
        tasks = TaskStore(open_database(settings)).list(limit=10_000)
        settled = {t.id for t in tasks if t.state is TaskState.SETTLED}
        receipts = [a.json()["receipt"] for a in paid]
        assert {r["task_id"] for r in receipts} <= settled
        vouchers = [r["settlement_tx"] for r in receipts]
        assert len(vouchers) == len(set(vouchers))  # no voucher charged twice

        # Claim what the channels owe: the treasury gets exactly the settled calls.
        manifest = Manifest.load(settings.manifest_path)
        assert manifest is not None
        assert manifest.payment_token is not None
        chain = Chain(f"http://127.0.0.1:{chain_port}", dev_account(0))
        usdc = chain.contract("MockUSDC", manifest.payment_token)
        treasury = manifest.agent("scribe").treasury
        before = usdc.functions.balanceOf(treasury).call()
        claimed = subprocess.run(
            [AGENTDAO, "claim-vouchers"], env=env, capture_output=True, text=True, timeout=120
        )
        assert claimed.returncode == 0, claimed.stderr
        charged = sum(
            t.amount for t in tasks if t.state is TaskState.SETTLED and t.agent == "scribe"
        )
        assert usdc.functions.balanceOf(treasury).call() - before == charged
        assert charged == PRICE * len(settled)
    finally:
        children = _children(up.pid)
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0, log.read_text()[-3000:]
    for pid in children:  # the surviving worker and the chain stopped with it
        wait_gone(pid)


async def _load_while_killing(url: str, victim: int) -> list[httpx.Response]:
    answers: list[httpx.Response] = []
    halfway = asyncio.Event()

    async def customer(index: int) -> None:
        async with _stock_client(index, url) as client:
            for i in range(20):
                try:
                    answers.append(await client.post(HEADLINE, json={"input": f"{index}:{i}"}))
                except (httpx.HTTPError, PaymentError):
                    # The killed worker's connection (x402's transport wraps a drop during
                    # its paid retry in PaymentError): the client just retries.
                    continue
                if sum(a.status_code == 200 for a in answers) >= 20:
                    halfway.set()

    async def killer() -> None:
        await halfway.wait()
        os.kill(victim, signal.SIGKILL)

    await asyncio.gather(killer(), *(customer(i) for i in CUSTOMERS))
    return answers
