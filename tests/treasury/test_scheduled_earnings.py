"""Agents distribute their earnings with nobody pressing a button.

A real server runs the runtime; its scheduler's earnings tick distributes the
income that paid hires brought in, and the treasury endpoint shows it.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import pytest

from agents.runtime.customer import describe_agent, hire_over_http
from contracts.accounts import dev_account
from tests.conftest import LiveServer


@pytest.fixture
def fast_earnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tick every half second and distribute any income of at least a cent."""
    monkeypatch.setenv("AGENTDAO_EARNINGS_INTERVAL", "0.5")
    monkeypatch.setenv("AGENTDAO_DISTRIBUTION_MIN_INCOME", "0.01")


def _hire(live: LiveServer, customer: int) -> None:
    async def go() -> None:
        agent = await describe_agent(live.url, "scribe")
        await hire_over_http(
            live.url, agent, "summarize", "pay me", dev_account(customer), Decimal(1)
        )

    asyncio.run(go())


def test_paid_hires_are_distributed_by_the_scheduler(fast_earnings: None, live: LiveServer) -> None:
    treasury = live.runtime.chain.contract(
        "AgentTreasury", live.runtime.agent("scribe").addresses.treasury
    )
    income_before = treasury.functions.totalIncome().call()
    operator_before = live.runtime.payments.balance_of(dev_account(0).address)
    _hire(live, 6)
    _hire(live, 6)

    deadline = time.monotonic() + 20
    while treasury.functions.totalIncome().call() < income_before + 100_000:
        assert time.monotonic() < deadline, "the scheduler never distributed the income"
        time.sleep(0.2)

    assert treasury.functions.totalIncome().call() == income_before + 100_000
    assert treasury.functions.pendingIncome().call() == 0
    # scribe's split: operator 20%, pulled by the runtime (its key is the operator) in the
    # same tick; it pays the settlements' gas in ETH, so its USDC grows by exactly its share.
    while live.runtime.payments.balance_of(dev_account(0).address) < operator_before + 20_000:
        assert time.monotonic() < deadline, "the runtime never withdrew the operator share"
        time.sleep(0.2)
    assert live.runtime.payments.balance_of(dev_account(0).address) == operator_before + 20_000
    shown = httpx.get(f"{live.url}/agents/scribe/treasury").json()
    assert Decimal(shown["pending_income"]) == 0
    assert Decimal(shown["income"]) == Decimal(income_before + 100_000) / 10**6
    assert shown["distributions"], "the endpoint lists the distribution"
