"""A small, typed door to the chain: deploy contracts and send transactions.

Transactions are signed locally (keys never reach the node) and each one waits
for its receipt; a revert raises :class:`TransactionFailedError` naming the
contract's custom error, e.g. ``AgentConfigInvalidSplit(9000)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception
from web3.types import RPCEndpoint, TxReceipt

from agents.core.errors import ChainUnreachableError, TransactionFailedError
from contracts import artifacts

__all__ = ["GAS_HEADROOM", "GAS_MARGIN", "Chain", "decode_revert", "sender_lock"]

GAS_MARGIN = 1.2
"""Multiplier on every gas estimate."""
GAS_HEADROOM = 70_000
"""Gas added on top. A vote checkpoint written in place within one second is a new
storage slot in the next (20,000 more each); a stake or unstake can move three
(the holder's delegate, the other side, the total supply)."""


_SENDER_LOCKS: dict[str, threading.Lock] = {}
_SENDER_LOCKS_GUARD = threading.Lock()


def sender_lock(address: str) -> threading.Lock:
    """The process-wide lock an account holds from picking a nonce to broadcasting.

    The runtime sends from the operator account in several threads (settlements,
    distributions, buybacks); two of them reading the same pending nonce would make
    one transaction fail. Hold it only to send, never while waiting for a receipt.
    """
    key = address.lower()
    with _SENDER_LOCKS_GUARD:
        return _SENDER_LOCKS.setdefault(key, threading.Lock())


@cache
def _error_signatures() -> dict[bytes, tuple[str, list[str]]]:
    """Selector -> (error name, input types) over every committed artifact."""
    table: dict[bytes, tuple[str, list[str]]] = {}
    for name in artifacts.DEPLOYABLE:
        for entry in artifacts.load(name).abi:
            if entry.get("type") == "error":
                types = [item["type"] for item in entry["inputs"]]
                signature = f"{entry['name']}({','.join(types)})"
                table[bytes(Web3.keccak(text=signature)[:4])] = (entry["name"], types)
    return table


def decode_revert(data: str | bytes | None) -> str:
    """Render revert data as ``ErrorName(arg, ...)`` when the error is one of ours."""
    if not data:
        return "reverted without a reason"
    raw = HexBytes(data)
    known = _error_signatures().get(bytes(raw[:4]))
    if known is None:
        return f"reverted with data {raw.to_0x_hex()}"
    name, types = known
    try:
        values = Web3().codec.decode(types, bytes(raw[4:]))
    except Exception:  # undecodable arguments still leave a useful name
        return f"{name}(…)"
    return f"{name}({', '.join(str(v) for v in values)})"


class Chain:
    """A Web3 connection plus the account that signs by default."""

    def __init__(self, rpc_url: str, signer: LocalAccount, timeout: float = 30.0) -> None:
        self.rpc_url = rpc_url
        # web3's validation asks eth_chainId before and after every call and transaction
        # (a sixth of a paid hire's worker time); an RPC URL's chain never changes.
        self.w3 = Web3(
            Web3.HTTPProvider(
                rpc_url,
                request_kwargs={"timeout": timeout},
                cache_allowed_requests=True,
                cacheable_requests={RPCEndpoint("eth_chainId")},
            )
        )
        self.signer = signer
        try:
            self.chain_id = int(self.w3.eth.chain_id)
        except (OSError, Web3Exception) as exc:
            raise ChainUnreachableError(rpc_url, type(exc).__name__) from exc
        except Exception as exc:  # requests' ConnectionError and friends
            raise ChainUnreachableError(rpc_url, type(exc).__name__) from exc

    def contract(self, name: str, address: str) -> Contract:
        """A bound contract of a deployable type at ``address``."""
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=artifacts.load(name).abi
        )

    def has_code(self, address: str | None) -> bool:
        """True when ``address`` holds a contract."""
        if not address:
            return False
        return len(self.w3.eth.get_code(Web3.to_checksum_address(address))) > 0

    def deploy(self, name: str, *args: Any, signer: LocalAccount | None = None) -> Contract:
        """Deploy a committed artifact and return the bound contract."""
        artifact = artifacts.load(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.send(factory.constructor(*args), signer, what=f"deploy {name}")
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionFailedError(f"deploy {name}: no contract address in the receipt")
        return self.contract(name, address)

    def send(
        self,
        call: ContractFunction | ContractConstructor,
        signer: LocalAccount | None = None,
        *,
        what: str | None = None,
        on_signed: Callable[[str], None] | None = None,
        timeout: float = 120.0,
    ) -> TxReceipt:
        """Sign, send and wait for a contract call (or constructor); raise on revert.

        Args:
            what: How errors name the call (default: the function's name).
            on_signed: Called with the transaction hash after signing, before it is
                broadcast, so a caller can remember it across a crash.
            timeout: Seconds to wait for the receipt.
        """
        account = signer or self.signer
        label = what or str(getattr(call, "fn_name", "transaction"))
        with sender_lock(account.address):
            tx_hash = self._broadcast(call, account, label, on_signed)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        if receipt["status"] != 1:
            raise TransactionFailedError(f"{label}: reverted in tx {tx_hash.to_0x_hex()}")
        return receipt

    def _broadcast(
        self,
        call: Any,
        account: LocalAccount,
        what: str,
        on_signed: Callable[[str], None] | None,
    ) -> HexBytes:
        """Estimate, sign and send (the caller holds the sender's lock)."""
        try:
            tx = call.build_transaction(
                {
                    "from": account.address,
                    "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                    "chainId": self.chain_id,
                }
            )
        except ContractCustomError as exc:
            data = exc.data if isinstance(exc.data, str) else None
            raise TransactionFailedError(f"{what}: {decode_revert(data)}") from exc
        except ContractLogicError as exc:
            data = exc.data if isinstance(exc.data, str) else None
            reason = exc.message or decode_revert(data)
            raise TransactionFailedError(f"{what}: {reason}") from exc
        # Estimates run against the pending block; state that depends on the block's
        # timestamp (ERC20Votes checkpoints written in place within one second, pushed
        # in the next) can cost more when mined, so leave headroom.
        tx["gas"] = int(tx["gas"] * GAS_MARGIN) + GAS_HEADROOM
        signed = account.sign_transaction(tx)
        if on_signed is not None:
            on_signed(HexBytes(signed.hash).to_0x_hex())
        return HexBytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))
