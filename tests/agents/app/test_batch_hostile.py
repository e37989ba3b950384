"""Hostile batch-settlement payloads on the hire route: every one is a 4xx with a
reason, never a 500, and none runs the model."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from x402.http import decode_payment_required_header
from x402.schemas import PaymentRequired

from tests.agents.app.test_batch_attacks import HEADLINE, stock_client, stored_payload
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.anyio

ZERO_ID = "0x" + "00" * 32


def _voucher(channel_id: Any = ZERO_ID, amount: Any = "10000", **more: Any) -> dict[str, Any]:
    return {
        "channelId": channel_id,
        "maxClaimableAmount": amount,
        "signature": "0x" + "11" * 65,
    } | more


def _config(**override: Any) -> dict[str, Any]:
    return {
        "payer": "0x" + "22" * 20,
        "payerAuthorizer": "0x" + "22" * 20,
        "receiver": "0x" + "33" * 20,
        "receiverAuthorizer": "0x" + "44" * 20,
        "token": "0x" + "55" * 20,
        "withdrawDelay": 900,
        "salt": "0x" + "66" * 32,
    } | override


HOSTILE: dict[str, Any] = {
    "empty": {},
    "type only": {"type": "voucher"},
    "empty parts": {"type": "voucher", "voucher": {}, "channelConfig": {}},
    "voucher a list": {"type": "voucher", "voucher": [], "channelConfig": _config()},
    "short channel id": {
        "type": "voucher",
        "voucher": _voucher("0x123"),
        "channelConfig": _config(),
    },
    "channel id not hex": {
        "type": "voucher",
        "voucher": _voucher("zz"),
        "channelConfig": _config(),
    },
    "channel id a number": {"type": "voucher", "voucher": _voucher(12), "channelConfig": _config()},
    "amount not a number": {
        "type": "voucher",
        "voucher": _voucher(amount="x"),
        "channelConfig": _config(),
    },
    "amount negative": {
        "type": "voucher",
        "voucher": _voucher(amount=-1),
        "channelConfig": _config(),
    },
    "amount 5000 digits": {
        "type": "voucher",
        "voucher": _voucher(amount="9" * 5000),
        "channelConfig": _config(),
    },
    "amount 2**300": {
        "type": "voucher",
        "voucher": _voucher(amount=str(2**300)),
        "channelConfig": _config(),
    },
    "amount a float": {
        "type": "voucher",
        "voucher": _voucher(amount=1e30),
        "channelConfig": _config(),
    },
    "amount infinite": {
        "type": "voucher",
        "voucher": _voucher(amount=float("inf")),
        "channelConfig": _config(),
    },
    "amount NaN": {
        "type": "voucher",
        "voucher": _voucher(amount=float("nan")),
        "channelConfig": _config(),
    },
    "amount a bool": {
        "type": "voucher",
        "voucher": _voucher(amount=True),
        "channelConfig": _config(),
    },
    "amount null": {
        "type": "voucher",
        "voucher": _voucher(amount=None),
        "channelConfig": _config(),
    },
    "signature not hex": {
        "type": "voucher",
        "voucher": _voucher(signature="0xZZ"),
        "channelConfig": _config(),
    },
    "signature a number": {
        "type": "voucher",
        "voucher": _voucher(signature=7),
        "channelConfig": _config(),
    },
    "config missing payer": {
        "type": "voucher",
        "voucher": _voucher(),
        "channelConfig": _config(payer=None),
    },
    "config bad delay": {
        "type": "voucher",
        "voucher": _voucher(),
        "channelConfig": _config(withdrawDelay="soon"),
    },
    "config huge delay": {
        "type": "voucher",
        "voucher": _voucher(),
        "channelConfig": _config(withdrawDelay=2**80),
    },
    "config a string": {"type": "voucher", "voucher": _voucher(), "channelConfig": "x"},
    "deposit empty": {
        "type": "deposit",
        "voucher": _voucher(),
        "channelConfig": _config(),
        "deposit": {},
    },
    "deposit a list": {
        "type": "deposit",
        "voucher": _voucher(),
        "channelConfig": _config(),
        "deposit": [],
    },
    "deposit no authorization": {
        "type": "deposit",
        "voucher": _voucher(),
        "channelConfig": _config(),
        "deposit": {"amount": "1000000"},
    },
    "claim payload": {"type": "claim", "claims": []},
    "settle payload": {"type": "settle", "receiver": "0x" + "33" * 20, "token": "0x" + "55" * 20},
}


async def _send(live: LiveServer, inner: Any, mutate: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
        unpaid = await client.post(HEADLINE, json={"input": "x"})
        required = decode_payment_required_header(unpaid.headers["PAYMENT-REQUIRED"])
        assert isinstance(required, PaymentRequired)
        accepted = required.accepts[0].model_dump(mode="json", by_alias=True)
        document = {"x402Version": 2, "accepted": accepted, "payload": inner}
        if mutate is not None:
            mutate(document)
        header = base64.b64encode(json.dumps(document).encode()).decode()
        return await client.post(
            HEADLINE, json={"input": "hostile"}, headers={"PAYMENT-SIGNATURE": header}
        )


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_a_hostile_voucher_payload_is_a_4xx(live: LiveServer, name: str) -> None:
    answer = await _send(live, HOSTILE[name])
    assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text)


async def test_a_voucher_for_another_agents_channel_is_a_4xx(live: LiveServer) -> None:
    """A real voucher of a channel paying agent scribe, sent to another agent's skill."""
    async with stock_client(9, live.url) as customer:
        paid = await customer.post(HEADLINE, json={"input": "paid"})
    assert paid.status_code == 200, paid.text
    payload = stored_payload(live, paid.json()["receipt"]["task_id"])
    other = next(n for n in live.runtime.agents if n != "scribe")
    skill = live.runtime.agent(other).live.skills[0].name
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
        unpaid = await client.post(f"/agents/{other}/skills/{skill}", json={"input": "x"})
        required = decode_payment_required_header(unpaid.headers["PAYMENT-REQUIRED"])
        assert isinstance(required, PaymentRequired)
        accepted = required.accepts[0].model_dump(mode="json", by_alias=True)
        voucher = payload | {"type": "voucher"}
        voucher.pop("deposit", None)
        document = {"x402Version": 2, "accepted": accepted, "payload": voucher}
        header = base64.b64encode(json.dumps(document).encode()).decode()
        answer = await client.post(
            f"/agents/{other}/skills/{skill}",
            json={"input": "stolen"},
            headers={"PAYMENT-SIGNATURE": header},
        )
    assert 400 <= answer.status_code < 500, answer.text
