"""GET /agents/{name}/treasury on the test deployment, through FastAPI's test client."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agents.app import treasury_api as api
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from tests.conftest import Deployment
from tests.treasury.support import mature_price_floor, pay
from treasury.staking import stake

USDC = 10**6
TOKEN = 10**18


@pytest.fixture
def client(chain: Chain, deployment: Deployment) -> TestClient:
    app = FastAPI()
    app.include_router(api.router)
    reader = api.TreasuryReader(chain, deployment.result.manifest)
    app.dependency_overrides[api.get_reader] = lambda: reader
    return TestClient(app)


def test_treasury_shows_revenue_distributions_burn_and_claimable(
    client: TestClient, chain: Chain, deployment: Deployment
) -> None:
    manifest = deployment.result.manifest
    addresses = manifest.agents["scribe"]
    treasury = chain.contract("AgentTreasury", addresses.treasury)
    stake(chain, addresses, dev_account(1), 3_000 * TOKEN)
    stake(chain, addresses, dev_account(2), 1_000 * TOKEN)
    pay(chain, manifest, "scribe", 8 * USDC)
    chain.send(treasury.functions.distribute())
    pay(chain, manifest, "scribe", 12 * USDC)
    chain.send(treasury.functions.distribute())
    streaming = client.get("/agents/scribe/treasury").json()
    # barely streamed yet: 10 USDC over an hour is 0.0028 a second (a loaded machine may
    # take a few seconds between the distribution and this read)
    assert Decimal("9.98") <= Decimal(streaming["streaming"]) <= 10
    assert streaming["streaming_until"] is not None
    assert streaming["reward_duration"] == 3600
    advance_time(chain.w3, 3600)  # the stakers' share has streamed
    mature_price_floor(chain, manifest, "scribe")
    pay(chain, manifest, "scribe", 1)  # pending, not distributed
    chain.send(treasury.functions.buyback(USDC, 0, 2**40))

    reply = client.get("/agents/scribe/treasury")
    assert reply.status_code == 200
    body = reply.json()
    assert Decimal(body["income"]) == 20
    assert Decimal(body["pending_income"]) == Decimal("0.000001")
    assert Decimal(body["to_stakers"]) == 10
    assert Decimal(body["reserve"]) == 4
    assert Decimal(body["buyback_fund"]) == 1  # 2 booked, 1 spent
    assert Decimal(body["bought_back"]) == 1
    assert manifest.dex is not None
    assert body["dex"] == manifest.dex.router
    assert [Decimal(p["cumulative"]) for p in body["revenue"]] == [8, 20]
    assert [Decimal(d["to_operator"]) for d in body["distributions"]] == [
        Decimal("1.6"),
        Decimal("2.4"),
    ]
    (burn,) = body["buybacks"]
    burned = Decimal(burn["burned"])
    assert burned > 0
    assert Decimal(body["burned_supply"]) == burned
    assert Decimal(body["token_supply"]) == 1_000_000 - burned
    claimable = {s["account"]: Decimal(s["claimable"]) for s in body["stakers"]}
    # 3:1 of the 10 streamed, less the flooring dust of the stream (a unit at most)
    assert Decimal("7.499999") <= claimable[dev_account(1).address] <= Decimal("7.5")
    assert Decimal("2.499999") <= claimable[dev_account(2).address] <= Decimal("2.5")
    assert abs(Decimal(body["per_share"]) - Decimal("0.0025")) < Decimal("0.000001")
    assert Decimal(body["streaming"]) == 0
    assert Decimal(body["operator_owed"]) == 4
    assert body["paused"] is False
    assert body["unstake_cooldown"] == 1 + 600 + 60 + 120  # scribe's delays, read live


def test_unknown_agent_is_404(client: TestClient) -> None:
    reply = client.get("/agents/nobody/treasury")
    assert reply.status_code == 404
    assert "unknown agent 'nobody'" in reply.json()["detail"]


def test_without_a_reader_the_router_says_so() -> None:
    app = FastAPI()
    app.include_router(api.router)
    assert TestClient(app).get("/agents/scribe/treasury").status_code == 503
