"""The stock x402 server the settlement benchmark compares the runtime with.

x402's own FastAPI ``payment_middleware`` in front of an offline handler, with an
``x402ResourceServer`` whose facilitator is x402's in-process ``x402Facilitator``
(the package's exact-EVM and batch-settlement facilitator schemes, its web3 signer with
its defaults); no code of this project. It sells two routes at one price, paying a fixed
address in the launched MockUSDC:

- ``POST /exact/headline``: ``exact`` (one EIP-3009 transfer settled before the answer);
- ``POST /batch/headline``: ``batch-settlement`` (a voucher on a prepaid channel, kept in
  x402's in-memory channel storage; nothing is claimed).

Run by the benchmark as ``python -m benchmarks._stock`` (uvicorn, one worker), configured
by ``STOCK_*`` environment variables (see :func:`create_app`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from eth_account import Account
from fastapi import FastAPI, Request, Response
from web3 import Web3
from x402 import x402Facilitator, x402ResourceServer
from x402.http import PaymentOption, RouteConfig
from x402.http.middleware.fastapi import payment_middleware
from x402.mechanisms.evm import FacilitatorWeb3Signer
from x402.mechanisms.evm.batch_settlement.authorizer_signer import LocalAuthorizerSigner
from x402.mechanisms.evm.batch_settlement.facilitator import BatchSettlementEvmFacilitator
from x402.mechanisms.evm.batch_settlement.server import (
    BatchSettlementEvmScheme as BatchSettlementEvmServerScheme,
)
from x402.mechanisms.evm.exact import ExactEvmFacilitatorScheme, ExactEvmServerScheme
from x402.schemas import AssetAmount

from contracts.chain import ROOT, free_port

__all__ = ["BATCH_PATH", "EXACT_PATH", "create_app", "served_stock"]

EXACT_PATH = "/exact/headline"
BATCH_PATH = "/batch/headline"

_TOKEN_ABI: list[dict[str, Any]] = [
    {
        "name": name,
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "string"}],
    }
    for name in ("name", "version")
]


def create_app() -> FastAPI:
    """The stock app, from ``STOCK_RPC_URL``, ``STOCK_FACILITATOR_KEY`` (pays the gas and
    authorizes claims), ``STOCK_TOKEN``, ``STOCK_PAY_TO`` and ``STOCK_PRICE`` (units)."""
    rpc_url = os.environ["STOCK_RPC_URL"]
    key = os.environ["STOCK_FACILITATOR_KEY"]
    token_address = Web3.to_checksum_address(os.environ["STOCK_TOKEN"])
    pay_to = Web3.to_checksum_address(os.environ["STOCK_PAY_TO"])
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    network = f"eip155:{w3.eth.chain_id}"
    token = w3.eth.contract(token_address, abi=_TOKEN_ABI)
    price = AssetAmount(
        amount=os.environ.get("STOCK_PRICE", "10000"),
        asset=token_address,
        extra={
            "name": token.functions.name().call(),
            "version": token.functions.version().call(),
            "assetTransferMethod": "eip3009",
        },
    )

    signer = FacilitatorWeb3Signer(private_key=key, rpc_url=rpc_url)
    facilitator = x402Facilitator()
    facilitator.register([network], ExactEvmFacilitatorScheme(signer))
    facilitator.register(
        [network],
        BatchSettlementEvmFacilitator(signer, LocalAuthorizerSigner(Account.from_key(key))),
    )
    server = x402ResourceServer(facilitator)
    # x402's schemes satisfy its SchemeNetworkServer protocol only loosely typed.
    server.register(network, ExactEvmServerScheme())  # type: ignore[no-untyped-call,arg-type]
    server.register(network, BatchSettlementEvmServerScheme(pay_to))  # type: ignore[arg-type]

    routes: dict[str, RouteConfig] = {
        f"POST {path}": RouteConfig(
            accepts=PaymentOption(scheme=scheme, pay_to=pay_to, price=price, network=network)
        )
        for path, scheme in ((EXACT_PATH, "exact"), (BATCH_PATH, "batch-settlement"))
    }
    pay = payment_middleware(routes, server)

    app = FastAPI()

    @app.middleware("http")
    async def x402(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        return await pay(request, call_next)

    async def headline(request: Request) -> dict[str, str]:
        body = await request.json()
        return {"headline": " ".join(str(body.get("input", "")).split()[:10])}

    app.add_api_route(EXACT_PATH, headline, methods=["POST"])
    app.add_api_route(BATCH_PATH, headline, methods=["POST"])
    return app


@contextmanager
def served_stock(
    rpc_url: str, token: str, pay_to: str, facilitator_key: str, log: Path
) -> Iterator[tuple[str, int]]:
    """Run the stock app in a subprocess until the block ends; yield its URL and pid."""
    port = free_port()
    variables = os.environ | {
        "STOCK_RPC_URL": rpc_url,
        "STOCK_TOKEN": token,
        "STOCK_PAY_TO": pay_to,
        "STOCK_FACILITATOR_KEY": facilitator_key,
        "STOCK_PORT": str(port),
    }
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._stock"],
            env=variables,
            stdout=sink,
            stderr=sink,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the stock server did not start:\n{log.read_text()[-3000:]}")
            try:
                httpx.get(f"{url}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=int(os.environ["STOCK_PORT"]),
        log_level="info",  # as agentdao up's (an access log line per request)
    )


if __name__ == "__main__":
    main()
