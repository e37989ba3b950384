"""SIGKILL the runtime in the middle of a batch of paid hires, start it again, and check
the chain against the task table: no customer is charged without a stored result.

Then SIGKILL `agentdao up` and its embedded chain together: the chain comes back from
state saved a moment earlier, without the last settlements, and the task table must not
claim any settlement the chain lacks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD
from x402.http.clients.httpx import PaymentError

from agents.app.database import open_database
from agents.core.settings import Settings
from agents.runtime.tasks import Task, TaskState, TaskStore
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain, free_port
from contracts.client import Chain
from contracts.manifest import Manifest
from tests.conftest import SAMPLE_AGENTS, settings_for
from tests.support.customers import paying_client

pytestmark = pytest.mark.anyio

AGENTDAO = str(Path(sys.executable).parent / "agentdao")
HIRES = 32
CUSTOMERS = range(1, 9)


def start_runtime(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen([AGENTDAO, "up"], env=env, stdout=sink, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/agents", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"runtime not ready:\n{log.read_text()}")


async def hire_batch(
    url: str, process: subprocess.Popen[bytes]
) -> tuple[list[dict[str, object]], int]:
    """Fire HIRES concurrent paid hires; SIGKILL the runtime when the first one is paid.

    Returns the answers that arrived and how many hires the kill interrupted."""
    answers: list[dict[str, object]] = []
    interrupted = 0
    first_paid = asyncio.Event()

    async def one(i: int) -> None:
        nonlocal interrupted
        customer = CUSTOMERS[i % len(CUSTOMERS)]
        agent, skill = ("scribe", "summarize") if i % 2 else ("auditor", "explain")
        async with paying_client(customer, httpx.AsyncHTTPTransport(), url) as client:
            try:
                response = await client.post(
                    f"/agents/{agent}/skills/{skill}", json={"input": f"task {i}"}
                )
            except Exception:  # the runtime died under this request
                interrupted += 1
                return
        if response.status_code == 200:
            answers.append(response.json())
            first_paid.set()

    async def killer() -> None:
        await first_paid.wait()
        process.send_signal(signal.SIGKILL)

    kill = asyncio.create_task(killer())
    await asyncio.gather(*(one(i) for i in range(HIRES)))
    kill.cancel()
    return answers, interrupted


async def test_a_sigkill_mid_batch_leaves_no_customer_charged_without_a_result(
    anvil: EmbeddedChain, chain: Chain, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings_for(anvil.rpc_url, home)
    env = os.environ | {
        "AGENTDAO_HOME": str(home),
        "AGENTDAO_RPC_URL": anvil.rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
        "AGENTDAO_AGENTS_FILE": str(SAMPLE_AGENTS),
        "AGENTDAO_API_PORT": str(port),
    }
    log = tmp_path / "runtime.log"
    start_block = chain.w3.eth.block_number

    process = start_runtime(env, log)  # launches a fresh deployment into `home`, then serves
    try:
        wait_ready(url, process, log)
        answers, interrupted = await hire_batch(url, process)
        assert process.wait(10) == -signal.SIGKILL
        assert answers, "no hire completed before the kill"
        assert interrupted > 0, "the kill came after the batch: nothing was in flight"

        process = start_runtime(env, log)  # recovery runs before the server accepts hires
        wait_ready(url, process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)

    manifest = Manifest.load(settings.manifest_path)
    assert manifest is not None
    assert manifest.payment_token is not None
    usdc = chain.contract("MockUSDC", manifest.payment_token)
    treasuries = {a.treasury: name for name, a in manifest.agents.items()}
    tasks = TaskStore(open_database(settings)).list(limit=1000)
    by_payment = {(t.payer, t.nonce): t for t in tasks}

    # Every transfer into a treasury is a settled task with its stored result.
    charged: Counter[str] = Counter()
    settled_txs = set()
    for log_entry in usdc.events.Transfer().get_logs(from_block=start_block + 1):
        to, value = log_entry.args["to"], log_entry.args["value"]
        if to not in treasuries:
            continue
        receipt = chain.w3.eth.get_transaction_receipt(log_entry.transactionHash)
        [used] = usdc.events.AuthorizationUsed().process_receipt(receipt, errors=DISCARD)
        task = by_payment.get((used.args["authorizer"], "0x" + used.args["nonce"].hex()))
        assert task is not None, f"charged without a task: {log_entry.transactionHash.hex()}"
        assert task.state is TaskState.SETTLED
        assert task.result
        assert task.agent == treasuries[to]
        assert task.amount == value
        assert task.settlement_tx == log_entry.transactionHash.to_0x_hex()
        charged[task.payer] += value
        settled_txs.add(task.settlement_tx)

    # ...and every settled task is such a transfer; nothing is left in flight.
    states = Counter(t.state for t in tasks)
    assert {t.settlement_tx for t in tasks if t.state is TaskState.SETTLED} == settled_txs
    assert not {s for s in states if s not in {TaskState.SETTLED, TaskState.FAILED}}, states
    for answer in answers:
        receipt_doc = answer["receipt"]
        assert isinstance(receipt_doc, dict)
        assert receipt_doc["settlement_tx"] in settled_txs
    # Customers paid exactly for their settled tasks (the restart's launch tops dev
    # accounts up again, so count what left their accounts rather than their balances).
    paid: Counter[str] = Counter()
    for log_entry in usdc.events.Transfer().get_logs(from_block=start_block + 1):
        paid[log_entry.args["from"]] += log_entry.args["value"]
    customers = [dev_account(i).address for i in CUSTOMERS]
    assert {c: paid[c] for c in customers} == {c: charged[c] for c in customers}
    assert sum(charged.values()) > 0


# --- kill -9 of the runtime and its embedded chain together --------------------------


def landed(chain: Chain, task: Task) -> bool:
    """True when the task's settlement transaction is on ``chain``."""
    if task.settlement_tx is None:
        return False
    try:
        chain.w3.eth.get_transaction_receipt(HexBytes(task.settlement_tx))
    except TransactionNotFound:
        return False
    return True


def read_pid(path: Path) -> int:
    pid = int(path.read_text().strip())
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"anvil")
    return pid


def wait_gone(pid: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while Path(f"/proc/{pid}").exists():
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
        if stat.rsplit(")", 1)[1].split()[0] == "Z":  # a zombie holds no port
            return
        assert time.monotonic() < deadline, f"pid {pid} still runs"
        time.sleep(0.05)


async def hire_until_killed(url: str, kill: Callable[[], None], paid_before_kill: int) -> int:
    """Customers hire in a loop; right after the ``paid_before_kill``-th paid answer, while
    others are still in flight, ``kill`` runs. Returns how many hires were paid."""
    paid = 0
    killed = asyncio.Event()

    async def customer(index: int) -> None:
        nonlocal paid
        async with paying_client(index, httpx.AsyncHTTPTransport(), url) as client:
            i = 0
            while not killed.is_set():
                i += 1
                agent, skill = ("scribe", "headline") if i % 2 else ("auditor", "explain")
                try:
                    response = await client.post(
                        f"/agents/{agent}/skills/{skill}", json={"input": f"{index}/{i}"}
                    )
                except (httpx.HTTPError, PaymentError):  # the runtime died under this request
                    return
                if response.status_code == 200:
                    paid += 1
                    if paid >= paid_before_kill and not killed.is_set():
                        kill()  # no await in between: the settlement is milliseconds old
                        killed.set()

    await asyncio.gather(*(customer(index) for index in CUSTOMERS))
    return paid


def wait_saved_after(chain_dir: Path, moment: float, timeout: float = 60.0) -> None:
    """Wait until anvil wrote its state (or a save in progress) after ``moment``: a kill
    before the first save after launch would lose the launch itself, which is another
    test's crash (a loaded machine can delay anvil's two-second save)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.stat().st_mtime > moment for p in chain_dir.glob("*.json*")):
            return
        time.sleep(0.2)
    raise AssertionError(f"anvil saved nothing in {chain_dir} for {timeout} s")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_kill_9_of_runtime_and_chain_together_leaves_no_settled_task_without_its_transfer(
    tmp_path: Path,
) -> None:
    """anvil saves its state every few seconds; killed with the runtime, it comes back
    without the last blocks, and with them settlements the database recorded. Recovery
    must reopen those tasks and settle them again (or fail them uncharged)."""
    home = tmp_path / "home"
    api_port, chain_port = free_port(), free_port()
    url, rpc_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{chain_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDAO_")}
    env |= {
        "AGENTDAO_HOME": str(home),
        "AGENTDAO_API_PORT": str(api_port),
        "AGENTDAO_CHAIN_PORT": str(chain_port),
        "AGENTDAO_AGENTS_FILE": str(SAMPLE_AGENTS),
        "AGENTDAO_EARNINGS_INTERVAL": "3600",
    }
    log = tmp_path / "up.log"
    settings = Settings(home=home)
    process = start_runtime(env, log)
    anvil_pid: int | None = None
    try:
        wait_ready(url, process, log, timeout=180)
        anvil_pid = read_pid(home / "chain" / "anvil.pid")
        wait_saved_after(home / "chain", time.time())  # the launch is in the saved state
        chain = Chain(rpc_url, dev_account(0))
        manifest = Manifest.load(settings.manifest_path)
        assert manifest is not None
        assert manifest.payment_token is not None
        usdc = chain.contract("MockUSDC", manifest.payment_token)
        customers = [dev_account(i).address for i in CUSTOMERS]
        before = {c: usdc.functions.balanceOf(c).call() for c in customers}
        start_block = chain.w3.eth.block_number

        def kill_both() -> None:
            assert anvil_pid is not None
            # anvil first: killed after `up`, it would get its parent-death SIGTERM and
            # save its state, which is not the crash under test.
            os.kill(anvil_pid, signal.SIGKILL)
            process.send_signal(signal.SIGKILL)

        paid = asyncio.run(hire_until_killed(url, kill_both, paid_before_kill=12))
        assert process.wait(10) == -signal.SIGKILL
        wait_gone(anvil_pid)
        assert paid >= 12
        before_restart = {t.id: t for t in TaskStore(open_database(settings)).list(limit=1000)}

        process = start_runtime(env, log)  # the same home: the chain restarts from its state
        wait_ready(url, process, log, timeout=180)
        anvil_pid = read_pid(home / "chain" / "anvil.pid")

        tasks = TaskStore(open_database(settings)).list(limit=1000)
        output = log.read_text(errors="replace")
        assert "already launched" in output  # the saved state still holds the agents
        reopened = {t.id for t in tasks if f"task {t.id}: settlement" in output}
        assert all(before_restart[i].state is TaskState.SETTLED for i in reopened)
        # Usually the kill loses a few settlements; rarely anvil saved between the last one
        # and the kill and nothing was lost. Either way every promise below must hold.

        charged: Counter[str] = Counter()
        for task in tasks:
            assert task.state in {TaskState.SETTLED, TaskState.FAILED}, task
            answer = httpx.get(f"{url}/tasks/{task.id}", timeout=10).json()
            assert answer["charged"] is (task.state is TaskState.SETTLED)
            if task.state is TaskState.FAILED:
                assert answer["result"] is None
                assert not usdc.functions.authorizationState(
                    task.payer, bytes.fromhex(task.nonce[2:])
                ).call(), f"failed task {task.id} was charged"
                continue
            # Settled: its transaction is on chain, succeeded, and spent this payment; or
            # (anvil saves storage and blocks apart, so a save can hold the transfer
            # without its block) at least its authorization is spent on chain.
            assert answer["result"] == task.result
            assert task.settlement_tx is not None
            try:
                receipt = chain.w3.eth.get_transaction_receipt(HexBytes(task.settlement_tx))
            except TransactionNotFound:
                assert usdc.functions.authorizationState(
                    task.payer, bytes.fromhex(task.nonce[2:])
                ).call(), f"task {task.id} is settled with no transfer on chain"
            else:
                assert receipt["status"] == 1
                [used] = usdc.events.AuthorizationUsed().process_receipt(receipt, errors=DISCARD)
                assert (used.args["authorizer"], "0x" + used.args["nonce"].hex()) == (
                    task.payer,
                    task.nonce,
                )
            charged[task.payer] += task.amount
        # Each customer's balance moved by exactly its settled tasks (plus what the
        # restart's launch minted to top dev accounts up).
        minted: Counter[str] = Counter()
        for entry in usdc.events.Transfer().get_logs(from_block=start_block + 1):
            if int(entry.args["from"], 16) == 0:
                minted[entry.args["to"]] += entry.args["value"]
        after = {c: usdc.functions.balanceOf(c).call() for c in customers}
        assert {c: after[c] - before[c] for c in customers} == {
            c: minted[c] - charged[c] for c in customers
        }
        assert sum(charged.values()) > 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        if anvil_pid is not None and Path(f"/proc/{anvil_pid}").exists():
            os.kill(anvil_pid, signal.SIGKILL)
