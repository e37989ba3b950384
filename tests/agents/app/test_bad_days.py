"""Bad days in the middle of a hire, over the app (a review's attacks, now failing):

- the chain drops after the model ran: the answer is 202 ``settlement_pending`` with the
  task id (the same payment finishes it), never a 503 "nothing was charged" that invites a
  second payment while the reconcile job may still settle the first;
- an authorization about to expire is refused before the model runs, so nobody buys
  model runs that can never be paid for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import agents.runtime.hiring
from agents.app.database import open_database
from agents.app.http import create_app
from agents.runtime.recovery import reconcile
from agents.runtime.runtime import Runtime
from agents.runtime.skills import arun_skill
from contracts.accounts import dev_account
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.customers import header, plain_client, requirements_of, sign_payment
from tests.support.flaky_rpc import FlakyRpc

pytestmark = pytest.mark.anyio
PATH = "/agents/scribe/skills/headline"
CUSTOMER = 3
ADDRESS = dev_account(CUSTOMER).address


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def flaky(chain: Chain) -> Iterator[FlakyRpc]:
    proxy = FlakyRpc(chain.rpc_url)
    yield proxy
    proxy.close()


@pytest.fixture
def runtime(deployment: Deployment, flaky: FlakyRpc, tmp_path: Path) -> Runtime:
    settings = deployment.settings.model_copy(
        update={"rpc_url": flaky.url, "database_url": f"sqlite:///{tmp_path / 'r.db'}"}
    )
    return Runtime.open(settings, Chain(flaky.url, dev_account(0)), open_database(settings))


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with plain_client(httpx.ASGITransport(app=create_app(runtime)), "http://t") as c:
        yield c


async def test_an_outage_after_the_model_ran_is_a_pending_settlement_not_a_refusal(
    runtime: Runtime, client: httpx.AsyncClient, flaky: FlakyRpc, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def outage_during_run(*args: Any, **kwargs: Any) -> Any:
        flaky.down = True
        return await arun_skill(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", outage_during_run)
    before = runtime.payments.balance_of(ADDRESS)
    payment = await sign_payment(
        CUSTOMER, requirements_of(await client.post(PATH, json={"input": "a"}))
    )
    answer = await client.post(PATH, json={"input": "a"}, headers=header(payment))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["reason"] == "settlement_pending"
    assert "nothing was charged" not in body["error"]
    task_id = body["task_id"]

    flaky.down = False
    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", arun_skill)
    # the same payment sent again finishes it, with the result, charged once
    again = await client.post(PATH, json={"input": "a"}, headers=header(payment))
    assert again.status_code == 200, again.text
    assert again.json()["receipt"]["task_id"] == task_id
    assert await reconcile(runtime.tasks, runtime.payments) == []
    assert before - runtime.payments.balance_of(ADDRESS) == int(payment.accepted.amount)


async def test_an_authorization_about_to_expire_runs_no_model(
    runtime: Runtime, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = 0

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0)
        return await arun_skill(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.hiring, "arun_skill", counted)
    before = runtime.payments.balance_of(ADDRESS)
    wanted = requirements_of(await client.post(PATH, json={"input": "a"}))
    short = wanted.model_copy(update={"max_timeout_seconds": runtime.payments.chain_lead() + 8})
    answer = await client.post(
        PATH, json={"input": "x"}, headers=header(await sign_payment(CUSTOMER, short))
    )
    assert answer.status_code == 402
    assert answer.json()["reason"] == "validity_too_short"
    assert runs == 0
    assert runtime.payments.balance_of(ADDRESS) == before
