"""A small, typed door to the chain: deploy contracts and send transactions.

Transactions are signed locally (keys never reach the node) and sent through the
account's :class:`~contracts.sender.Sender`, which the process shares with every other
sender from that account (nonces, gas, fees, stuck transactions; see
:mod:`contracts.sender`). A revert raises :class:`TransactionFailedError` naming the
contract's custom error, e.g. ``AgentConfigInvalidSplit(9000)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt, Wei

from agents.core.errors import ChainUnreachableError, TransactionFailedError
from contracts import artifacts
from contracts.sender import GAS_HEADROOM, GAS_MARGIN, PendingTransaction, Sender, sender_for

__all__ = ["GAS_HEADROOM", "GAS_MARGIN", "Chain", "decode_revert"]


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

    def sender(self, signer: LocalAccount | None = None) -> Sender:
        """The process's sender for ``signer`` (default: this chain's signer)."""
        return sender_for(self.rpc_url, signer or self.signer)

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
                broadcast, so a caller can remember it across a crash (again with the
                new hash when a stuck or lost transaction is sent again).
            timeout: Seconds to wait for the receipt.

        Raises:
            TransactionFailedError: the call reverts (in the estimate or on chain), or
                could not be sent.
            TimeExhausted: no receipt within ``timeout`` (it may still land).
        """
        label = what or str(getattr(call, "fn_name", "transaction"))
        pending = self.submit(call, signer, what=label, on_signed=on_signed)
        receipt = pending.wait(timeout)
        if receipt["status"] != 1:
            raise TransactionFailedError(f"{label}: reverted in tx {pending.landed_hash}")
        return receipt

    def submit(
        self,
        call: ContractFunction | ContractConstructor,
        signer: LocalAccount | None = None,
        *,
        what: str | None = None,
        on_signed: Callable[[str], None] | None = None,
    ) -> PendingTransaction:
        """Sign and broadcast a contract call (or constructor); return without waiting,
        so several can be in flight (see :meth:`send` for the arguments).

        Raises:
            TransactionFailedError: the estimate reverts, or it could not be sent.
        """
        account = signer or self.signer
        label = what or str(getattr(call, "fn_name", "transaction"))
        # Everything web3 would otherwise ask the node for while encoding (the sender
        # picks them).
        placeholders: TxParams = {
            "from": account.address,
            "chainId": self.chain_id,
            "gas": 0,
            "nonce": Nonce(0),
            "maxFeePerGas": Wei(0),
            "maxPriorityFeePerGas": Wei(0),
        }
        built = call.build_transaction(placeholders)
        tx: TxParams = {"value": built.get("value", Wei(0)), "data": built["data"]}
        if "to" in built:
            tx["to"] = built["to"]
        try:
            return self.sender(account).submit(tx, label=label, on_signed=on_signed)
        except ContractCustomError as exc:
            data = exc.data if isinstance(exc.data, str) else None
            raise TransactionFailedError(f"{label}: {decode_revert(data)}") from exc
        except ContractLogicError as exc:
            data = exc.data if isinstance(exc.data, str) else None
            reason = exc.message or decode_revert(data)
            raise TransactionFailedError(f"{label}: {reason}") from exc
