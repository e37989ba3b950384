"""The transaction sender on a real anvil of its own per test (tests switch its mining
off, drop its transactions, reset it and restart it): pipelined nonces without gaps,
gas per transaction, stuck and lost transactions sent again, one poller for them all."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import TxParams, Wei

from agents.core.errors import TransactionFailedError
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain, free_port
from contracts.sender import Sender, SendPolicy
from tests.support.raw_contracts import (
    BURNER_ABI,
    BURNER_BYTECODE,
    REVERTER_BYTECODE,
    SLOT_GAS,
)

pytestmark = pytest.mark.chain

QUICK = SendPolicy(poll_interval=0.01, stuck_seconds=0.5, stuck_blocks=3, lost_after=0.2)
"""Patience measured in tenths of a second, so that tests wait little."""
SENDER = dev_account(3)
PAYEE = dev_account(4).address
OLD_SETTLE_GAS_LIMIT = 200_000
"""The fixed limit x402's signer sent every settlement with before the sender."""


@pytest.fixture
def node() -> Iterator[EmbeddedChain]:
    with EmbeddedChain(None, port=0) as chain:
        yield chain


@pytest.fixture
def w3(node: EmbeddedChain) -> Web3:
    return Web3(Web3.HTTPProvider(node.rpc_url))


@pytest.fixture
def sender(node: EmbeddedChain) -> Sender:
    return Sender(node.rpc_url, SENDER, QUICK)


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    reply = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in reply, reply
    return reply["result"]


def payment(value: int = 1) -> TxParams:
    return {"to": PAYEE, "value": Wei(value)}


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def nonce_of(w3: Web3, tx_hash: str) -> int:
    return int(w3.eth.get_transaction(tx_hash)["nonce"])  # type: ignore[arg-type]


def no_op_at(w3: Web3, nonce: int) -> bool:
    """Whether the sender's transaction at ``nonce`` is a no-op to itself."""
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            assert not isinstance(tx, bytes)
            if tx["from"] == SENDER.address and tx["nonce"] == nonce:
                return bool(tx["to"] == SENDER.address and tx["value"] == 0)
    return False


def test_concurrent_sends_get_consecutive_nonces_and_all_land(sender: Sender, w3: Web3) -> None:
    with ThreadPoolExecutor(16) as pool:
        sent = list(pool.map(lambda _: sender.submit(payment(), label="pay"), range(128)))
    receipts = [p.wait(30) for p in sent]
    assert all(r["status"] == 1 for r in receipts)
    assert sorted(nonce_of(w3, r["transactionHash"].to_0x_hex()) for r in receipts) == list(
        range(128)
    )
    assert w3.eth.get_transaction_count(SENDER.address) == 128


def test_one_poller_thread_waits_for_every_pending_transaction(sender: Sender, w3: Web3) -> None:
    rpc(w3, "evm_setAutomine", False)
    sent = [sender.submit(payment()) for _ in range(40)]
    name = f"sender {SENDER.address} on {sender.rpc_url}"
    pollers = [t for t in threading.enumerate() if t.name == name]
    assert len(pollers) == 1
    assert not any(p.future.done() for p in sent)
    rpc(w3, "evm_mine")
    assert all(p.wait(10)["status"] == 1 for p in sent)


def test_a_failed_broadcast_leaves_no_gap(sender: Sender, w3: Web3) -> None:
    rpc(w3, "evm_setAutomine", False)
    first = sender.submit(payment())
    with pytest.raises(TransactionFailedError, match="not sent"):
        # the node refuses it (insufficient funds); gas given, so no estimate fails first
        sender.submit({"to": PAYEE, "value": Wei(10**30), "gas": 21_000})
    after = sender.submit(payment())
    assert after.nonce == first.nonce + 1
    rpc(w3, "evm_mine")
    assert [first.wait(10)["status"], after.wait(10)["status"]] == [1, 1]


def test_a_nonce_another_process_took_is_skipped(sender: Sender, w3: Web3) -> None:
    sender.send(payment())
    # another process with the same key sends the nonce this sender counts next
    other = SENDER.sign_transaction(
        {
            "to": PAYEE,
            "value": 1,
            "gas": 21_000,
            "nonce": 1,
            "chainId": 31337,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    w3.eth.send_raw_transaction(other.raw_transaction)
    pending = sender.submit(payment())
    assert pending.nonce == 2
    assert pending.wait(10)["status"] == 1


def test_a_transaction_displaced_by_another_process_gets_a_new_nonce(
    sender: Sender, w3: Web3
) -> None:
    rpc(w3, "evm_setAutomine", False)
    pending = sender.submit(payment())
    mine = w3.eth.get_transaction(pending.tx_hash)  # type: ignore[arg-type]
    # another process with the same key outbids it at its nonce, and is mined
    other = SENDER.sign_transaction(
        {
            "to": PAYEE,
            "value": 2,
            "gas": 21_000,
            "nonce": 0,
            "chainId": 31337,
            "maxFeePerGas": 2 * mine["maxFeePerGas"],
            "maxPriorityFeePerGas": 2 * mine["maxPriorityFeePerGas"],
        }
    )
    w3.eth.send_raw_transaction(other.raw_transaction)
    rpc(w3, "evm_mine")
    until(lambda: len(pending.hashes) == 2)
    rpc(w3, "evm_mine")
    receipt = pending.wait(10)
    assert receipt["status"] == 1
    assert nonce_of(w3, receipt["transactionHash"].to_0x_hex()) == 1


def test_a_dropped_transaction_is_sent_again_and_its_waiter_gets_that_receipt(
    sender: Sender, w3: Web3
) -> None:
    rpc(w3, "evm_setAutomine", False)
    pending = sender.submit(payment())
    rpc(w3, "anvil_dropTransaction", pending.tx_hash)
    until(lambda: len(pending.hashes) == 2)
    rpc(w3, "evm_mine")
    receipt = pending.wait(10)
    landed = receipt["transactionHash"].to_0x_hex()
    assert receipt["status"] == 1
    assert landed == pending.hashes[1] == pending.landed_hash != pending.tx_hash
    assert nonce_of(w3, landed) == 0


def test_a_stuck_transaction_is_replaced_with_fees_raised_by_an_eighth(
    sender: Sender, w3: Web3
) -> None:
    rpc(w3, "evm_setAutomine", False)
    pending = sender.submit(payment())
    first = w3.eth.get_transaction(pending.tx_hash)  # type: ignore[arg-type]
    until(lambda: len(pending.hashes) == 2)  # stuck for QUICK.stuck_seconds
    rpc(w3, "evm_mine")
    receipt = pending.wait(10)
    assert receipt["transactionHash"].to_0x_hex() == pending.hashes[1]
    landed = w3.eth.get_transaction(receipt["transactionHash"])
    assert landed["nonce"] == first["nonce"]
    assert landed["maxFeePerGas"] >= first["maxFeePerGas"] * 1.125
    assert landed["maxPriorityFeePerGas"] >= first["maxPriorityFeePerGas"] * 1.125
    with pytest.raises(Exception, match="not found"):
        w3.eth.get_transaction_receipt(pending.tx_hash)  # type: ignore[arg-type]


def test_after_a_revert_the_next_nonce_is_the_chains(sender: Sender, w3: Web3) -> None:
    snapshot = rpc(w3, "evm_snapshot")
    for _ in range(3):
        sender.send(payment())
    rpc(w3, "evm_revert", snapshot)
    receipt = sender.send(payment(), timeout=5)
    assert nonce_of(w3, receipt["transactionHash"].to_0x_hex()) == 0


def test_transactions_in_flight_when_the_chain_resets_are_sent_again(
    sender: Sender, w3: Web3
) -> None:
    for _ in range(2):
        sender.send(payment())
    rpc(w3, "evm_setAutomine", False)
    in_flight = [sender.submit(payment()) for _ in range(3)]
    assert [p.nonce for p in in_flight] == [2, 3, 4]
    rpc(w3, "anvil_reset")  # back to genesis, its pool emptied
    rpc(w3, "evm_setAutomine", True)
    receipts = [p.wait(10) for p in in_flight]
    # each at its own nonce (a copy left queued at it could never run twice) ...
    assert [nonce_of(w3, r["transactionHash"].to_0x_hex()) for r in receipts] == [2, 3, 4]
    assert all(r["status"] == 1 for r in receipts)
    # ... after no-ops at the nonces the chain lost
    assert [no_op_at(w3, nonce) for nonce in (0, 1)] == [True, True]
    assert nonce_of(w3, sender.send(payment())["transactionHash"].to_0x_hex()) == 5


def test_a_chain_restarted_without_its_newest_blocks_gets_the_lost_ones_again(
    tmp_path: Path,
) -> None:
    state = tmp_path / "chain" / "anvil-state.json"
    port = free_port()
    with EmbeddedChain(state, port=port) as node:
        sender = Sender(node.rpc_url, SENDER, QUICK)
        sender.send(payment())
    saved = tmp_path / "saved.json"
    shutil.copy(state, saved)  # the chain as it was after one payment
    with EmbeddedChain(state, port=port) as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        sender.send(payment())
        rpc(w3, "evm_setAutomine", False)
        in_flight = sender.submit(payment())
    shutil.copy(saved, state)  # the save of the last two is lost
    with EmbeddedChain(state, port=port) as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        receipt = in_flight.wait(20)
        assert receipt["status"] == 1
        assert nonce_of(w3, receipt["transactionHash"].to_0x_hex()) == 2
        assert no_op_at(w3, 1)
        assert nonce_of(w3, sender.send(payment())["transactionHash"].to_0x_hex()) == 3


def test_resync_sends_a_lost_transaction_again_at_once(node: EmbeddedChain, w3: Web3) -> None:
    patient = Sender(node.rpc_url, SENDER, SendPolicy(0.01, 60.0, 1000, lost_after=60.0))
    rpc(w3, "evm_setAutomine", False)
    pending = patient.submit(payment())
    rpc(w3, "anvil_dropTransaction", pending.tx_hash)
    patient.resync()
    until(lambda: len(pending.hashes) == 2, timeout=2)
    rpc(w3, "evm_mine")
    assert pending.wait(10)["status"] == 1


def burner(sender: Sender) -> Any:
    receipt = sender.send({"data": BURNER_BYTECODE})  # type: ignore[typeddict-item]
    assert receipt["status"] == 1
    return Web3().eth.contract(address=receipt["contractAddress"], abi=BURNER_ABI)


def test_gas_is_estimated_per_transaction(sender: Sender, w3: Web3) -> None:
    contract = burner(sender)
    call: TxParams = {"to": contract.address, "data": contract.encode_abi("fill", [20])}
    receipt = sender.send(call)
    assert receipt["status"] == 1
    assert receipt["gasUsed"] > 20 * SLOT_GAS > OLD_SETTLE_GAS_LIMIT
    light = sender.send(payment())
    assert w3.eth.get_transaction(light["transactionHash"])["gas"] < OLD_SETTLE_GAS_LIMIT


def test_gas_is_capped_at_the_block_limit_and_more_is_refused_unsent(
    sender: Sender, w3: Web3
) -> None:
    block_limit = w3.eth.get_block("latest")["gasLimit"]
    # its estimate is under the block's limit, the estimate with margin over it
    near = burner(sender)
    receipt = sender.send({"to": near.address, "data": near.encode_abi("fill", [1200])})
    assert receipt["status"] == 1
    assert w3.eth.get_transaction(receipt["transactionHash"])["gas"] == block_limit
    over = burner(sender)
    with pytest.raises(TransactionFailedError, match="more gas than a block holds"):
        sender.submit({"to": over.address, "data": over.encode_abi("fill", [2000])})
    assert sender.send(payment())["status"] == 1  # and no nonce was spent on it
    assert w3.eth.get_transaction_count(SENDER.address) == 4


def test_a_revert_in_the_estimate_sends_nothing(sender: Sender, w3: Web3) -> None:
    reverter = sender.send({"data": REVERTER_BYTECODE})["contractAddress"]  # type: ignore[typeddict-item]
    assert reverter is not None
    with pytest.raises(ContractLogicError):
        sender.submit({"to": reverter, "data": HexStr("0x")})
    assert sender.send(payment())["status"] == 1
    assert w3.eth.get_transaction_count(SENDER.address) == 2
