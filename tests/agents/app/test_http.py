"""Hiring agents over HTTP with real x402 payments on anvil: money moves only for results."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from web3.logs import DISCARD
from x402.http import decode_payment_response_header

from agents.app.database import open_database
from agents.app.http import create_app
from agents.runtime.offline_model import FAIL_MARKER
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.client import Chain
from tests.conftest import Deployment, LiveServer
from tests.support.customers import (
    header,
    paying_client,
    plain_client,
    requirements_of,
    sign_payment,
)

SCRIBE_SUMMARIZE = 50_000  # 0.05 USDC
AUDITOR_EXPLAIN = 100_000  # 0.10 USDC
SCRIBE_HEADLINE = 10_000  # 0.01 USDC
BASE = "http://agentdao.test"

pytestmark = pytest.mark.anyio


@pytest.fixture
def runtime(deployment: Deployment, chain: Chain, tmp_path: Path) -> Runtime:
    settings = deployment.settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'runtime.db'}"}
    )
    return Runtime.open(settings, chain, open_database(settings))


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
def transport(app: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app)


@pytest.fixture
async def anonymous(transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with plain_client(transport, BASE) as client:
        yield client


def balance(runtime: Runtime, address: str) -> int:
    return runtime.payments.balance_of(address)


def treasury(runtime: Runtime, agent: str) -> str:
    return runtime.agent(agent).addresses.treasury


CUSTOMER = 1
CUSTOMER_ADDRESS = dev_account(CUSTOMER).address


async def test_a_hire_moves_exactly_the_price_and_answers_with_a_receipt(
    runtime: Runtime, transport: httpx.ASGITransport, chain: Chain
) -> None:
    vault = treasury(runtime, "scribe")
    before = balance(runtime, CUSTOMER_ADDRESS), balance(runtime, vault)
    async with paying_client(CUSTOMER, transport, BASE) as customer:
        response = await customer.post(
            "/agents/scribe/skills/summarize", json={"input": "Tokens fund agents."}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    receipt = body["receipt"]
    assert "persona: You are Scribe" in body["result"]
    assert receipt["payer"] == CUSTOMER_ADDRESS
    assert receipt["amount"] == SCRIBE_SUMMARIZE
    assert (receipt["agent"], receipt["skill"]) == ("scribe", "summarize")
    live = runtime.agent("scribe").live
    assert (receipt["config_version"], receipt["config_hash"]) == (live.version, live.config_hash)
    assert balance(runtime, CUSTOMER_ADDRESS) == before[0] - SCRIBE_SUMMARIZE
    assert balance(runtime, vault) == before[1] + SCRIBE_SUMMARIZE

    tx = chain.w3.eth.get_transaction_receipt(receipt["settlement_tx"])
    assert tx["status"] == 1
    transfers = runtime.payments._contract.events.Transfer().process_receipt(tx, errors=DISCARD)
    assert [(t.args["from"], t.args["to"], t.args["value"]) for t in transfers] == [
        (CUSTOMER_ADDRESS, vault, SCRIBE_SUMMARIZE)
    ]
    settlement = decode_payment_response_header(response.headers["PAYMENT-RESPONSE"])
    assert settlement.success
    assert settlement.transaction == receipt["settlement_tx"]

    async with plain_client(transport, BASE) as anyone:
        task = (await anyone.get(f"/tasks/{receipt['task_id']}")).json()
    assert task["state"] == "settled"
    assert task["charged"] is True
    assert task["result"] == body["result"]


async def test_an_unpaid_call_gets_402_with_the_live_price_and_the_treasury(
    runtime: Runtime, anonymous: httpx.AsyncClient
) -> None:
    response = await anonymous.post("/agents/auditor/skills/explain", json={"input": "x"})
    assert response.status_code == 402
    assert response.json()["reason"] == "payment_required"
    wanted = requirements_of(response)
    assert wanted.amount == str(AUDITOR_EXPLAIN)
    assert wanted.pay_to == treasury(runtime, "auditor")
    assert wanted.asset == runtime.payments.token.address
    assert wanted.network == "eip155:31337"
    assert wanted.extra == {"name": "USD Coin", "version": "1"}


async def test_a_failing_model_call_charges_nothing(
    runtime: Runtime, transport: httpx.ASGITransport
) -> None:
    vault = treasury(runtime, "scribe")
    before = balance(runtime, CUSTOMER_ADDRESS), balance(runtime, vault)
    async with paying_client(CUSTOMER, transport, BASE) as customer:
        response = await customer.post(
            "/agents/scribe/skills/summarize", json={"input": f"please {FAIL_MARKER}"}
        )
    assert response.status_code == 502
    problem = response.json()
    assert problem["reason"] == "task_failed"
    assert "simulated provider failure" in problem["error"].lower()
    assert "PAYMENT-RESPONSE" not in response.headers
    assert (balance(runtime, CUSTOMER_ADDRESS), balance(runtime, vault)) == before
    task = runtime.task(problem["task_id"])
    assert task is not None
    assert task.state is TaskState.FAILED
    assert task.settlement_tx is None
    assert not runtime.payments.is_used(task.payer, task.nonce)


async def test_a_replayed_payment_returns_the_same_task_and_charges_once(
    runtime: Runtime, transport: httpx.ASGITransport, anonymous: httpx.AsyncClient
) -> None:
    path = "/agents/scribe/skills/headline"
    quote = await anonymous.post(path, json={"input": "one"})
    payment = await sign_payment(CUSTOMER, requirements_of(quote))
    before = balance(runtime, CUSTOMER_ADDRESS)

    first = await anonymous.post(path, json={"input": "one"}, headers=header(payment))
    assert first.status_code == 200, first.text
    replays = await asyncio.gather(
        *(anonymous.post(path, json={"input": "one"}, headers=header(payment)) for _ in range(3))
    )
    for replay in replays:
        assert replay.status_code == 200
        assert replay.json() == first.json()
    price = int(requirements_of(quote).amount)
    assert balance(runtime, CUSTOMER_ADDRESS) == before - price
    assert len(runtime.tasks.list()) == 1


async def test_concurrent_copies_of_one_payment_open_one_task_and_charge_once(
    runtime: Runtime, anonymous: httpx.AsyncClient
) -> None:
    path = "/agents/scribe/skills/headline"
    payment = await sign_payment(
        CUSTOMER, requirements_of(await anonymous.post(path, json={"input": "x"}))
    )
    before = balance(runtime, CUSTOMER_ADDRESS)
    answers = await asyncio.gather(
        *(anonymous.post(path, json={"input": "x"}, headers=header(payment)) for _ in range(5))
    )
    statuses = sorted(a.status_code for a in answers)
    assert 200 in statuses
    assert set(statuses) <= {200, 409}
    assert len(runtime.tasks.list()) == 1
    assert balance(runtime, CUSTOMER_ADDRESS) == before - 10_000


async def _refused(runtime: Runtime, anonymous: httpx.AsyncClient, tamper: str) -> httpx.Response:
    path = "/agents/scribe/skills/summarize"
    wanted = requirements_of(await anonymous.post(path, json={"input": "x"}))
    if tamper == "underpaid":
        payment = await sign_payment(CUSTOMER, wanted.model_copy(update={"amount": "1"}))
    elif tamper == "wrong_asset":
        other = treasury(runtime, "auditor")  # any other contract address
        payment = await sign_payment(CUSTOMER, wanted.model_copy(update={"asset": other}))
    elif tamper == "wrong_network":
        payment = await sign_payment(CUSTOMER, wanted.model_copy(update={"network": "eip155:1"}))
    elif tamper == "expired":
        payment = await sign_payment(
            CUSTOMER, wanted.model_copy(update={"max_timeout_seconds": -60})
        )
        payment.accepted = wanted
    elif tamper == "bad_signature":
        # Signed by dev 2, presented as dev 1's authorization.
        payment = await sign_payment(2, wanted)
        payment.payload["authorization"]["from"] = CUSTOMER_ADDRESS
    elif tamper == "wrong_recipient":
        payment = await sign_payment(
            CUSTOMER, wanted.model_copy(update={"pay_to": dev_account(5).address})
        )
    else:
        raise AssertionError(tamper)
    return await anonymous.post(path, json={"input": "x"}, headers=header(payment))


@pytest.mark.parametrize(
    "tamper",
    ["underpaid", "wrong_asset", "wrong_network", "expired", "bad_signature", "wrong_recipient"],
)
async def test_a_bad_payment_gets_402_with_the_reason_and_charges_nothing(
    runtime: Runtime, anonymous: httpx.AsyncClient, tamper: str
) -> None:
    vault = treasury(runtime, "scribe")
    before = balance(runtime, CUSTOMER_ADDRESS), balance(runtime, vault)
    response = await _refused(runtime, anonymous, tamper)
    assert response.status_code == 402
    assert response.json()["reason"] == tamper
    assert tamper in response.json()["error"]
    assert "PAYMENT-REQUIRED" in response.headers
    assert (balance(runtime, CUSTOMER_ADDRESS), balance(runtime, vault)) == before
    assert runtime.tasks.list() == []


async def test_a_payment_already_spent_on_chain_is_refused_as_reused(
    runtime: Runtime, anonymous: httpx.AsyncClient, chain: Chain
) -> None:
    path = "/agents/scribe/skills/summarize"
    wanted = requirements_of(await anonymous.post(path, json={"input": "x"}))
    payment = await sign_payment(CUSTOMER, wanted)
    # The customer spends the authorization elsewhere (submits it themselves) first.
    await runtime.payments.settle(payment, wanted)
    before = balance(runtime, CUSTOMER_ADDRESS)
    response = await anonymous.post(path, json={"input": "x"}, headers=header(payment))
    assert response.status_code == 402
    assert response.json()["reason"] == "reused"
    assert balance(runtime, CUSTOMER_ADDRESS) == before


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/agents/nobody/skills/summarize", "no agent named 'nobody'"),
        ("/agents/scribe/skills/dance", "agent 'scribe' has no skill 'dance'"),
    ],
)
async def test_unknown_agents_and_skills_are_404(
    anonymous: httpx.AsyncClient, path: str, message: str
) -> None:
    response = await anonymous.post(path, json={"input": "x"})
    assert response.status_code == 404
    assert response.json()["error"] == message
    assert (await anonymous.get("/agents/nobody")).status_code == 404
    assert (await anonymous.get("/tasks/nope")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"input": ""}', b'{"input": 3}', b'{"input": "x", "extra": 1}', b"not json"],
)
async def test_malformed_bodies_are_422(anonymous: httpx.AsyncClient, body: bytes) -> None:
    response = await anonymous.post(
        "/agents/scribe/skills/summarize",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422


async def test_two_agents_in_one_runtime_each_receive_their_own_payments(
    runtime: Runtime, transport: httpx.ASGITransport
) -> None:
    scribe, auditor = treasury(runtime, "scribe"), treasury(runtime, "auditor")
    before = balance(runtime, scribe), balance(runtime, auditor)
    async with paying_client(1, transport, BASE) as one, paying_client(2, transport, BASE) as two:
        answers = await asyncio.gather(
            one.post("/agents/scribe/skills/summarize", json={"input": "a"}),
            two.post("/agents/auditor/skills/explain", json={"input": "b"}),
            two.post("/agents/auditor/skills/explain", json={"input": "c"}),
        )
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert balance(runtime, scribe) == before[0] + SCRIBE_SUMMARIZE
    assert balance(runtime, auditor) == before[1] + 2 * AUDITOR_EXPLAIN
    assert "persona: You are Auditor" in answers[1].json()["result"]


async def test_a_paused_agent_takes_no_payments(
    runtime: Runtime, chain: Chain, transport: httpx.ASGITransport
) -> None:
    config = chain.contract("AgentConfig", runtime.agent("scribe").addresses.config)
    chain.send(config.functions.pause(), signer=dev_account(9))  # the guardian
    runtime.sync_configs()
    before = balance(runtime, CUSTOMER_ADDRESS)
    async with paying_client(CUSTOMER, transport, BASE) as customer:
        response = await customer.post("/agents/scribe/skills/summarize", json={"input": "x"})
        shown = (await customer.get("/agents/scribe")).json()
    assert response.status_code == 503
    assert "paused" in response.json()["error"]
    assert shown["paused"] is True
    assert balance(runtime, CUSTOMER_ADDRESS) == before


async def test_the_directory_shows_live_config_prices_and_addresses(
    runtime: Runtime, anonymous: httpx.AsyncClient
) -> None:
    listing = (await anonymous.get("/agents")).json()
    assert sorted(a["name"] for a in listing) == ["auditor", "scribe"]
    scribe = (await anonymous.get("/agents/scribe")).json()
    live = runtime.agent("scribe").live
    assert scribe["config_version"] == live.version
    assert scribe["config_hash"] == live.config_hash
    assert scribe["model"] == "offline:echo-1"
    assert {s["name"]: (s["price_units"], s["price"]) for s in scribe["skills"]} == {
        "summarize": (50_000, "0.05"),
        "headline": (10_000, "0.01"),
    }
    assert scribe["addresses"]["treasury"] == treasury(runtime, "scribe")
    assert scribe["payment_token"] == runtime.payments.token.address
    assert scribe["payment_token_symbol"] == "USDC"
    assert scribe["payment_token_decimals"] == 6
    assert scribe["paused"] is False
    assert (await anonymous.get("/docs")).status_code == 200
    assert "/agents/{name}/skills/{skill}" in (await anonymous.get("/openapi.json")).json()["paths"]


async def test_a_config_the_runtime_cannot_run_is_refused_and_shown(
    runtime: Runtime, anonymous: httpx.AsyncClient
) -> None:
    good = runtime.agent("scribe").live
    bad = good.model_copy(update={"version": good.version + 1, "model": "nosuch:model"})
    reason = runtime.apply_config("scribe", bad)
    assert reason is not None
    assert "unknown provider 'nosuch'" in reason
    assert runtime.agent("scribe").live == good
    shown = (await anonymous.get("/agents/scribe")).json()
    assert shown["config_version"] == good.version
    assert shown["rejected_configs"][0]["version"] == good.version + 1

    newer = good.model_copy(update={"version": good.version + 2, "system_prompt": "You are Bo."})
    assert runtime.apply_config("scribe", newer) is None
    assert runtime.agent("scribe").live == newer


async def test_a_result_is_held_until_its_payment_settles(
    runtime: Runtime, anonymous: httpx.AsyncClient, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The customer empties its wallet while the model runs: settlement cannot happen yet,
    so the answer is 202 (not 402, which would make an x402 client pay again), the result
    is withheld everywhere, and the same payment sent again once funded settles it."""
    import agents.runtime.hiring
    import agents.runtime.skills

    customer = dev_account(CUSTOMER)
    usdc = runtime.payments._contract
    sink = dev_account(9).address
    real_skill = agents.runtime.skills.arun_skill

    async def drain_then_run(*args: Any, **kwargs: Any) -> Any:
        chain.send(usdc.functions.transfer(sink, balance(runtime, CUSTOMER_ADDRESS)), customer)
        return await real_skill(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", drain_then_run)
    path = "/agents/scribe/skills/headline"
    payment = await sign_payment(
        CUSTOMER, requirements_of(await anonymous.post(path, json={"input": "held"}))
    )
    held = await anonymous.post(path, json={"input": "held"}, headers=header(payment))
    assert held.status_code == 202, held.text
    assert held.json()["reason"] == "settlement_pending"
    task_id = held.json()["task_id"]
    shown = (await anonymous.get(f"/tasks/{task_id}")).json()
    assert shown["state"] == "succeeded"
    assert shown["result"] is None
    assert shown["charged"] is False
    assert balance(runtime, CUSTOMER_ADDRESS) == 0

    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", real_skill)
    refund = 1_000_000
    chain.send(usdc.functions.transfer(CUSTOMER_ADDRESS, refund), dev_account(9))
    paid = await anonymous.post(path, json={"input": "held"}, headers=header(payment))
    assert paid.status_code == 200, paid.text
    assert paid.json()["receipt"]["task_id"] == task_id
    assert balance(runtime, CUSTOMER_ADDRESS) == refund - SCRIBE_HEADLINE
    released = (await anonymous.get(f"/tasks/{task_id}")).json()
    assert released["state"] == "settled"
    assert released["result"] == paid.json()["result"]


async def test_the_reconcile_job_finishes_a_pending_settlement(
    runtime: Runtime, anonymous: httpx.AsyncClient, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agents.runtime.hiring
    import agents.runtime.skills
    from agents.runtime.recovery import reconcile

    customer = dev_account(CUSTOMER)
    usdc = runtime.payments._contract
    real_skill = agents.runtime.skills.arun_skill
    parked = balance(runtime, CUSTOMER_ADDRESS)

    async def drain_then_run(*args: Any, **kwargs: Any) -> Any:
        chain.send(usdc.functions.transfer(dev_account(9).address, parked), customer)
        return await real_skill(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", drain_then_run)
    path = "/agents/scribe/skills/headline"
    payment = await sign_payment(
        CUSTOMER, requirements_of(await anonymous.post(path, json={"input": "later"}))
    )
    held = await anonymous.post(path, json={"input": "later"}, headers=header(payment))
    assert held.status_code == 202, held.text
    assert await reconcile(runtime.tasks, runtime.payments, older_than=3600) == []  # too fresh

    chain.send(usdc.functions.transfer(CUSTOMER_ADDRESS, parked), dev_account(9))
    [done] = await reconcile(runtime.tasks, runtime.payments, older_than=0)
    assert done.id == held.json()["task_id"]
    assert done.state is TaskState.SETTLED
    assert balance(runtime, CUSTOMER_ADDRESS) == parked - SCRIBE_HEADLINE
    assert runtime.tasks.in_flight() == []


def test_health_reports_the_event_loop_lag(live: LiveServer) -> None:
    """The runtime samples its own loop from the start; /health serves the figures."""
    time.sleep(0.3)
    health = httpx.get(f"{live.url}/health").json()
    assert health["status"] == "ok"
    assert health["agents"] == 2
    assert health["loop_lag_samples"] > 3
    assert 0 <= health["loop_lag_p99_ms"] <= health["loop_lag_max_ms"]
