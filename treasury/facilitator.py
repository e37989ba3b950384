"""The x402 facilitator that verifies and settles payments.

On the embedded chain (and anywhere no facilitator URL is set) it runs in-process:
x402's exact-EVM facilitator, sending ``transferWithAuthorization`` from the
operator key, which pays the gas. With ``AGENTDAO_FACILITATOR_URL`` it is a remote
facilitator spoken to over x402's HTTP protocol.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from web3 import Web3
from x402 import x402FacilitatorSync
from x402.http import FacilitatorConfig, HTTPFacilitatorClient
from x402.mechanisms.evm import FacilitatorWeb3Signer
from x402.mechanisms.evm.batch_settlement import BATCH_SETTLEMENT_ADDRESS
from x402.mechanisms.evm.batch_settlement.facilitator.scheme import BatchSettlementEvmFacilitator
from x402.mechanisms.evm.exact import ExactEvmFacilitatorScheme, ExactEvmSchemeConfig
from x402.schemas import PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse

from agents.core.settings import Settings
from contracts.client import Chain, sender_lock
from contracts.session import deployer_of

__all__ = ["Facilitator", "LocalFacilitator", "RemoteFacilitator", "open_facilitator"]

_CONFIRMATION_TIMEOUT = 30.0
_SETTLE_GAS_LIMIT = 200_000
_ESCROW = Web3.to_checksum_address(BATCH_SETTLEMENT_ADDRESS)
_ESCROW_GAS_MARGIN = 1.25


class Facilitator(Protocol):
    """Verifies and settles x402 payments."""

    async def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> VerifyResponse: ...

    async def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> SettleResponse: ...

    async def aclose(self) -> None: ...

    def resync(self) -> None:
        """Forget what it assumed of the chain's state (the operator's next nonce): the
        chain lost blocks, so those assumptions may be ahead of it."""


class _ContractCache:
    """The x402 signer builds a web3 contract for every read and settlement, and web3
    validates and hashes the whole ABI each time (a quarter of a settlement's CPU in a
    profile); the same address and ABI give the same contract, so build it once."""

    def __init__(self, make: Callable[..., Any]) -> None:
        self._make = make
        self._built: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, address: str | None = None, abi: Any = None, **kwargs: Any) -> Any:
        if address is None or kwargs:
            return self._make(address=address, abi=abi, **kwargs)
        key = (address, repr(abi))
        with self._lock:
            built = self._built.get(key)
            if built is None:
                built = self._built[key] = self._make(address=address, abi=abi)
        return built


class _OperatorSigner(FacilitatorWeb3Signer):
    """x402's web3 signer, made fit to share the operator key with the runtime.

    - The operator key also pays for distributions and buybacks (``Chain.send``);
      every send takes the account's :func:`~contracts.client.sender_lock`, so no two
      threads pick the same nonce.
    - Contracts are built once per address and ABI (see :class:`_ContractCache`).
    - Calls to the batch-settlement escrow get an estimated gas limit: a claim grows
      with its vouchers (~20k gas and ~400 bytes of calldata each), and under the fixed
      limit one of 8 vouchers ran out of gas and one of ~20 fell below its calldata's
      intrinsic cost (a node refuses it; anvil drops it after returning its hash,
      leaving a nonce gap that stalls every later transaction of the operator).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        eth = self._w3.eth
        eth.contract = _ContractCache(eth.contract)  # type: ignore[method-assign,assignment]
        self._send_lock = sender_lock(self.address)

    def write_contract(
        self, address: str, abi: Any, function_name: str, *args: Any, **kwargs: Any
    ) -> str:
        with self._send_lock:
            try:
                self._gas_limit = self._gas_for(address, abi, function_name, args)
                sent: str = super().write_contract(address, abi, function_name, *args, **kwargs)
            except BaseException:
                self._forget_nonce()
                raise
        return sent

    def send_transaction(self, *args: Any, **kwargs: Any) -> str:
        with self._send_lock:
            try:
                sent: str = super().send_transaction(*args, **kwargs)
            except BaseException:
                self._forget_nonce()
                raise
        return sent

    def _gas_for(self, address: str, abi: Any, function_name: str, args: tuple[Any, ...]) -> int:
        if Web3.to_checksum_address(address) != _ESCROW:
            return _SETTLE_GAS_LIMIT  # a transfer: the fixed limit spares an RPC per call
        contract = self._w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
        call = getattr(contract.functions, function_name)(*args)
        return int(call.estimate_gas({"from": self.address}) * _ESCROW_GAS_MARGIN)

    def _forget_nonce(self) -> None:
        # The signer counts nonces itself and has already moved past the one a failed
        # send reserved; left so, every later settlement would queue behind the gap.
        self._next_nonce = None


class LocalFacilitator:
    """x402's exact-EVM facilitator in this process.

    Its web3 calls block (settle waits for the receipt), so they run in worker
    threads; the signer's nonce counter is thread-safe.
    """

    def __init__(self, rpc_url: str, operator_key: str, network: str) -> None:
        self.signer = _OperatorSigner(
            private_key=operator_key,
            rpc_url=rpc_url,
            confirmation_timeout_seconds=_CONFIRMATION_TIMEOUT,
            gas_limit=_SETTLE_GAS_LIMIT,
        )
        self._facilitator = x402FacilitatorSync()
        # Simulating before broadcast turns a reused or unfunded authorization into a
        # refusal instead of a reverted transaction the operator pays gas for.
        config = ExactEvmSchemeConfig(simulate_in_settle=True)
        self._facilitator.register([network], ExactEvmFacilitatorScheme(self.signer, config))
        # Deposits, claims and settles of prepaid channels (only used where the chain has
        # the batch-settlement escrow; see treasury.batch).
        self._facilitator.register([network], BatchSettlementEvmFacilitator(self.signer))

    @property
    def x402(self) -> x402FacilitatorSync:
        """x402's facilitator itself, for the batch-settlement server (which drives it)."""
        return self._facilitator

    async def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> VerifyResponse:
        response: VerifyResponse = await asyncio.to_thread(
            self._facilitator.verify, payload, requirements
        )
        return response

    async def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> SettleResponse:
        response: SettleResponse = await asyncio.to_thread(
            self._facilitator.settle, payload, requirements
        )
        return response

    async def aclose(self) -> None:
        """Nothing to release: the signer's HTTP session closes with the process."""

    def resync(self) -> None:
        # A nonce counted past blocks the chain lost would queue every settlement
        # behind a gap that never fills.
        self.signer._forget_nonce()


class RemoteFacilitator:
    """A facilitator service by URL, over x402's HTTP facilitator protocol.

    x402's client keeps one httpx client, whose pooled connections belong to the event
    loop that opened them: reused from another loop (a worker thread's ``asyncio.run``,
    a second app) it fails with "Event loop is closed" or hangs. So each loop gets a
    client of its own, forgotten with its loop.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, HTTPFacilitatorClient
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _client(self) -> HTTPFacilitatorClient:
        """The client of the running loop (made on its first call there)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.get(loop)
            if client is None:
                client = self._clients[loop] = HTTPFacilitatorClient(
                    FacilitatorConfig(url=self.url)
                )
        return client

    async def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> VerifyResponse:
        response: VerifyResponse = await self._client().verify(payload, requirements)
        return response

    async def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> SettleResponse:
        response: SettleResponse = await self._client().settle(payload, requirements)
        return response

    async def aclose(self) -> None:
        """Close the running loop's client (another loop's closes with that loop)."""
        with self._lock:
            client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def resync(self) -> None:
        """Nothing to forget: the remote service keeps its own nonces."""


def open_facilitator(settings: Settings, chain: Chain, network: str) -> Facilitator:
    """The remote facilitator the settings name, else an in-process one that pays gas
    from the deployer key."""
    if settings.facilitator_url is not None:
        return RemoteFacilitator(settings.facilitator_url)
    key = Web3.to_hex(deployer_of(settings).key)
    return LocalFacilitator(chain.rpc_url, key, network)
