"""The dashboard's server side: the page and its files, the config that says how it
signs, the unsigned steps a holder's wallet sends, the embedded chain's dev door, and
the event stream. (The page itself, in a browser: ``test_dashboard_browser.py``.)"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agents.app import problems, web
from agents.runtime.runtime import Runtime
from contracts.accounts import dev_account
from tests.conftest import LiveServer
from tests.support.customers import paying_client

HOLDER = dev_account(1).address


def rpc(base: str, method: str, *params: Any) -> Any:
    """One call through the page's dev door, as the page's dev-account provider makes it."""
    answer = httpx.post(
        f"{base}/dashboard/chain",
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert "error" not in document, document
    return document["result"]


def send_all(base: str, prepared: dict[str, Any], sender: str) -> None:
    """Send a prepared step's transactions in order, each after the last one landed."""
    for tx in prepared["transactions"]:
        tx_hash = rpc(
            base, "eth_sendTransaction", {"from": sender, "to": tx["to"], "data": tx["data"]}
        )
        receipt = rpc(base, "eth_getTransactionReceipt", tx_hash)
        assert receipt is not None, tx["what"]
        assert receipt["status"] == "0x1", (tx["what"], receipt)


def prepare(base: str, agent: str, step: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{base}/agents/{agent}/transactions/{step}", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    prepared: dict[str, Any] = answer.json()
    return prepared


def test_the_page_and_its_modules_are_served_from_the_runtime(live: LiveServer) -> None:
    page = httpx.get(f"{live.url}/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/app.js"' in page.text
    for name in ("app.js", "wallet.js", "charts.js", "style.css"):
        assert httpx.get(f"{live.url}/web/{name}", timeout=10).status_code == 200, name


def test_on_the_embedded_chain_the_page_may_act_as_dev_accounts_1_to_9(live: LiveServer) -> None:
    config = httpx.get(f"{live.url}/dashboard/config", timeout=10).json()
    assert config["local"] is True
    assert config["chain_id"] == 31337
    assert config["signer"] == "dev-accounts"
    assert [a["index"] for a in config["dev_accounts"]] == list(range(1, 10))
    assert config["dev_accounts"][0]["address"] == HOLDER
    assert config["agents"] == ["auditor", "scribe"]
    # the runtime's own sender is never offered, nor any method beyond the page's needs
    door = f"{live.url}/dashboard/chain"
    tx = {"from": dev_account(0).address, "to": HOLDER, "value": "0x1"}
    sent = httpx.post(door, json={"method": "eth_sendTransaction", "params": [tx]}, timeout=10)
    assert (sent.status_code, sent.json()["reason"]) == (403, "not_allowed")
    other = httpx.post(door, json={"method": "anvil_setBalance", "params": []}, timeout=10)
    assert other.status_code == 403


def _app_on_chain(chain_id: int) -> FastAPI:
    """The dashboard's routes over a runtime stand-in on chain ``chain_id``."""
    runtime = SimpleNamespace(
        chain=SimpleNamespace(chain_id=chain_id, rpc_url="http://127.0.0.1:9"),
        payments=SimpleNamespace(
            network=f"eip155:{chain_id}",
            token=SimpleNamespace(address="0x" + "ab" * 20, symbol="USDC", decimals=6),
        ),
        agents={"scribe": None},
    )
    app = FastAPI()
    problems.install(app)
    app.state.runtime = cast(Runtime, runtime)
    web.install(app)
    return app


@pytest.mark.parametrize("chain_id", [8453, 1, 84532])
def test_off_the_local_chain_no_dev_account_signer_is_offered(chain_id: int) -> None:
    """Base, mainnet, a testnet: the page gets no dev account and signs with the
    visitor's wallet; the dev door and the clock answer 403 whatever is asked."""
    client = TestClient(_app_on_chain(chain_id))
    config = client.get("/dashboard/config").json()
    assert config["local"] is False
    assert config["dev_accounts"] == []
    assert config["signer"] == "injected-wallet"
    for method in ("eth_chainId", "eth_sendTransaction", "eth_signTypedData_v4"):
        refused = client.post("/dashboard/chain", json={"method": method, "params": []})
        assert (refused.status_code, refused.json()["reason"]) == (403, "not_local")
    wait = client.post("/dashboard/wait", json={"agent": "scribe", "proposal": "1234567"})
    assert (wait.status_code, wait.json()["reason"]) == (403, "not_local")
    # and the page itself holds no key to fall back on
    for name in web.PAGE_DIR.glob("*.js"):
        source = name.read_text()
        assert "privateKey" not in source
        for index in range(10):
            assert dev_account(index).key.hex().removeprefix("0x") not in source


def test_a_holder_walks_a_price_change_through_unsigned_transactions(live: LiveServer) -> None:
    """Stake, propose, vote, wait, queue, wait, execute: every step prepared by the API,
    signed by the holder's account (here anvil's dev account 1, through the dev door),
    and the runtime then serves the new price."""
    base = live.url
    send_all(
        base, prepare(base, "scribe", "stake", {"account": HOLDER, "tokens": "100000"}), HOLDER
    )
    holder = httpx.get(f"{base}/agents/scribe/holders/{HOLDER}", timeout=10).json()
    assert holder["staked"] == "100000"
    # the governor counts votes of the last settled second: the embedded chain's wait
    moved = httpx.post(f"{base}/dashboard/wait", json={"seconds": 1}, timeout=10)
    assert moved.status_code == 200, moved.text

    proposal = prepare(
        base,
        "scribe",
        "propose",
        {
            "proposer": HOLDER,
            "description": "Summaries cost more to make",
            "changes": {"price.summarize": "0.07"},
        },
    )
    assert proposal["changes"] == ["summarize price 0.05 -> 0.07 USDC"]
    send_all(base, proposal, HOLDER)
    pid = proposal["proposal_id"]
    listed = httpx.get(f"{base}/agents/scribe/proposals", timeout=10).json()
    [made] = [p for p in listed["proposals"] if p["id"] == pid]
    assert made["state"] == "pending"
    assert made["changes"] == ["summarize price 0.05 -> 0.07 USDC"]
    assert made["waits_until"] == made["voting_opens"]

    def wait() -> str:
        moved = httpx.post(
            f"{base}/dashboard/wait", json={"agent": "scribe", "proposal": pid}, timeout=30
        )
        assert moved.status_code == 200, moved.text
        state: str = moved.json()["state"]
        return state

    assert wait() == "active"
    vote = {"proposal": pid, "voter": HOLDER, "support": "for"}
    send_all(base, prepare(base, "scribe", "vote", vote), HOLDER)
    again = httpx.post(f"{base}/agents/scribe/transactions/vote", json=vote, timeout=10)
    assert (again.status_code, again.json()["reason"]) == (409, "already_voted")
    assert wait() == "succeeded"
    send_all(base, prepare(base, "scribe", "queue", {"proposal": pid}), HOLDER)
    early = httpx.post(f"{base}/agents/scribe/transactions/execute", json={"proposal": pid})
    assert (early.status_code, early.json()["reason"]) == (409, "proposal_state")
    assert wait() == "queued"
    send_all(base, prepare(base, "scribe", "execute", {"proposal": pid}), HOLDER)

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        agent = httpx.get(f"{base}/agents/scribe", timeout=10).json()
        prices = {s["name"]: s["price"] for s in agent["skills"]}
        if prices["summarize"] == "0.07":
            break
        time.sleep(0.2)
    assert prices["summarize"] == "0.07"
    listed = httpx.get(f"{base}/agents/scribe/proposals", timeout=10).json()
    assert [p["state"] for p in listed["proposals"] if p["id"] == pid] == ["executed"]


@pytest.mark.parametrize(
    ("step", "body", "status", "reason"),
    [
        # a web page never makes the server read a file
        (
            "propose",
            {"proposer": HOLDER, "description": "x", "changes": {"system_prompt": "@/etc/passwd"}},
            422,
            "invalid_change",
        ),
        (
            "propose",
            {"proposer": HOLDER, "description": "x", "changes": {"split.stakers": "90"}},
            422,
            "invalid_change",
        ),
        (
            "propose",
            {"proposer": HOLDER, "description": "x", "changes": {"price.summarize": "0.07"}},
            409,
            "not_enough_votes",
        ),
        # text no ABI encoder takes is refused, not a 500
        (
            "propose",
            {"proposer": HOLDER, "description": "\ud800", "changes": {"price.summarize": "1"}},
            422,
            "invalid_body",
        ),
        (
            "vote",
            {"proposal": "1234567", "voter": HOLDER, "support": "for", "reason": "\udfff"},
            422,
            "invalid_body",
        ),
        ("stake", {"account": HOLDER, "tokens": "400001"}, 409, "not_allowed"),
        ("stake", {"account": HOLDER, "tokens": "-1"}, 422, "invalid_body"),
        ("claim", {"account": HOLDER}, 409, "not_allowed"),
        (
            "vote",
            {"proposal": "1234567", "voter": HOLDER, "support": "for"},
            404,
            "unknown_proposal",
        ),
    ],
)
def test_a_step_the_cli_would_refuse_is_refused_before_anything_is_signed(
    live: LiveServer, step: str, body: dict[str, Any], status: int, reason: str
) -> None:
    answer = httpx.post(
        f"{live.url}/agents/scribe/transactions/{step}",
        content=json.dumps(body),  # ASCII-escaped, so a lone surrogate reaches the server
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert (answer.status_code, answer.json()["reason"]) == (status, reason), answer.text


def _events(url: str, wanted: str, timeout: float) -> list[dict[str, Any]]:
    """Read the event stream until an event of type ``wanted`` arrives."""
    seen: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{url}/events", timeout=timeout) as stream:
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen.append({"event": kind, "data": json.loads(line.removeprefix("data: "))})
                if kind == wanted:
                    return seen
    raise AssertionError(f"no {wanted} event: {seen}")


async def _hire(url: str) -> None:
    async with paying_client(4, httpx.AsyncHTTPTransport(), url) as client:
        answer = await client.post("/agents/scribe/skills/summarize", json={"input": "hello"})
        assert answer.status_code == 200, answer.text


def test_a_hire_shows_in_the_event_stream_the_task_list_and_the_revenue(
    live: LiveServer,
) -> None:
    def hire_soon() -> None:
        time.sleep(1.5)  # after the stream's first look
        asyncio.run(_hire(live.url))

    with ThreadPoolExecutor(1) as other:
        hiring = other.submit(hire_soon)
        seen = _events(live.url, "task", 30)
        hiring.result()
    assert seen[0]["event"] == "ready"
    task = seen[-1]["data"]
    assert (task["agent"], task["skill"], task["payer"]) == (
        "scribe",
        "summarize",
        dev_account(4).address,
    )

    tasks = httpx.get(f"{live.url}/tasks", params={"agent": "scribe"}, timeout=10).json()
    assert tasks[0]["state"] == "settled"
    assert tasks[0]["settlement_tx"]
    revenue = httpx.get(f"{live.url}/agents/scribe/revenue", timeout=10).json()
    assert (revenue["total"], revenue["hires"]) == ("0.05", 1)
    assert revenue["points"][-1]["cumulative"] == "0.05"
    missing = httpx.get(f"{live.url}/agents/nobody/revenue", timeout=10)
    assert (missing.status_code, missing.json()["reason"]) == (404, "unknown_agent")
