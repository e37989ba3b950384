"""Customers for the tests: x402 clients signing with the local chain's dev accounts."""

from __future__ import annotations

import httpx
from x402 import x402Client
from x402.http import decode_payment_required_header, encode_payment_signature_header
from x402.http.clients.httpx import x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.exact import ExactEvmClientScheme
from x402.schemas import PaymentPayload, PaymentRequired, PaymentRequirements

from contracts.accounts import dev_account

__all__ = [
    "header",
    "paying_client",
    "plain_client",
    "requirements_of",
    "sign_payment",
    "x402_client",
]


def x402_client(index: int) -> x402Client:
    """An x402 client paying from dev account ``index``, with no spending limits."""
    client = x402Client()
    client.register("eip155:*", ExactEvmClientScheme(EthAccountSigner(dev_account(index))))
    client.set_spend_controls(False)
    return client


def paying_client(
    index: int, transport: httpx.AsyncBaseTransport, base_url: str
) -> httpx.AsyncClient:
    """An httpx client that answers every 402 by paying from dev account ``index``."""
    return httpx.AsyncClient(
        transport=x402AsyncTransport(x402_client(index), transport=transport),
        base_url=base_url,
        timeout=60,
    )


def plain_client(transport: httpx.AsyncBaseTransport, base_url: str) -> httpx.AsyncClient:
    """An httpx client that pays nothing (sees the 402s)."""
    return httpx.AsyncClient(transport=transport, base_url=base_url, timeout=60)


async def sign_payment(index: int, requirements: PaymentRequirements) -> PaymentPayload:
    """A payment from dev account ``index`` for exactly these requirements."""
    payment = await x402_client(index).create_payment_payload(
        PaymentRequired(accepts=[requirements])
    )
    assert isinstance(payment, PaymentPayload)
    return payment


def requirements_of(response: httpx.Response, scheme: str = "exact") -> PaymentRequirements:
    """A 402's payment option of ``scheme`` (these customers pay ``exact``)."""
    required = decode_payment_required_header(response.headers["PAYMENT-REQUIRED"])
    assert isinstance(required, PaymentRequired)
    (option,) = [r for r in required.accepts if r.scheme == scheme]
    return option


def header(payment: PaymentPayload) -> dict[str, str]:
    """The request header that carries ``payment``."""
    return {"PAYMENT-SIGNATURE": encode_payment_signature_header(payment)}
