"""One account's transactions on one chain, sent without tripping over each other.

Every thread of a process that sends from an account (x402 settlements, distributions,
buybacks, channel claims) goes through that account's :class:`Sender`
(:func:`sender_for`). What it guarantees:

- **Pipelined nonces.** A send holds the account's lock only to pick a nonce, sign and
  broadcast; never while a receipt is awaited. Nonces are counted here while
  transactions are in flight; with none in flight, after a failed broadcast and after
  :meth:`Sender.resync`, the next one is the chain's ``pending`` count.
- **Nothing waits behind a gap.** A transaction the chain no longer has (dropped from
  the pool; lost to a restart, a revert or a reorg) is sent again at its own nonce, after
  a no-op at each lower nonce the chain lost; one whose nonce another transaction took
  gets a new nonce. Its waiter gets the receipt of the version that lands.
- **Gas per transaction.** ``eth_estimateGas`` with a margin, capped at the block gas
  limit; a transaction bigger than a block is refused before it is signed.
- **Fees that land.** EIP-1559 fees (a gas price where the chain has no base fee). A
  transaction not mined ``stuck_seconds`` or ``stuck_blocks`` after it was sent is
  replaced at its nonce with both fees at least 12.5 % higher; the waiter gets the
  receipt of whichever version lands.
- **Waiting costs no thread.** While anything is in flight, one poller thread per
  sender resolves every pending transaction's :attr:`PendingTransaction.future` from one
  batched RPC per tick (a tick starts as soon as something is sent).

The nonces are this process's: processes sharing a key still work (a nonce another
process took is a conflict the send retries with the chain's count), but they contend.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlparse

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TimeExhausted, TransactionNotFound, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint, TxParams, TxReceipt

from agents.core.errors import ChainUnreachableError, TransactionFailedError

__all__ = [
    "GAS_HEADROOM",
    "GAS_MARGIN",
    "PendingTransaction",
    "SendPolicy",
    "Sender",
    "sender_for",
]

log = logging.getLogger(__name__)

GAS_MARGIN = 1.2
"""Multiplier on every gas estimate."""
GAS_HEADROOM = 70_000
"""Gas added on top. A vote checkpoint written in place within one second is a new
storage slot in the next (20,000 more each); a stake or unstake can move three
(the holder's delegate, the other side, the total supply)."""

OnSigned = Callable[[str], None] | None
"""Called with a version's hash after it is signed, before it is broadcast."""

_BROADCAST_ATTEMPTS = 4
"""Tries at a fresh nonce when the one picked was taken (by another process's send)."""
_NONCE_TAKEN = ("nonce too low", "replacement transaction underpriced", "nonce has already")
_OVER_BLOCK = ("exceeds allowance", "exceeds block gas limit")
_ALREADY_KNOWN = ("already known", "already imported")
_LINGER = 2.0
"""Seconds the poller thread outlives the last transaction in flight (a burst of sends
would otherwise start one thread after another)."""
_FEE_TTL = 1.0
"""Seconds market fees are reused: 2 x base fee of headroom outlasts several blocks."""


@dataclass(frozen=True)
class SendPolicy:
    """How patiently a :class:`Sender` watches what it sent."""

    poll_interval: float
    """Seconds between receipt polls while transactions are in flight."""
    stuck_seconds: float
    """A transaction in the node's pool but not mined this long after it was sent is
    replaced at its nonce with higher fees."""
    stuck_blocks: int
    """... as is one not mined after this many new blocks."""
    lost_after: float
    """Seconds a transaction may be missing (neither mined nor in the node's pool, or its
    nonce mined by another transaction) before it is sent again; a grace for a node that
    answers before it has caught up. (A chain seen going back skips it.)"""
    max_replacements: int = 10
    """Fee bumps per transaction; past them it is left to land (or not) as it is."""

    @classmethod
    def for_rpc(cls, rpc_url: str) -> SendPolicy:
        """Quick on a node of this machine (anvil mines on arrival), patient elsewhere."""
        if urlparse(rpc_url).hostname in {"127.0.0.1", "localhost", "::1"}:
            return cls(poll_interval=0.01, stuck_seconds=5.0, stuck_blocks=3, lost_after=0.5)
        return cls(poll_interval=0.5, stuck_seconds=30.0, stuck_blocks=3, lost_after=5.0)


class PendingTransaction:
    """A broadcast transaction and its outcome to come.

    Attributes:
        label: What errors and logs call it.
        nonce: The nonce of its current version.
        hashes: The hash of every version sent, first to last; one of them lands.
        future: Resolves to the receipt of the version that landed (whatever its
            status), or to :class:`~agents.core.errors.TransactionFailedError` when no
            version could be sent again. Wrap it with ``asyncio.wrap_future`` to await it
            without a thread.
    """

    def __init__(
        self,
        label: str,
        tx: dict[str, Any],
        nonce: int,
        fees: dict[str, int],
        tx_hash: str,
        on_signed: OnSigned,
    ) -> None:
        self.label = label
        self.nonce = nonce
        self.hashes = [tx_hash]
        self.future: Future[TxReceipt] = Future()
        self._tx = tx
        self._fees = fees
        self._on_signed = on_signed
        self._sent_at = time.monotonic()
        self._sent_block: int | None = None
        self._missing_since: float | None = None
        self._replacements = 0

    @property
    def tx_hash(self) -> str:
        """The hash of the first version (the one the sender returned)."""
        return self.hashes[0]

    @property
    def landed_hash(self) -> str:
        """The hash of the version that landed, once it has; else the newest sent."""
        if self.future.done() and self.future.exception() is None:
            landed: str = self.future.result()["transactionHash"].to_0x_hex()
            return landed
        return self.hashes[-1]

    def wait(self, timeout: float) -> TxReceipt:
        """The receipt of whichever version landed.

        Raises:
            TimeExhausted: none landed within ``timeout`` seconds (it may still).
            TransactionFailedError: it could not be sent again after the chain lost it.
        """
        try:
            return self.future.result(timeout)
        except TimeoutError:
            raise TimeExhausted(
                f"{self.label}: {self.tx_hash} not mined after {timeout} seconds"
            ) from None

    def _version(self, tx_hash: str, nonce: int, fees: dict[str, int]) -> None:
        """Record a new version of it, just broadcast."""
        self.hashes.append(tx_hash)
        self.nonce = nonce
        self._fees = fees
        self._sent_at = time.monotonic()
        self._sent_block = None
        self._missing_since = None


class Sender:
    """Sends ``account``'s transactions to the chain at ``rpc_url`` (see the module)."""

    def __init__(self, rpc_url: str, account: LocalAccount, policy: SendPolicy) -> None:
        self.rpc_url = rpc_url
        self.account = account
        self.address = account.address
        self.policy = policy
        self._w3 = Web3(
            Web3.HTTPProvider(
                rpc_url,
                request_kwargs={"timeout": 30.0},
                cache_allowed_requests=True,
                cacheable_requests={RPCEndpoint("eth_chainId")},
            )
        )
        # Blocks of proof-of-authority chains carry more extra data than web3 accepts.
        self._w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        try:
            self.chain_id = int(self._w3.eth.chain_id)
        except Exception as exc:  # requests' ConnectionError and friends
            raise ChainUnreachableError(rpc_url, type(exc).__name__) from exc
        self._lock = threading.Lock()
        """Held from picking a nonce to the end of its broadcast."""
        self._next_nonce: int | None = None
        self._state = threading.Condition()
        """Guards what follows, and wakes the poller."""
        self._in_flight: list[PendingTransaction] = []
        self._poller: threading.Thread | None = None
        self._wake = False
        self._recheck = False
        self._mined_count = 0
        self._landing = True
        """The last tick found everything landed (see :meth:`_landed_at_once`)."""
        self._fee_lock = threading.Lock()
        self._fees: dict[str, int] = {}
        self._block_gas_limit = 0
        self._fees_read_at = -_FEE_TTL

    # ------------------------------------------------------------------ sending

    def send(
        self, tx: TxParams, *, label: str = "transaction", timeout: float = 120.0
    ) -> TxReceipt:
        """:meth:`submit` and wait for the receipt (whatever its status)."""
        return self.submit(tx, label=label).wait(timeout)

    def submit(
        self,
        tx: TxParams,
        *,
        label: str = "transaction",
        on_signed: OnSigned = None,
    ) -> PendingTransaction:
        """Estimate, sign and broadcast ``tx`` (``to``, ``data``, ``value``; ``gas`` to skip
        the estimate); return once the node has it.

        Args:
            label: What errors and logs call it.
            on_signed: Called with each version's hash after signing, before broadcast
                (a caller remembers it across a crash); under the account's lock, so keep
                it short.

        Raises:
            TransactionFailedError: it would not fit in a block, or the node refused it.
            Web3Exception: the estimate failed; a revert is web3's ``ContractLogicError``
                (or ``ContractCustomError``), which nothing was sent for.
        """
        body: dict[str, Any] = {"from": self.address, "value": 0, **cast(dict[str, Any], tx)}
        for field in ("nonce", "chainId", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice"):
            body.pop(field, None)
        if "gas" not in body:
            body["gas"] = self._gas_for(body, label)
        fees = self._market_fees()
        for attempt in range(_BROADCAST_ATTEMPTS):
            with self._lock:
                with self._state:
                    counted = self._next_nonce if self._in_flight else None
                nonce = counted if counted is not None else self._chain_nonce()
                try:
                    tx_hash = self._broadcast(body, nonce, fees, on_signed)
                except Exception as exc:
                    self._next_nonce = None  # re-read: a gap left here would hold up the rest
                    if attempt + 1 < _BROADCAST_ATTEMPTS and _says(exc, _NONCE_TAKEN):
                        continue
                    raise TransactionFailedError(f"{label}: not sent: {_reason(exc)}") from exc
                self._next_nonce = nonce + 1
                pending = PendingTransaction(label, body, nonce, fees, tx_hash, on_signed)
                self._track(pending)
            return pending
        raise AssertionError("unreachable")  # pragma: no cover

    def resync(self) -> None:
        """Forget the nonce counted here and re-check everything in flight against the
        chain now (it lost blocks, so what this sender counted may be ahead of it)."""
        with self._lock:
            self._next_nonce = None
        with self._state:
            self._recheck = True
            self._wake = True
            self._state.notify_all()

    @property
    def in_flight(self) -> list[PendingTransaction]:
        """What was sent and has not landed yet, by nonce."""
        with self._state:
            return sorted(self._in_flight, key=lambda p: p.nonce)

    def _gas_for(self, body: dict[str, Any], label: str) -> int:
        """The estimate with margin and headroom, at most a block's gas limit."""
        self._market_fees()
        limit = self._block_gas_limit
        try:
            estimate = int(self._w3.eth.estimate_gas(cast(TxParams, _without(body, "gas"))))
        except Web3RPCError as exc:
            if not _says(exc, _OVER_BLOCK):
                raise
            estimate = limit + 1  # nodes estimate up to the block's limit, then give up
        if estimate > limit:
            raise TransactionFailedError(f"{label}: needs more gas than a block holds ({limit:,})")
        return min(int(estimate * GAS_MARGIN) + GAS_HEADROOM, limit)

    def _chain_nonce(self) -> int:
        return int(self._w3.eth.get_transaction_count(self.address, "pending"))

    def _broadcast(
        self, body: dict[str, Any], nonce: int, fees: dict[str, int], on_signed: OnSigned
    ) -> str:
        """Sign ``body`` at ``nonce`` with ``fees`` and hand it to the node; the hash."""
        unsigned: dict[str, Any] = {**body, **fees, "nonce": nonce, "chainId": self.chain_id}
        unsigned.pop("from", None)
        signed = self.account.sign_transaction(unsigned)
        tx_hash = HexBytes(signed.hash).to_0x_hex()
        if on_signed is not None:
            on_signed(tx_hash)
        try:
            self._w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:
            if not _says(exc, _ALREADY_KNOWN):  # this very transaction is in the pool
                raise
        return tx_hash

    def _market_fees(self) -> dict[str, int]:
        """Fees for a transaction sent now (read at most once per ``_FEE_TTL``)."""
        with self._fee_lock:
            if time.monotonic() - self._fees_read_at >= _FEE_TTL:
                block = self._w3.eth.get_block("latest")
                base = block.get("baseFeePerGas")
                if base is None:
                    self._fees = {"gasPrice": int(self._w3.eth.gas_price)}
                else:
                    tip = int(self._w3.eth.max_priority_fee)
                    self._fees = {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}
                self._block_gas_limit = int(block["gasLimit"])
                self._fees_read_at = time.monotonic()
            return dict(self._fees)

    # ------------------------------------------------------------------ watching

    def _track(self, pending: PendingTransaction) -> None:
        with self._state:
            self._in_flight.append(pending)
            self._wake = True
            if self._poller is None:
                self._poller = threading.Thread(
                    target=self._poll, name=f"sender {self.address} on {self.rpc_url}", daemon=True
                )
                self._poller.start()
            else:
                self._state.notify_all()

    def _poll(self) -> None:
        """The poller thread: ticks while anything is in flight; ends after a quiet
        ``_LINGER``."""
        failing = False
        while True:
            with self._state:
                if not self._in_flight:
                    self._state.wait_for(lambda: bool(self._in_flight), _LINGER)
                if not self._in_flight:
                    self._poller = None
                    return
                in_flight = sorted(self._in_flight, key=lambda p: p.nonce)
                recheck, self._recheck, self._wake = self._recheck, False, False
            delay = self.policy.poll_interval
            try:
                if recheck or not self._landed_at_once(in_flight):
                    self._tick(in_flight, recheck)
            except Exception as exc:  # the node is down or confused: keep watching
                if not failing:
                    log.warning("cannot watch %s's transactions: %s", self.address, _reason(exc))
                failing = True
                delay = max(delay, 0.5)
                with self._state:
                    self._recheck = self._recheck or recheck
            else:
                if failing:
                    log.warning("watching %s's transactions again", self.address)
                failing = False
            with self._state:
                if not self._wake:
                    self._state.wait(delay)

    def _landed_at_once(self, in_flight: list[PendingTransaction]) -> bool:
        """The usual tick while transactions land as fast as they are sent (anvil mines on
        arrival): one batch of receipts, which resolves them all. False (and nothing
        resolved) when any has none yet; the next ticks then watch nonces, until one
        finds everything landed again."""
        if not self._landing or any(len(p.hashes) > 1 for p in in_flight):
            return False
        try:
            with self._w3.batch_requests() as batch:
                for pending in in_flight:
                    batch.add(self._w3.eth.get_transaction_receipt(HexStr(pending.tx_hash)))
                receipts = cast(list[TxReceipt], batch.execute())
        except TransactionNotFound:
            self._landing = False
            return False
        for pending, receipt in zip(in_flight, receipts, strict=True):
            self._resolve(pending, receipt)
        return True

    def _tick(self, in_flight: list[PendingTransaction], recheck: bool) -> None:
        """Resolve what was mined; send again what was lost; replace what is stuck."""
        eth = self._w3.eth
        with self._w3.batch_requests() as batch:
            batch.add(eth.get_transaction_count(self.address, "latest"))
            batch.add(eth.get_transaction_count(self.address, "pending"))
            batch.add(eth.get_block_number())
            mined_count, pending_count, block = (int(x) for x in cast(list[Any], batch.execute()))
        if mined_count < self._mined_count:  # the chain went back: restart, revert, reorg
            log.warning(
                "%s's nonce went back from %d to %d", self.address, self._mined_count, mined_count
            )
            with self._lock:
                self._next_nonce = None
            recheck = True
        self._mined_count = mined_count
        now = time.monotonic()
        taken = self._collect([p for p in in_flight if p.nonce < mined_count], now)
        waiting = [p for p in in_flight if p.nonce >= mined_count and not p.future.done()]
        self._landing = all(p.future.done() for p in in_flight)
        for pending in waiting:
            if pending._sent_block is None:
                pending._sent_block = block
            if pending.nonce >= pending_count:  # neither mined nor in the pool's queue
                pending._missing_since = pending._missing_since or now
            else:
                pending._missing_since = None
        lost = [
            p
            for p in waiting
            if p._missing_since is not None
            and (recheck or now - p._missing_since >= self.policy.lost_after)
        ]
        if lost or taken or recheck:
            self._send_again(taken)
            return
        for pending in waiting:
            if pending._missing_since is not None:  # not in the pool: nothing to replace
                continue
            stuck = now - pending._sent_at >= self.policy.stuck_seconds or (
                block - (pending._sent_block or block) >= self.policy.stuck_blocks
            )
            if stuck and pending._replacements < self.policy.max_replacements:
                self._replace(pending, block)

    def _collect(self, mined: list[PendingTransaction], now: float) -> list[PendingTransaction]:
        """Resolve each of ``mined`` (its nonce is used) with its receipt; those with none
        for any of their versions past ``lost_after``: another transaction took the nonce."""
        if not mined:
            return []
        receipts = self._receipts(mined)
        taken = []
        for pending in mined:
            receipt = receipts.get(id(pending))
            if receipt is not None:
                self._resolve(pending, receipt)
                continue
            pending._missing_since = pending._missing_since or now
            if now - pending._missing_since >= self.policy.lost_after:
                taken.append(pending)
        return taken

    def _receipts(self, mined: list[PendingTransaction]) -> dict[int, TxReceipt]:
        """Receipts of ``mined`` by ``id``: one batch for the usual one version each."""
        found: dict[int, TxReceipt] = {}
        simple = [p for p in mined if len(p.hashes) == 1]
        retry = [p for p in mined if len(p.hashes) > 1]
        if simple:
            try:
                with self._w3.batch_requests() as batch:
                    for pending in simple:
                        batch.add(self._w3.eth.get_transaction_receipt(HexStr(pending.hashes[0])))
                    for pending, receipt in zip(simple, batch.execute(), strict=True):
                        found[id(pending)] = cast(TxReceipt, receipt)
            except TransactionNotFound:  # one of them is not there: look one by one
                retry = mined
        for pending in retry:
            for tx_hash in reversed(pending.hashes):
                try:
                    found[id(pending)] = self._w3.eth.get_transaction_receipt(HexStr(tx_hash))
                    break
                except TransactionNotFound:
                    continue
        return found

    def _resolve(self, pending: PendingTransaction, receipt: TxReceipt) -> None:
        # What was mined, the chain must keep: a lower count later means it went back.
        self._mined_count = max(self._mined_count, pending.nonce + 1)
        with self._state:
            if pending in self._in_flight:
                self._in_flight.remove(pending)
        if not pending.future.done():
            pending.future.set_result(receipt)

    def _fail(self, pending: PendingTransaction, error: Exception) -> None:
        with self._state:
            if pending in self._in_flight:
                self._in_flight.remove(pending)
        if not pending.future.done():
            pending.future.set_exception(error)

    def _send_again(self, taken: list[PendingTransaction]) -> None:
        """Put back what the chain lost: each transaction in flight that it has neither
        mined nor pooled goes again at its own nonce (with higher fees, so it also displaces
        any copy of itself still queued), after a no-op to itself at each nonce below it
        that the chain lost; those whose nonce another transaction took get new nonces.

        None moves to a lower nonce: a node that kept a copy of it queued at its old one
        would run it twice.
        """
        with self._lock:
            chain_nonce = self._chain_nonce()
            with self._state:
                stranded = sorted(
                    (
                        p
                        for p in self._in_flight
                        if not p.future.done() and p.nonce >= chain_nonce and p not in taken
                    ),
                    key=lambda p: p.nonce,
                )
            market = self._market_fees()
            nonce = chain_nonce
            for pending in stranded:
                while nonce < pending.nonce:
                    try:
                        self._broadcast(_noop(self.address), nonce, market, None)
                    except Exception as exc:  # the next tick tries again
                        log.warning(
                            "no no-op for %s's lost nonce %d: %s", self.address, nonce, _reason(exc)
                        )
                        with self._state:
                            self._recheck = True
                        return
                    log.info("nonce %d of %s was lost; filled with a no-op", nonce, self.address)
                    nonce += 1
                self._put_back(pending, pending.nonce, market)
                nonce = pending.nonce + 1
            for pending in taken:
                if self._put_back(pending, nonce, market):
                    nonce += 1
            self._next_nonce = nonce

    def _put_back(self, pending: PendingTransaction, nonce: int, market: dict[str, int]) -> bool:
        """Broadcast ``pending`` again at ``nonce`` with raised fees (the lock held); True
        when the node took it."""
        fees = _raised(pending._fees, market)
        try:
            tx_hash = self._broadcast(pending._tx, nonce, fees, pending._on_signed)
        except Exception as exc:
            if _says(exc, ("nonce too low",)):  # mined meanwhile: the next tick looks again
                return False
            log.warning("%s was lost and could not be sent again: %s", pending.label, _reason(exc))
            error = f"{pending.label}: lost, and not sent again: {_reason(exc)}"
            self._fail(pending, TransactionFailedError(error))
            return False
        log.info("%s: lost at nonce %d; sent again as %s", pending.label, pending.nonce, tx_hash)
        pending._version(tx_hash, nonce, fees)
        return True

    def _replace(self, pending: PendingTransaction, block: int) -> None:
        """Send ``pending`` again at its nonce with fees 12.5 % higher (or the market's)."""
        fees = _raised(pending._fees, self._market_fees())
        try:
            tx_hash = self._broadcast(pending._tx, pending.nonce, fees, pending._on_signed)
        except Exception as exc:
            # "nonce too low": a version was mined meanwhile (the next tick finds it);
            # "underpriced": the next bump starts higher.
            log.info("%s: replacement refused: %s", pending.label, _reason(exc))
            pending._fees = fees
            pending._sent_at = time.monotonic()
            pending._replacements += 1
            return
        log.info("%s: stuck at nonce %d; replaced by %s", pending.label, pending.nonce, tx_hash)
        pending._version(tx_hash, pending.nonce, fees)
        pending._sent_block = block
        pending._replacements += 1


def _raised(old: dict[str, int], market: dict[str, int]) -> dict[str, int]:
    """Each fee of ``old`` up by more than 12.5 % (nodes ask 10 %), or the market's if higher."""
    fees = {field: max(market.get(field, 0), value * 9 // 8 + 1) for field, value in old.items()}
    if "maxFeePerGas" in fees:
        fees["maxFeePerGas"] = max(fees["maxFeePerGas"], fees["maxPriorityFeePerGas"])
    return fees


def _noop(address: str) -> dict[str, Any]:
    """A transaction that only uses up a nonce."""
    return {"to": address, "value": 0, "gas": 21_000}


def _without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != field}


def _says(exc: BaseException, phrases: tuple[str, ...]) -> bool:
    text = str(exc).lower()
    return any(phrase in text for phrase in phrases)


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message)


_SENDERS: dict[tuple[str, str], Sender] = {}
_SENDERS_GUARD = threading.Lock()


def sender_for(rpc_url: str, account: LocalAccount) -> Sender:
    """The process's one sender for ``account`` on the chain at ``rpc_url``.

    Raises:
        ChainUnreachableError: the first call for this pair could not reach the chain.
    """
    key = (rpc_url, account.address.lower())
    with _SENDERS_GUARD:
        sender = _SENDERS.get(key)
        if sender is None:
            sender = _SENDERS[key] = Sender(rpc_url, account, SendPolicy.for_rpc(rpc_url))
        return sender
