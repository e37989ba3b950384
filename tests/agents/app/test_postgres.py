"""The runtime on PostgreSQL instead of SQLite: tasks, payments and config history.

Needs the machine's PostgreSQL server (see tests/support/postgres.py, which starts
it when it is down); every test gets a database of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from agents.app.database import open_database
from agents.app.http import create_app
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.client import Chain
from dao.changes import ConfigCall
from dao.history import config_history
from tests.conftest import Deployment
from tests.dao.conftest import pass_proposal
from tests.support.customers import header, plain_client, requirements_of, sign_payment
from tests.support.postgres import postgres_url

__all__ = ["postgres_url"]

pytestmark = pytest.mark.anyio
BASE = "http://agentdao.test"
CUSTOMER = 8


@pytest.fixture
def runtime(deployment: Deployment, chain: Chain, postgres_url: str, tmp_path: Path) -> Runtime:
    settings = deployment.settings.model_copy(update={"database_url": postgres_url})
    runtime = Runtime.open(settings, chain, open_database(settings))
    assert runtime.tasks.engine.dialect.name == "postgresql"
    return runtime


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with plain_client(httpx.ASGITransport(app=create_app(runtime)), BASE) as anyone:
        yield anyone


async def test_copies_of_one_payment_race_to_one_task_and_one_charge(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    path = "/agents/scribe/skills/headline"
    payment = await sign_payment(
        CUSTOMER, requirements_of(await client.post(path, json={"input": "pg"}))
    )
    payer = dev_account(CUSTOMER).address
    before = runtime.payments.balance_of(payer)
    answers = await asyncio.gather(
        *(client.post(path, json={"input": "pg"}, headers=header(payment)) for _ in range(6))
    )
    paid = [a for a in answers if a.status_code == 200]
    assert paid, [a.text for a in answers]
    assert {a.json()["receipt"]["task_id"] for a in paid} == {paid[0].json()["receipt"]["task_id"]}
    assert all(a.status_code in (200, 409) for a in answers)
    assert runtime.payments.balance_of(payer) == before - 10_000
    tasks = runtime.tasks.list()
    assert len(tasks) == 1
    assert tasks[0].state is TaskState.SETTLED
    with runtime.tasks.engine.connect() as connection:
        stored = connection.execute(text("select count(*) from task")).scalar_one()
    assert stored == 1


def test_config_history_and_cursor_live_in_postgres(
    runtime: Runtime, deployment: Deployment, chain: Chain
) -> None:
    runtime.sync_configs()
    pass_proposal(
        chain, deployment, [ConfigCall("setSkillPrice", ("headline", 30_000))], "headline $0.03"
    )
    runtime.sync_configs()
    assert runtime.agent("scribe").live.skill("headline").price == 30_000  # type: ignore[union-attr]
    history = config_history(runtime.tasks.engine, "scribe")
    assert [v.version for v in history.versions] == [1, 2]
    assert history.live_version == 2
