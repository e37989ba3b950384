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
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from eth_account import Account
from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.types import RPCEndpoint, TxParams
from x402 import x402FacilitatorSync
from x402.http import FacilitatorConfig, HTTPFacilitatorClient
from x402.mechanisms.evm import FacilitatorWeb3Signer
from x402.mechanisms.evm.batch_settlement.facilitator.scheme import BatchSettlementEvmFacilitator
from x402.mechanisms.evm.data_suffix import append_data_suffix
from x402.mechanisms.evm.exact import ExactEvmFacilitatorScheme, ExactEvmSchemeConfig
from x402.mechanisms.evm.types import TransactionReceipt
from x402.schemas import PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse

from agents.core.errors import TransactionFailedError
from agents.core.settings import Settings
from contracts.client import Chain, decode_revert
from contracts.sender import PendingTransaction, Sender, sender_for
from contracts.session import deployer_of

__all__ = ["Facilitator", "LocalFacilitator", "RemoteFacilitator", "open_facilitator"]

_CONFIRMATION_TIMEOUT = 30.0
_REMEMBERED = 1024
"""Transactions the signer keeps by hash, so x402's wait (which asks by hash after the
send returned) finds the pending transaction; many more than are ever in flight."""


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
    """x402's web3 signer, sending through the operator's shared
    :class:`~contracts.sender.Sender`.

    - The operator key also pays for distributions, buybacks and channel claims
      (``Chain.send``); one sender per process counts its nonces, so settlements are
      pipelined with those and with each other: a send never waits for another's receipt.
    - Gas is estimated per transaction (x402 sends a fixed limit), fees are EIP-1559 and
      a stuck settlement is replaced with higher fees (see :mod:`contracts.sender`).
    - The receipt wait is the sender's poller resolving a future, not a sleep loop.
    - Contracts are built once per address and ABI (see :class:`_ContractCache`).
    - Calls of the batch-settlement escrow get the gas they need, estimated: a claim
      grows by ~25k gas per voucher, so x402's fixed limit (ours: 200k, enough for one
      ``exact`` transfer) made every claim of eight vouchers or more revert.
    """

    def __init__(self, sender: Sender, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        eth = self._w3.eth
        eth.contract = _ContractCache(eth.contract)  # type: ignore[method-assign,assignment]
        # web3 asks eth_chainId around calls; an RPC URL's chain never changes.
        provider = self._w3.provider
        provider.cache_allowed_requests = True
        provider.cacheable_requests = {RPCEndpoint("eth_chainId")}
        self.sender = sender
        self._sent: OrderedDict[str, PendingTransaction] = OrderedDict()
        self._sent_lock = threading.Lock()

    def write_contract(
        self,
        address: str,
        abi: list[dict[str, Any]],
        function_name: str,
        *args: Any,
        data_suffix: str | None = None,
    ) -> str:
        contract = self._w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
        data = append_data_suffix(contract.encode_abi(function_name, args=list(args)), data_suffix)
        return self._submit({"to": contract.address, "data": HexStr(data)}, function_name)

    def send_transaction(self, to: str, data: bytes) -> str:
        return self._submit({"to": Web3.to_checksum_address(to), "data": data}, "transaction")

    def _submit(self, tx: TxParams, label: str) -> str:
        try:
            pending = self.sender.submit(tx, label=label)
        except ContractCustomError as exc:  # the estimate reverted: nothing was sent
            data = exc.data if isinstance(exc.data, str) else None
            raise TransactionFailedError(f"{label}: {decode_revert(data)}") from exc
        with self._sent_lock:
            self._sent[pending.tx_hash] = pending
            while len(self._sent) > _REMEMBERED:
                self._sent.popitem(last=False)
        return pending.tx_hash

    def wait_for_transaction_receipt(self, tx_hash: str) -> TransactionReceipt:
        """The receipt of the transaction sent as ``tx_hash``, or of the version that
        replaced it; a hash this signer did not send is polled for at the sender's pace.

        Raises:
            web3.exceptions.TimeExhausted: nothing landed within the confirmation timeout.
        """
        tx_hash = tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
        with self._sent_lock:
            pending = self._sent.get(tx_hash)
        timeout = self._confirmation_timeout_seconds
        if pending is not None:
            receipt = pending.wait(timeout)
        else:
            receipt = self._w3.eth.wait_for_transaction_receipt(
                tx_hash,  # type: ignore[arg-type]
                timeout=timeout,
                poll_latency=self.sender.policy.poll_interval,
            )
        return TransactionReceipt(
            status=1 if receipt["status"] == 1 else 0,
            block_number=receipt["blockNumber"],
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            logs=list(receipt.get("logs") or []),
        )

    def landed(self, tx_hash: str) -> str:
        """The hash that landed for a transaction this signer sent as ``tx_hash`` (a
        replacement's, when the first version was stuck or lost); else ``tx_hash``."""
        with self._sent_lock:
            pending = self._sent.get(tx_hash)
        return tx_hash if pending is None else pending.landed_hash


class LocalFacilitator:
    """x402's exact-EVM facilitator in this process.

    Its web3 calls block (settle waits for the receipt), so they run in worker
    threads; they send through the operator's shared sender, which is thread-safe.
    """

    def __init__(self, rpc_url: str, operator_key: str, network: str) -> None:
        self.signer = _OperatorSigner(
            sender_for(rpc_url, Account.from_key(operator_key)),
            private_key=operator_key,
            rpc_url=rpc_url,
            confirmation_timeout_seconds=_CONFIRMATION_TIMEOUT,
        )
        self._facilitator = x402FacilitatorSync()
        # The sender's gas estimate runs the transfer before it is broadcast, so a reused
        # or unfunded authorization is still a refusal, not a reverted transaction the
        # operator pays gas for; x402's own simulation in settle would run it twice.
        config = ExactEvmSchemeConfig(simulate_in_settle=False)
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
        # x402 names the hash its send returned; a stuck one may have been replaced.
        landed = self.signer.landed(response.transaction) if response.transaction else ""
        if landed != response.transaction:
            response = response.model_copy(update={"transaction": landed})
        return response

    async def aclose(self) -> None:
        """Nothing to release: the signer's HTTP session closes with the process."""

    def resync(self) -> None:
        # A nonce counted past blocks the chain lost would queue every settlement
        # behind a gap that never fills.
        self.signer.sender.resync()


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
