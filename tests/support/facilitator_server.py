"""A real x402 facilitator service over HTTP, for the tests of the remote facilitator.

x402's own exact-EVM facilitator (``x402FacilitatorSync`` with
``ExactEvmFacilitatorScheme`` and a web3 signer that pays the gas) behind the x402
facilitator protocol's three routes (``POST /verify``, ``POST /settle``,
``GET /supported``), served by uvicorn in a thread on a free port.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI
from web3 import Web3
from x402 import x402FacilitatorSync
from x402.mechanisms.evm import FacilitatorWeb3Signer
from x402.mechanisms.evm.exact import ExactEvmFacilitatorScheme, ExactEvmSchemeConfig
from x402.schemas import PaymentPayload, PaymentRequirements

from contracts.accounts import dev_account
from contracts.chain import free_port

__all__ = ["FacilitatorServer"]

GAS_PAYER = 7
"""The dev account whose key the facilitator settles with (it pays the gas)."""


def facilitator_app(rpc_url: str, network: str) -> FastAPI:
    """The x402 facilitator protocol over x402's exact-EVM facilitator on ``rpc_url``."""
    signer = FacilitatorWeb3Signer(
        private_key=Web3.to_hex(dev_account(GAS_PAYER).key), rpc_url=rpc_url
    )
    facilitator = x402FacilitatorSync()
    scheme = ExactEvmFacilitatorScheme(signer, ExactEvmSchemeConfig(simulate_in_settle=True))
    facilitator.register([network], scheme)
    app = FastAPI(title="x402 facilitator (test)")

    def parsed(body: dict[str, Any]) -> tuple[PaymentPayload, PaymentRequirements]:
        return (
            PaymentPayload.model_validate(body["paymentPayload"]),
            PaymentRequirements.model_validate(body["paymentRequirements"]),
        )

    # Plain `def`: the facilitator's web3 calls block, so Starlette runs them in threads.
    @app.post("/verify")
    def verify(body: dict[str, Any]) -> dict[str, Any]:
        answer = facilitator.verify(*parsed(body))
        return answer.model_dump(by_alias=True, exclude_none=True)

    @app.post("/settle")
    def settle(body: dict[str, Any]) -> dict[str, Any]:
        answer = facilitator.settle(*parsed(body))
        return answer.model_dump(by_alias=True, exclude_none=True)

    @app.get("/supported")
    def supported() -> dict[str, Any]:
        return facilitator.get_supported().model_dump(by_alias=True, exclude_none=True)

    return app


class FacilitatorServer:
    """:func:`facilitator_app` served by uvicorn in a thread; a context manager.

    ``stop`` takes it down (connections refused), ``start`` brings it back on the same
    port, so a test can take the facilitator away and return it."""

    def __init__(self, rpc_url: str, network: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._app = facilitator_app(rpc_url, network)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FacilitatorServer:
        config = uvicorn.Config(self._app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive(), "the facilitator did not start"
            assert time.monotonic() < deadline, "the facilitator did not start in 10 s"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> FacilitatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
