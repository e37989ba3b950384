"""The distribution job: call each agent's ``AgentTreasury.distribute()`` when it is due.

Due means pending income of at least ``distribution_min_income``, or any
pending income once ``distribution_period`` seconds of chain time passed since
the last distribution. The split itself is governed on chain; this job only
presses the button.

Restart-safe, with its state in the database (:class:`DistributionState`, one
row per treasury):

- The transaction hash is stored *before* the transaction is broadcast. A job
  that crashed after broadcasting finds it on restart, waits for or reads its
  receipt, and records it, instead of sending a second one.
- The time of the last distribution comes from the database (or, on a fresh
  database, from the treasury's last ``Distributed`` event), so a restart
  neither restarts the period clock nor distributes at once.
- Income is never skipped: it is counted on chain by balance difference, so
  whatever a crash left undistributed is still ``pendingIncome()`` next time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel
from web3.contract import Contract
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD
from web3.types import TxReceipt

from agents.core.database import session_scope
from agents.core.errors import AgentDaoError, TransactionFailedError
from contracts.client import Chain
from contracts.logs import scan_events
from contracts.manifest import AgentAddresses, Manifest
from treasury.settings import EarningsSettings

__all__ = [
    "DistributionJob",
    "DistributionOutcome",
    "DistributionState",
    "DistributionStatus",
]

log = logging.getLogger(__name__)


class DistributionState(SQLModel, table=True):
    """The distribution job's memory of one treasury."""

    __tablename__ = "distribution_state"

    chain_id: int = Field(primary_key=True)
    treasury: str = Field(primary_key=True)
    agent: str = Field(index=True)
    last_distributed_at: int | None = None
    """Chain timestamp of the block of the last distribution (by anyone the job saw)."""
    last_tx: str | None = None
    last_income: str = "0"
    """Raw units, as text: amounts outgrow SQLite's 64-bit integers on 18-decimal tokens."""
    in_flight_tx: str | None = None
    """A distribute() signed and possibly broadcast, whose receipt is not recorded yet."""
    runs: int = 0
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class DistributionStatus(StrEnum):
    DISTRIBUTED = "distributed"
    NOT_DUE = "not_due"
    NOTHING_PENDING = "nothing_pending"
    FAILED = "failed"


@dataclass(frozen=True)
class DistributionOutcome:
    """What one run did for one agent."""

    agent: str
    status: DistributionStatus
    pending: int
    reason: str
    income: int = 0
    tx: str | None = None


class DistributionJob:
    """Distributes every agent's income when it is due; one instance per runtime.

    Args:
        chain: The chain; its signer pays the gas (anyone may call ``distribute``).
        engine: The database holding :class:`DistributionState`.
        manifest: The deployment's agents.
        settings: ``distribution_min_income`` and ``distribution_period``.
        receipt_timeout: Seconds to wait for a broadcast transaction's receipt.
    """

    def __init__(
        self,
        chain: Chain,
        engine: Engine,
        manifest: Manifest,
        settings: EarningsSettings,
        *,
        signer: LocalAccount | None = None,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.chain = chain
        self.engine = engine
        self.manifest = manifest
        self.settings = settings
        self.signer = signer or chain.signer
        self.receipt_timeout = receipt_timeout
        self._payment_decimals: dict[str, int] = {}

    def run_due(self, names: Iterable[str] | None = None) -> list[DistributionOutcome]:
        """Distribute every agent (or those named) whose income is due. For a scheduler:
        one agent's failure is logged and reported, and does not stop the others."""
        outcomes = []
        for name in names if names is not None else list(self.manifest.agents):
            try:
                outcomes.append(self.run(name))
            except AgentDaoError as exc:
                log.warning("distribution of %s failed: %s", name, exc)
                outcomes.append(
                    DistributionOutcome(name, DistributionStatus.FAILED, 0, exc.message)
                )
        return outcomes

    def run(self, name: str, *, force: bool = False) -> DistributionOutcome:
        """Distribute ``name``'s pending income if due (always, with ``force``).

        Raises:
            UnknownAgentError: no such agent.
            TransactionFailedError: distribute() reverted (the income stays pending).
        """
        addresses = self.manifest.agent(name)
        state = self._state(name, addresses)
        if state.in_flight_tx is not None:
            self._resolve_in_flight(addresses, state)
        treasury = self.chain.contract("AgentTreasury", addresses.treasury)
        pending = int(treasury.functions.pendingIncome().call())
        if pending == 0:
            return DistributionOutcome(
                name, DistributionStatus.NOTHING_PENDING, 0, "no income since the last one"
            )
        due, reason = self._due(state, pending, self._decimals(treasury))
        if not (due or force):
            return DistributionOutcome(name, DistributionStatus.NOT_DUE, pending, reason)
        receipt = self._send_distribute(addresses, state)
        income = self._record(addresses, state, receipt)
        return DistributionOutcome(
            name,
            DistributionStatus.DISTRIBUTED,
            pending,
            "by hand" if force and not due else reason,
            income=income,
            tx=receipt["transactionHash"].to_0x_hex(),
        )

    # ------------------------------------------------------------------ decisions

    def _decimals(self, treasury: Contract) -> int:
        token = treasury.functions.paymentToken().call()
        if token not in self._payment_decimals:
            erc20 = self.chain.contract("MockUSDC", token)
            self._payment_decimals[token] = int(erc20.functions.decimals().call())
        return self._payment_decimals[token]

    def _due(self, state: DistributionState, pending: int, decimals: int) -> tuple[bool, str]:
        minimum = int(self.settings.distribution_min_income.scaleb(decimals))
        if pending >= minimum:
            return True, f"pending income {pending} >= minimum {minimum}"
        now = self._chain_time()
        last = state.last_distributed_at if state.last_distributed_at is not None else now
        elapsed = now - last
        if elapsed >= self.settings.distribution_period:
            return True, f"{elapsed}s since the last distribution"
        wait = self.settings.distribution_period - elapsed
        return False, f"pending income {pending} < minimum {minimum}; period ends in {wait}s"

    def _chain_time(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    # ------------------------------------------------------------------ state

    def _key(self, addresses: AgentAddresses) -> tuple[int, str]:
        return self.chain.chain_id, addresses.treasury

    def _state(self, name: str, addresses: AgentAddresses) -> DistributionState:
        with Session(self.engine) as session:
            state = session.get(DistributionState, self._key(addresses))
            if state is not None:
                session.expunge(state)
                return state
        # a fresh database: the period runs from the treasury's last distribution, else from now
        treasury = self.chain.contract("AgentTreasury", addresses.treasury)
        events = scan_events(treasury.events.Distributed(), self.manifest.start_block)
        if events:
            block = self.chain.w3.eth.get_block(events[-1]["blockNumber"])
            last, tx = int(block["timestamp"]), events[-1]["transactionHash"].to_0x_hex()
        else:
            last, tx = self._chain_time(), None
        state = DistributionState(
            chain_id=self.chain.chain_id,
            treasury=addresses.treasury,
            agent=name,
            last_distributed_at=last,
            last_tx=tx,
        )
        self._save(state)
        return state

    def _save(self, state: DistributionState) -> None:
        state.updated_at = datetime.now(UTC)
        with session_scope(self.engine) as session:
            session.merge(state)

    # ------------------------------------------------------------------ transactions

    def _send_distribute(self, addresses: AgentAddresses, state: DistributionState) -> TxReceipt:
        treasury = self.chain.contract("AgentTreasury", addresses.treasury)

        def remember(tx_hash: str) -> None:
            # before it leaves: a crash from here on finds it on restart
            state.in_flight_tx = tx_hash
            self._save(state)

        try:
            return self.chain.send(
                treasury.functions.distribute(),
                self.signer,
                on_signed=remember,
                timeout=self.receipt_timeout,
            )
        except TransactionFailedError:  # refused or reverted: nothing to find on restart
            state.in_flight_tx = None
            self._save(state)
            raise

    def _resolve_in_flight(self, addresses: AgentAddresses, state: DistributionState) -> None:
        """Record what a crashed run broadcast; forget it when it never reached the chain."""
        assert state.in_flight_tx is not None
        tx_hash = HexBytes(state.in_flight_tx)
        w3 = self.chain.w3
        try:
            w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            log.info("distribution tx %s never reached the chain; forgetting it", tx_hash.hex())
            state.in_flight_tx = None
            self._save(state)
            return
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        if receipt["status"] != 1:
            state.in_flight_tx = None
            self._save(state)
            return
        log.info("recorded distribution tx %s sent before a restart", tx_hash.hex())
        self._record(addresses, state, receipt)

    def _record(
        self, addresses: AgentAddresses, state: DistributionState, receipt: TxReceipt
    ) -> int:
        treasury = self.chain.contract("AgentTreasury", addresses.treasury)
        events = treasury.events.Distributed().process_receipt(receipt, errors=DISCARD)
        income = sum(int(e["args"]["income"]) for e in events)
        block = self.chain.w3.eth.get_block(receipt["blockNumber"])
        state.in_flight_tx = None
        state.last_tx = receipt["transactionHash"].to_0x_hex()
        state.last_income = str(income)
        state.last_distributed_at = int(block["timestamp"])
        state.runs += 1
        self._save(state)
        return income
