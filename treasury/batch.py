"""Selling with x402's ``batch-settlement`` scheme: a prepaid channel, a voucher per call.

A customer deposits once into a channel of the batch-settlement escrow whose receiver
is the agent's treasury; each call then carries a voucher for the cumulative amount
it owes, which the runtime checks locally (signature and the channel's deposit, no
chain call) and charges only after the task succeeded. Every so often the runtime
claims the vouchers on chain, in one transaction for many channels, and settles the
claimed money into the treasury, which counts it as income like any transfer.

The pieces are x402's own: its server scheme (the verify and settle hooks that keep
channel state), its facilitator (deposits, claims, settles) and its channel manager
(which vouchers to claim). What this module adds is where the state lives: the
runtime's database (:class:`~treasury.channels.ChannelStore`), so replicas share it and
a restart loses no charge.

Guarantees:

- A channel serves one call at a time (x402 reserves it while a call is in flight);
  a charge is written before the answer is sent.
- A call whose work failed releases the reservation and charges nothing; the
  customer's next voucher signs the same cumulative amount again.
- Claims never exceed the signed vouchers (the escrow enforces it as well).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from web3 import Web3
from x402 import x402FacilitatorSync, x402ResourceServerSync
from x402.mechanisms.evm.batch_settlement import SCHEME_BATCH_SETTLEMENT
from x402.mechanisms.evm.batch_settlement.abi import BATCH_SETTLEMENT_ABI
from x402.mechanisms.evm.batch_settlement.authorizer_signer import LocalAuthorizerSigner
from x402.mechanisms.evm.batch_settlement.errors import (
    ERR_CUMULATIVE_AMOUNT_BELOW_CLAIMED,
    ERR_CUMULATIVE_AMOUNT_MISMATCH,
)
from x402.mechanisms.evm.batch_settlement.server.channel_manager_common import (
    ChannelManagerConfigSync,
    ClaimOptions,
    ClaimResult,
)
from x402.mechanisms.evm.batch_settlement.server.channel_manager_sync import (
    BatchSettlementChannelManagerSync,
)
from x402.mechanisms.evm.batch_settlement.server.scheme import (
    BatchSettlementEvmScheme,
    BatchSettlementEvmSchemeServerConfig,
)
from x402.mechanisms.evm.batch_settlement.server.storage import Channel, ChannelStorage
from x402.mechanisms.evm.batch_settlement.types import is_deposit_payload, is_voucher_payload
from x402.mechanisms.evm.batch_settlement.utils import coerce_bytes32
from x402.mechanisms.evm.multicall import MulticallCall, multicall
from x402.schemas import (
    PaymentPayload,
    PaymentRequired,
    PaymentRequirements,
    ResourceInfo,
    SettleResponse,
    SupportedKind,
)
from x402.schemas.errors import PaymentAbortedError

from agents.core.errors import PaymentRejectedError, SettlementError
from contracts.escrow import ESCROW_ADDRESS
from treasury.channels import ChannelStore

__all__ = [
    "BATCH_SCHEME",
    "BatchSettlement",
    "Charge",
    "ClaimRound",
    "channel_of",
]

log = logging.getLogger(__name__)

_RESYNC_CODES: Final = (ERR_CUMULATIVE_AMOUNT_MISMATCH, ERR_CUMULATIVE_AMOUNT_BELOW_CLAIMED)
"""x402's refusals after which its client resynchronises its channel from the 402."""

BATCH_SCHEME: Final = SCHEME_BATCH_SETTLEMENT

RECHECK_CLAIMS_MS: Final = 60 * 60 * 1000
"""Each claim round re-reads from the chain the claimed totals of the channels used in
the last hour (a chain loses its newest blocks); recovery at start re-reads them all."""

MAX_CLAIMS_PER_TRANSACTION: Final = 64
"""Vouchers claimed in one transaction: each adds ~25k gas, so 64 stay far below a
block's gas limit; more channels take several transactions."""


@dataclass(frozen=True, slots=True)
class Charge:
    """What one call charged to its channel: the receipt's settlement reference."""

    channel_id: str
    cumulative: int
    """The voucher's signed cumulative amount this charge brought the channel to."""
    amount: int
    response: SettleResponse
    """x402's answer for the customer's client: the channel's new state (and, when this
    call opened or topped up the channel, the deposit's transaction)."""

    @property
    def reference(self) -> str:
        """How a receipt names this charge: the channel and the voucher's amount."""
        return f"voucher:{self.channel_id}:{self.cumulative}"


@dataclass(frozen=True, slots=True)
class ClaimRound:
    """One claim-and-settle pass over an agent's channels."""

    vouchers: int
    claim_txs: tuple[str, ...]
    settle_tx: str | None
    failed: tuple[str, ...] = ()
    """Channels whose claim the escrow refused this round (tried again next round)."""


_CHANNEL_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")


def channel_of(payload: PaymentPayload) -> tuple[str, int]:
    """The channel id and voucher amount of a batch-settlement payment.

    Raises:
        PaymentRejectedError: ``malformed_payment``.
    """
    try:
        voucher = payload.payload["voucher"]
        channel_id, amount = voucher["channelId"], voucher["maxClaimableAmount"]
        if not isinstance(channel_id, str) or not _CHANNEL_ID.match(channel_id):
            raise ValueError("a channel id is 32 bytes of hex")
        if isinstance(amount, bool) or not isinstance(amount, int | str):
            raise ValueError("an amount is an integer")
        return channel_id.lower(), int(amount)
    except (KeyError, TypeError, ValueError) as exc:
        raise PaymentRejectedError("malformed_payment", "no voucher in the payment") from exc


class BatchSettlement:
    """The batch-settlement scheme for every agent of a runtime (one server scheme per
    treasury, their channels in one database)."""

    def __init__(
        self,
        facilitator: x402FacilitatorSync,
        engine: Engine,
        authorizer: LocalAccount,
        network: str,
        token: str,
        token_name: str,
        token_version: str,
        withdraw_delay: int,
        deposit_calls: int = 100,
        claim_margin: int = 150,
        clock: Callable[[], float] = time.time,
        reader: Any = None,
    ) -> None:
        self.facilitator = facilitator
        self.engine = engine
        self.network = network
        self.token = Web3.to_checksum_address(token)
        self.token_extra = {
            "name": token_name,
            "version": token_version,
            "assetTransferMethod": "eip3009",
        }
        self.withdraw_delay = withdraw_delay
        self.deposit_calls = deposit_calls
        self.claim_margin = claim_margin
        """Seconds before a payer's withdrawal can land from which its channel's vouchers
        are refused: a charge needs a claim round to reach the chain before then."""
        self.clock = clock
        """The chain's clock (withdrawals land by block time)."""
        self.reader = reader
        """Reads the escrow (x402's facilitator signer): what a treasury was claimed but
        not yet paid. None: a round settles only after claims of its own."""
        self._authorizer = LocalAuthorizerSigner(authorizer)
        self._servers: dict[str, tuple[x402ResourceServerSync, BatchSettlementEvmScheme]] = {}
        self._lock = threading.Lock()

    def _server(self, treasury: str) -> tuple[x402ResourceServerSync, BatchSettlementEvmScheme]:
        receiver = Web3.to_checksum_address(treasury)
        with self._lock:
            found = self._servers.get(receiver)
            if found is None:
                scheme = BatchSettlementEvmScheme(
                    receiver,
                    BatchSettlementEvmSchemeServerConfig(
                        storage=ChannelStore(self.engine, receiver),
                        receiver_authorizer_signer=self._authorizer,
                        withdraw_delay=self.withdraw_delay,
                        # Every deposit is a transaction the operator pays for: the
                        # smallest asked for (``extra.minDeposit``) is a floor, not a hint.
                        enforce_min_deposit=True,
                    ),
                )
                server = x402ResourceServerSync(self.facilitator)
                server.register(self.network, scheme)  # type: ignore[arg-type]
                server.initialize()
                found = self._servers[receiver] = (server, scheme)
        return found

    def requirements(self, treasury: str, amount: int, timeout: int) -> PaymentRequirements:
        """What one call at ``amount`` units costs by voucher, as x402's scheme words it
        (receiver authorizer, withdrawal delay and the smallest deposit in ``extra``)."""
        _, scheme = self._server(treasury)
        base = PaymentRequirements(
            scheme=BATCH_SCHEME,
            network=self.network,
            asset=self.token,
            amount=str(amount),
            pay_to=Web3.to_checksum_address(treasury),
            max_timeout_seconds=timeout,
            # The smallest deposit asked for (x402's hint); a deposit is a transaction.
            extra=self.token_extra | {"minDeposit": str(amount * self.deposit_calls)},
        )
        kind = SupportedKind(x402_version=2, scheme=BATCH_SCHEME, network=self.network)
        return scheme.enhance_payment_requirements(base, kind, [])

    def payment_required(
        self,
        treasury: str,
        accepts: list[PaymentRequirements],
        resource: ResourceInfo,
        error: str | None,
        payload: PaymentPayload | None,
    ) -> PaymentRequired:
        """A 402 for ``accepts``; after a voucher whose amount did not follow the channel,
        x402's scheme adds the channel's state so the customer's client resynchronises."""
        server, _ = self._server(treasury)
        # x402 (its server's enrichment, its client's recovery) reads the error as its code:
        # a mismatch answered in words carries no channel state, and the stock client,
        # unable to resynchronise, is stuck on its channel.
        if payload is not None and error is not None:
            for code in _RESYNC_CODES:
                if code in error:
                    error = code
        return server.create_payment_required_response(
            accepts, resource, error, payment_payload=payload
        )

    def verify(self, payload: PaymentPayload, requirements: PaymentRequirements) -> None:
        """Check a voucher (locally when the channel's deposit is known, else with the
        facilitator, which also checks a deposit) and reserve its channel.

        Blocking (database; a deposit reads the chain): call from a worker thread.

        Raises:
            PaymentRejectedError: x402's reason (``channel_busy``, a cumulative amount
                that does not follow the channel, a bad signature, too small a deposit);
                ``not_a_payment`` for a payload that pays for no call (x402's cooperative
                ``refund``, which its server would verify, and settle by handing the
                deposit back).
        """
        if not (is_voucher_payload(payload.payload) or is_deposit_payload(payload.payload)):
            raise PaymentRejectedError(
                "not_a_payment", "only a voucher or a deposit with its voucher pays for a call"
            )
        server, scheme = self._server(requirements.pay_to)
        _distrust_withdrawing(scheme.get_storage(), payload)
        try:
            answer = server.verify_payment(payload, requirements)
        except PaymentAbortedError as exc:
            raise PaymentRejectedError(_reason(exc.reason), exc.reason) from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # x402 reads some fields of the client's payload unchecked (a deposit's amount
            # once the smallest deposit is enforced): a shape it did not foresee.
            self.release(payload, requirements)
            raise PaymentRejectedError("malformed_payment", f"{type(exc).__name__}") from exc
        if not answer.is_valid:
            reason = answer.verify.invalid_reason or "invalid_payment"
            raise PaymentRejectedError(_reason(reason), answer.verify.invalid_message or reason)
        try:
            self._refuse_unclaimable(scheme, payload)
        except BaseException:
            self.release(payload, requirements)
            raise

    def _refuse_unclaimable(
        self, scheme: BatchSettlementEvmScheme, payload: PaymentPayload
    ) -> None:
        """Refuse a reserved voucher whose charge could not all be claimed.

        - A channel the database did not know (a lost row): x402 takes the voucher's
          amount minus the price as what it was charged, which may be below what the
          chain already claimed (read just now); the difference would be a call paid
          for by nothing.
        - A charge is money only once claimed, and the payer's withdrawal takes whatever
          is unclaimed when it lands: a channel whose withdrawal may land before the next
          claim round can (its state was read from the chain just now: see
          :func:`_distrust_withdrawing`).

        Raises:
            PaymentRejectedError: x402's ``cumulative_below_claimed`` (so its client
                resynchronises), ``withdrawal_imminent``.
        """
        channel = _reserved(scheme, payload)
        if channel is None:
            return
        storage = scheme.get_storage()
        channel_id = channel.channel_id
        if int(channel.charged_cumulative_amount) < int(channel.total_claimed):

            def to_claimed(current: Channel | None) -> Channel | None:
                if current is None or int(current.charged_cumulative_amount) >= int(
                    current.total_claimed
                ):
                    return current
                raised = current.copy()
                raised.charged_cumulative_amount = current.total_claimed
                return raised

            # The chain's claims are the floor: the payer's next voucher follows them.
            storage.update_channel(channel_id, to_claimed)
            raise PaymentRejectedError(
                ERR_CUMULATIVE_AMOUNT_BELOW_CLAIMED,
                f"the chain claimed {channel.total_claimed} of this channel already: a "
                "voucher signs that plus the price at least",
            )
        if self._withdrawal_imminent(channel):
            raise PaymentRejectedError(
                "withdrawal_imminent",
                "the payer's withdrawal from this channel may land before the call could be "
                "claimed; open a new channel",
            )

    def _withdrawal_imminent(self, channel: Channel) -> bool:
        """True when the payer's pending withdrawal may land (by chain time) before a
        claim round after now could."""
        if not channel.withdraw_requested_at:
            return False
        lands_at = channel.withdraw_requested_at + channel.channel_config.withdraw_delay
        return self.clock() >= lands_at - self.claim_margin

    def charge(self, payload: PaymentPayload, requirements: PaymentRequirements) -> Charge:
        """Charge a verified call to its channel (a deposit is made on chain first).

        Blocking: call from a worker thread.

        Raises:
            SettlementError: the channel moved on (another replica charged it), the
                deposit failed, or the payer's withdrawal may now land before the charge
                could be claimed (``withdrawal_imminent``); nothing charged.
        """
        server, scheme = self._server(requirements.pay_to)
        channel = _reserved(scheme, payload)
        if channel is not None and self._withdrawal_imminent(channel):
            # The call outlasted the margin it was taken with (a long model run): charged
            # now, it could not be claimed before the payer's withdrawal lands.
            self.release(payload, requirements)
            raise SettlementError("withdrawal_imminent")
        try:
            response: SettleResponse = server.settle_payment(payload, requirements)
        except PaymentAbortedError as exc:
            raise SettlementError(_reason(exc.reason)) from exc
        except Exception as exc:
            raise SettlementError(f"{type(exc).__name__}: {exc}") from exc
        if not response.success:
            raise SettlementError(response.error_reason or "unknown")
        channel_id, cumulative = channel_of(payload)
        return Charge(
            channel_id=channel_id,
            cumulative=cumulative,
            amount=int(requirements.amount),
            response=response,
        )

    def reservation(self, payload: PaymentPayload, requirements: PaymentRequirements) -> str:
        """The id of the reservation :meth:`verify` took on the payment's channel."""
        _, scheme = self._server(requirements.pay_to)
        context = scheme.read_request_context(payload)
        if context is None or not context.pending_id:
            raise SettlementError("the channel holds no reservation for this payment")
        return context.pending_id

    def release(self, payload: PaymentPayload, requirements: PaymentRequirements) -> None:
        """Free a verified call's channel without charging it (the work failed)."""
        _, scheme = self._server(requirements.pay_to)
        scheme.clear_pending_request(payload)

    def channels(self, treasury: str) -> ChannelStore:
        """The stored channels paying ``treasury``."""
        _, scheme = self._server(treasury)
        store = scheme.get_storage()
        assert isinstance(store, ChannelStore)
        return store

    def claim_and_settle(self, treasury: str) -> ClaimRound:
        """Claim every charged voucher paying ``treasury`` and settle the claimed money
        into it. Blocking: call from a worker thread.

        A batch the escrow refuses (one channel whose claim reverts: its payer withdrew
        what it owed, say) is split in halves until the channels that fail stand alone:
        the others are claimed, and the round names the ones that failed (each is tried
        again next round, alone after one split; a refusal is found by simulation, so it
        costs no gas).

        Raises:
            SettlementError: the settle failed; what was claimed stays claimed and the
                next round settles it.
        """
        _, scheme = self._server(treasury)
        manager = BatchSettlementChannelManagerSync(
            ChannelManagerConfigSync(
                scheme=scheme,
                facilitator=self.facilitator,
                receiver=Web3.to_checksum_address(treasury),
                token=self.token,
                network=self.network,
            )
        )
        storage = scheme.get_storage()
        self.resync_claimed(treasury, since_ms=int(time.time() * 1000) - RECHECK_CLAIMS_MS)
        owed = [
            c for c in storage.list() if int(c.charged_cumulative_amount) > int(c.total_claimed)
        ]
        claims: list[ClaimResult] = []
        failed: list[str] = []
        for start in range(0, len(owed), MAX_CLAIMS_PER_TRANSACTION):
            _claim_split(manager, owed[start : start + MAX_CLAIMS_PER_TRANSACTION], claims, failed)
        try:
            settle = manager.settle() if claims or self._unsettled(treasury) else None
        except Exception as exc:
            raise SettlementError(f"{type(exc).__name__}: {exc}") from exc
        return ClaimRound(
            vouchers=sum(c.vouchers for c in claims),
            claim_txs=tuple(c.transaction for c in claims),
            settle_tx=settle.transaction if settle else None,
            failed=tuple(failed),
        )

    def resync_claimed(self, treasury: str, since_ms: int | None = None) -> int:
        """Lower the claimed totals the database holds to what the chain holds, for the
        channels paying ``treasury`` last used at or after ``since_ms`` (all if None), so
        claims whose blocks the chain lost (a reorg, a node restarted from older state)
        are claimed again. Returns how many channels were behind. Blocking.

        One multicall per :data:`MAX_CLAIMS_PER_TRANSACTION` x 8 channels; a channel the
        chain cannot answer for is left as it is.
        """
        if self.reader is None:
            return 0
        storage = self.channels(treasury)
        claimed = [
            c
            for c in storage.list()
            if int(c.total_claimed) > 0
            and (since_ms is None or c.last_request_timestamp >= since_ms)
        ]
        behind = 0
        chunk = MAX_CLAIMS_PER_TRANSACTION * 8
        for start in range(0, len(claimed), chunk):
            part = claimed[start : start + chunk]
            results = multicall(
                self.reader,
                [
                    MulticallCall(
                        address=ESCROW_ADDRESS,
                        abi=BATCH_SETTLEMENT_ABI,
                        function_name="channels",
                        args=(coerce_bytes32(c.channel_id),),
                    )
                    for c in part
                ],
            )
            for channel, result in zip(part, results, strict=True):
                if not result.success:
                    continue
                on_chain = int(result.result[1])
                if on_chain >= int(channel.total_claimed):
                    continue
                behind += 1
                log.warning(
                    "channel %s: the chain holds claims up to %d, not %s; claiming again",
                    channel.channel_id,
                    on_chain,
                    channel.total_claimed,
                )

                def lower(current: Channel | None, to: int = on_chain) -> Channel | None:
                    if current is None or int(current.total_claimed) <= to:
                        return current
                    following = current.copy()
                    following.total_claimed = str(to)
                    return following

                storage.update_channel(channel.channel_id, lower)
        return behind

    def _unsettled(self, treasury: str) -> bool:
        """True when the escrow holds money claimed for ``treasury`` and not yet settled
        into it (a round whose settle failed after its claims landed)."""
        if self.reader is None:
            return False
        claimed, settled = self.reader.read_contract(
            ESCROW_ADDRESS,
            BATCH_SETTLEMENT_ABI,
            "receivers",
            Web3.to_checksum_address(treasury),
            self.token,
        )
        return int(claimed) > int(settled)


def _claim_split(
    manager: BatchSettlementChannelManagerSync,
    channels: list[Channel],
    claims: list[ClaimResult],
    failed: list[str],
) -> None:
    """Claim ``channels`` in one transaction, or each half apart if the escrow refuses."""
    try:
        claims += manager.claim(
            ClaimOptions(
                max_claims_per_batch=len(channels),
                select_claim_channels=lambda _all, _context: channels,
            )
        )
    except Exception as exc:
        if len(channels) == 1:
            failed.append(channels[0].channel_id)
            log.warning("channel %s: claim refused: %s", channels[0].channel_id, exc)
            return
        middle = len(channels) // 2
        _claim_split(manager, channels[:middle], claims, failed)
        _claim_split(manager, channels[middle:], claims, failed)


def _reserved(scheme: BatchSettlementEvmScheme, payload: PaymentPayload) -> Channel | None:
    """The channel as this call's reservation wrote it (x402 keeps it for the request; no
    database read), else as stored."""
    context = scheme.read_request_context(payload)
    if context is not None and context.channel_snapshot is not None:
        return context.channel_snapshot
    channel_id, _ = channel_of(payload)
    return scheme.get_storage().get(channel_id)


def _distrust_withdrawing(storage: ChannelStorage, payload: PaymentPayload) -> None:
    """Make the facilitator read a channel's deposit from the chain again when its payer
    has asked to withdraw.

    x402 checks a voucher against the deposit it last read from the chain (for up to
    five minutes); once a withdrawal is pending the deposit may shrink at any moment, and
    a voucher checked against the old figure would buy work nobody can claim.
    """
    try:
        channel_id, _ = channel_of(payload)
    except PaymentRejectedError:
        return  # not a voucher: x402's own checks refuse it

    def forget_sync(current: Channel | None) -> Channel | None:
        if current is None or not current.withdraw_requested_at or not current.onchain_synced_at:
            return current
        following = current.copy()
        following.onchain_synced_at = None
        return following

    try:
        storage.update_channel(channel_id, forget_sync)
    except ValueError:
        return  # another receiver's channel: x402's checks refuse the voucher


def _reason(raw: Any) -> str:
    """x402's error codes, made ours: lower case with underscores."""
    return str(raw).strip().replace(" ", "_").replace("-", "_").lower() or "invalid_payment"
