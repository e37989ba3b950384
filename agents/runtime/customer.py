"""Hire an agent as a customer: discover its price, pay with x402, get result and receipt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from eth_account.signers.local import LocalAccount
from x402 import x402Client
from x402.http.clients.httpx import x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.exact import ExactEvmClientScheme

from agents.core.errors import HireError
from agents.core.money import USDC_DECIMALS
from agents.core.settings import LOCAL_CHAIN_ID

__all__ = ["describe_agent", "hire_over_http", "is_local_network"]


def is_local_network(network: str) -> bool:
    """True for the embedded chain's network, where dev accounts may pay."""
    return network == f"eip155:{LOCAL_CHAIN_ID}"


async def describe_agent(url: str, agent: str) -> dict[str, Any]:
    """``GET /agents/{agent}``: live config, prices and payment terms.

    Raises:
        HireError: the runtime is unreachable or does not serve the agent.
    """
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        try:
            response = await client.get(f"/agents/{quote(agent, safe='')}")
        except httpx.HTTPError as exc:
            raise HireError(f"cannot reach the runtime at {url}: {exc}") from exc
    if response.status_code != 200:
        raise HireError(_problem(response))
    document: dict[str, Any] = response.json()
    return document


async def hire_over_http(
    url: str,
    agent: dict[str, Any],
    skill: str,
    task_input: str,
    signer: LocalAccount,
    max_price: Decimal,
) -> dict[str, Any]:
    """Hire ``agent`` (as :func:`describe_agent` returned it) for one task, paying from
    ``signer`` no more than ``max_price`` of the payment token.

    Returns:
        The answer: ``result`` and ``receipt``.

    Raises:
        HireError: refused (402/404/409/503), failed (502, nothing charged), or the
            price exceeds ``max_price``.
    """
    prices = {s["name"]: Decimal(s["price"]) for s in agent["skills"]}
    if skill in prices and prices[skill] > max_price:
        raise HireError(
            f"{agent['name']}/{skill} costs {prices[skill]} {agent['payment_token_symbol']}, "
            f"more than --max-price {max_price}"
        )
    # an older runtime does not say; USDC is what it took
    decimals = int(agent.get("payment_token_decimals", USDC_DECIMALS))
    cap = int(max_price.scaleb(decimals))
    client = x402Client()
    client.register(agent["network"], ExactEvmClientScheme(EthAccountSigner(signer)))
    client.set_spend_controls(
        {
            "allowed_assets": [
                {
                    "network": agent["network"],
                    "asset": agent["payment_token"],
                    "max_amount_per_payment": str(cap),
                }
            ]
        }
    )
    transport = x402AsyncTransport(client)
    async with httpx.AsyncClient(transport=transport, base_url=url, timeout=120) as http:
        try:
            response = await http.post(
                f"/agents/{quote(agent['name'], safe='')}/skills/{quote(skill, safe='')}",
                json={"input": task_input},
            )
        except Exception as exc:  # x402's PaymentError and transport errors alike
            raise HireError(f"the hire did not complete: {exc}") from exc
    if response.status_code != 200:
        raise HireError(_problem(response))
    answer: dict[str, Any] = response.json()
    return answer


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    message = body.get("error") or body.get("detail") or response.text[:200]
    task = f" (task {body['task_id']})" if body.get("task_id") else ""
    return f"HTTP {response.status_code}: {message}{task}"
