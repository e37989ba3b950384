"""Two runtime replicas on one PostgreSQL serving the same agents: a voucher sent to both
at once is charged once, and runs the model once."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from x402 import x402Client
from x402.http import decode_payment_required_header, encode_payment_signature_header
from x402.http.clients.httpx import x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.batch_settlement.client.config import BatchSettlementEvmSchemeOptions
from x402.mechanisms.evm.batch_settlement.client.scheme import BatchSettlementEvmScheme
from x402.schemas import PaymentRequired

import agents.runtime.skills
import agents.runtime.vouchers
from agents.app.database import open_database
from agents.app.http import create_app
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import TaskState
from contracts.accounts import dev_account
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.postgres import postgres_url

__all__ = ["postgres_url"]

pytestmark = pytest.mark.anyio
BASE = "http://agentdao.test"
PAYER = 7
HEADLINE = "/agents/scribe/skills/headline"
PRICE = 10_000


@pytest.fixture
def replicas(
    deployment: Deployment, chain: Chain, postgres_url: str, tmp_path: Path
) -> list[Runtime]:
    settings = deployment.settings.model_copy(update={"database_url": postgres_url})
    return [Runtime.open(settings, chain, open_database(settings)) for _ in range(2)]


async def test_one_voucher_sent_to_two_replicas_is_charged_once(
    replicas: list[Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    real = agents.runtime.skills.arun_skill

    async def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(args[3])
        await asyncio.sleep(0.05)  # a model takes time: let the two requests overlap
        return await real(*args, **kwargs)

    monkeypatch.setattr(agents.runtime.vouchers, "arun_skill", counted)
    transports = [httpx.ASGITransport(app=create_app(r)) for r in replicas]
    stock = x402Client()
    options = BatchSettlementEvmSchemeOptions(salt="0x" + secrets.token_hex(32))
    stock.register(
        "eip155:*", BatchSettlementEvmScheme(EthAccountSigner(dev_account(PAYER)), options)
    )
    stock.set_spend_controls(False)
    # The first call (the deposit) through replica 0, with x402's own client.
    paying = x402AsyncTransport(stock, transport=transports[0])
    async with httpx.AsyncClient(transport=paying, base_url=BASE) as customer:
        first = await customer.post(HEADLINE, json={"input": "deposit"})
    assert first.status_code == 200, first.text

    # The next voucher, signed once and sent to both replicas at the same moment.
    async with httpx.AsyncClient(transport=transports[1], base_url=BASE) as anyone:
        unpaid = await anyone.post(HEADLINE, json={"input": "twice"})
    required = decode_payment_required_header(unpaid.headers["PAYMENT-REQUIRED"])
    assert isinstance(required, PaymentRequired)
    voucher = await stock.create_payment_payload(required)
    signed = {"PAYMENT-SIGNATURE": encode_payment_signature_header(voucher)}

    async def send(transport: httpx.ASGITransport) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.post(HEADLINE, json={"input": "twice"}, headers=signed)

    answers = await asyncio.gather(*(send(t) for t in transports))
    assert sorted(a.status_code for a in answers) == [200, 402]
    refused = next(a for a in answers if a.status_code == 402)
    assert refused.json()["reason"] in {
        "invalid_batch_settlement_evm_channel_busy",
        "invalid_batch_settlement_evm_cumulative_amount_mismatch",
    }
    assert runs == ["deposit", "twice"]
    settled = [t for t in replicas[0].tasks.list(limit=10) if t.state is TaskState.SETTLED]
    assert sorted(t.settlement_tx.rsplit(":", 1)[1] for t in settled) == [  # type: ignore[union-attr]
        str(PRICE),
        str(2 * PRICE),
    ]
