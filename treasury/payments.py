"""x402 payments into an agent's treasury: what a call costs, and whether a payment pays it.

A price from the live config becomes x402 ``PaymentRequirements`` (scheme ``exact``,
``payTo`` = the agent's treasury, asset = the deployment's payment token with its
EIP-712 name and version read from the token). A payment is checked against them
field by field here, so a refusal says what is wrong (``underpaid``,
``wrong_asset``, ``expired``, ...), then verified and later settled by the
facilitator. Settlement happens only when the caller asks, after the task
succeeded.

Every field a customer controls is parsed strictly (uint256 ranges, 32-byte hex
nonces, hex signatures, JSON shapes), so a hostile header is a refusal with a reason,
never a crash. A chain the runtime cannot reach raises
:class:`~agents.core.errors.ChainUnreachableError` from every method that needs it,
never a refusal: a valid payment is not the customer's fault during an outage.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from hexbytes import HexBytes
from pydantic import ValidationError
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ProviderConnectionError,
    TransactionNotFound,
    Web3Exception,
)
from x402.http import decode_payment_signature_header
from x402.schemas import PaymentPayload, PaymentRequired, PaymentRequirements, ResourceInfo

from agents.core.errors import ChainUnreachableError, PaymentRejectedError, SettlementError
from agents.core.money import to_decimal
from contracts.client import Chain, decode_revert
from contracts.logs import scan_events
from treasury.batch import BatchSettlement
from treasury.facilitator import Facilitator

__all__ = ["Authorization", "PaymentToken", "Payments", "network_of", "uint256"]

SCHEME: Final = "exact"
MIN_RUN_SECONDS: Final = 30
"""Seconds an authorization must still be valid for when a hire starts: the task runs and
settles within them."""
EXPIRY_MARGIN: Final = 6
"""Seconds an authorization must still be valid for; the facilitator uses the same."""
CLOCK_SKEW: Final = 300
"""Seconds a customer's clock may run ahead of the chain's: an authorization may stay
valid at most this much longer than the requirements' ``maxTimeoutSeconds``."""
UINT256_MAX: Final = 2**256 - 1

_UNREACHABLE: Final = (OSError, ProviderConnectionError)
"""What web3's HTTP provider raises when the node does not answer (requests' connection
errors and timeouts are OSErrors)."""
_DIGITS: Final = re.compile(r"[0-9]{1,78}")
_BYTES32: Final = re.compile(r"0x[0-9a-fA-F]{64}")
_HEX: Final = re.compile(r"0x(?:[0-9a-fA-F]{2})+")

_TRANSFER_WITH_AUTHORIZATION: Final = (
    "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
)

# x402's reason codes -> ours. Ours are what a customer reads in the 402.
_FACILITATOR_REASONS: Final = {
    "network_mismatch": "wrong_network",
    "unsupported_scheme": "unsupported_scheme",
    "invalid_exact_evm_payload_recipient_mismatch": "wrong_recipient",
    "invalid_exact_evm_payload_authorization_value_mismatch": "wrong_amount",
    "invalid_exact_evm_payload_authorization_valid_before": "expired",
    "invalid_exact_evm_payload_authorization_valid_after": "not_yet_valid",
    "invalid_exact_evm_payload_signature": "bad_signature",
    "invalid_exact_evm_failed_to_verify_signature": "bad_signature",
    "invalid_exact_evm_nonce_already_used": "reused",
    "invalid_exact_evm_insufficient_balance": "insufficient_funds",
}
# The token's own revert reasons (MockUSDC's custom errors, FiatToken's strings) -> ours.
_REVERT_REASONS: Final = (
    ("AuthorizationUsed", "reused"),
    ("authorization is used", "reused"),
    ("AuthorizationExpired", "expired"),
    ("authorization is expired", "expired"),
    ("AuthorizationNotYetValid", "not_yet_valid"),
    ("authorization is not yet valid", "not_yet_valid"),
    ("InvalidSignature", "bad_signature"),
    ("invalid signature", "bad_signature"),
    ("InsufficientBalance", "insufficient_funds"),
    ("exceeds balance", "insufficient_funds"),
)


def network_of(chain_id: int) -> str:
    """The CAIP-2 network x402 names an EVM chain by (``eip155:31337``)."""
    return f"eip155:{chain_id}"


@dataclass(frozen=True, slots=True)
class PaymentToken:
    """The stablecoin customers pay in, with the EIP-712 domain its signatures use."""

    address: str
    name: str
    version: str
    decimals: int
    symbol: str

    @classmethod
    def read(cls, chain: Chain, address: str) -> PaymentToken:
        """Read name, version, decimals and symbol from the token itself."""
        token = chain.contract("MockUSDC", address)
        return cls(
            address=str(token.address),
            name=token.functions.name().call(),
            version=token.functions.version().call(),
            decimals=token.functions.decimals().call(),
            symbol=token.functions.symbol().call(),
        )

    def dollars(self, units: int) -> Decimal:
        """Units as a decimal amount of the token (USDC: dollars)."""
        return to_decimal(units, self.decimals)


@dataclass(frozen=True, slots=True)
class Authorization:
    """The EIP-3009 authorization inside an x402 exact-EVM payment."""

    payer: str
    pay_to: str
    value: int
    valid_after: int
    valid_before: int
    nonce: str
    signature: str

    @classmethod
    def of(cls, payload: PaymentPayload) -> Authorization:
        """Read it from a payment.

        Raises:
            PaymentRejectedError: ``malformed_payment``.
        """
        try:
            body = payload.payload
            if not isinstance(body, dict) or not isinstance(body.get("authorization"), dict):
                raise ValueError("no authorization object")
            auth = body["authorization"]
            return cls(
                payer=_address(auth["from"], "from"),
                pay_to=_address(auth["to"], "to"),
                value=uint256(auth["value"], "value"),
                valid_after=uint256(auth["validAfter"], "validAfter"),
                valid_before=uint256(auth["validBefore"], "validBefore"),
                nonce=_matching(_BYTES32, auth["nonce"], "nonce", "32 bytes of 0x-hex").lower(),
                signature=_matching(_HEX, body.get("signature"), "signature", "0x-hex bytes"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PaymentRejectedError(
                "malformed_payment", f"not an EIP-3009 authorization ({exc})"
            ) from exc


def uint256(value: object, name: str) -> int:
    """A uint256 as x402 writes it (decimal digits; a JSON integer is accepted too).

    Raises:
        ValueError: anything else (signs, floats, booleans, hex, spaces, > 2**256 - 1).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        raise ValueError(f"{name} must be a uint256 in decimal digits, not {value!r:.40}")
    if not 0 <= number <= UINT256_MAX:
        raise ValueError(f"{name} is outside uint256")
    return number


def _matching(pattern: re.Pattern[str], value: object, name: str, what: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValueError(f"{name} must be {what}")
    return value


def _address(value: object, name: str) -> str:
    if not isinstance(value, str) or not Web3.is_address(value):
        raise ValueError(f"{name} must be an address")
    return Web3.to_checksum_address(value)


CLOCK_CACHE_SECONDS = 1.0
"""How long a reading of the chain's clock lead is reused."""


class Payments:
    """Prices to x402 requirements, and payments to money in a treasury."""

    def __init__(
        self,
        chain: Chain,
        token: PaymentToken,
        facilitator: Facilitator,
        timeout: int = 300,
        *,
        start_block: int = 0,
        batch: BatchSettlement | None = None,
    ) -> None:
        self.chain = chain
        self.token = token
        self.facilitator = facilitator
        self.batch = batch
        """The ``batch-settlement`` scheme, when the chain has its escrow; None: ``exact`` only."""
        self.timeout = timeout
        self.start_block = start_block
        self.network = network_of(chain.chain_id)
        self._contract = chain.contract("MockUSDC", token.address)
        self._lead = (0, -CLOCK_CACHE_SECONDS)  # (seconds, monotonic time it was read)

    def chain_lead(self) -> int:
        """Seconds the chain's clock runs ahead of this machine's (0 when behind).

        Authorizations are checked by the token against block time, and customers date
        them by their own clock. On a local chain moved forward (``--wait``), the lead
        is real; requirements widen the window by it and checks use chain time.
        """
        lead, read_at = self._lead
        if time.monotonic() - read_at >= CLOCK_CACHE_SECONDS:
            with self._reaching_chain():
                block_time = int(self.chain.w3.eth.get_block("latest")["timestamp"])
            lead = max(0, block_time - int(time.time()))
            self._lead = (lead, time.monotonic())
        return lead

    def requirements(self, pay_to: str, amount: int) -> PaymentRequirements:
        """What paying ``amount`` units to ``pay_to`` takes."""
        return PaymentRequirements(
            scheme=SCHEME,
            network=self.network,
            asset=self.token.address,
            amount=str(amount),
            pay_to=Web3.to_checksum_address(pay_to),
            max_timeout_seconds=self.timeout + self.chain_lead(),
            extra={"name": self.token.name, "version": self.token.version},
        )

    def payment_required(
        self,
        accepts: list[PaymentRequirements],
        url: str,
        description: str,
        error: str,
        payment: PaymentPayload | None = None,
    ) -> PaymentRequired:
        """The body of a 402: the ways to pay (best first), and why the last attempt (if
        any, ``payment``) did not. After a voucher that did not follow its channel, the
        batch scheme adds the channel's state so the customer's client can resume."""
        resource = ResourceInfo(url=url, description=description, mime_type="application/json")
        if self.batch is not None:
            return self.batch.payment_required(accepts[0].pay_to, accepts, resource, error, payment)
        return PaymentRequired(error=error, resource=resource, accepts=accepts)

    @staticmethod
    def decode(header: str) -> PaymentPayload:
        """Decode a ``PAYMENT-SIGNATURE`` header.

        Raises:
            PaymentRejectedError: ``malformed_payment`` or ``unsupported_version``.
        """
        try:
            payload = decode_payment_signature_header(header)
        # x402's decoder assumes a JSON object: `[]`, `null` or `1` raise AttributeError,
        # a deep nesting RecursionError. Any of them is a header we cannot read.
        except (ValueError, ValidationError, TypeError, AttributeError, RecursionError) as exc:
            raise PaymentRejectedError("malformed_payment", "cannot decode the header") from exc
        if not isinstance(payload, PaymentPayload):
            raise PaymentRejectedError("unsupported_version", "x402 version 2 is required")
        return payload

    def check(
        self, payload: PaymentPayload, requirements: PaymentRequirements, now: float | None = None
    ) -> Authorization:
        """Check a payment against the requirements, naming the first thing that is wrong.

        Raises:
            PaymentRejectedError: ``unsupported_scheme``, ``wrong_network``, ``wrong_asset``,
                ``wrong_recipient``, ``underpaid``, ``overpaid``, ``expired``,
                ``not_yet_valid``, ``validity_too_short``, ``validity_too_long`` or
                ``malformed_payment``.
            ChainUnreachableError: the chain's clock cannot be read.
        """
        accepted = payload.accepted
        if accepted.scheme != SCHEME:
            raise PaymentRejectedError("unsupported_scheme", f"scheme {accepted.scheme!r}")
        if accepted.network != requirements.network:
            raise PaymentRejectedError(
                "wrong_network", f"paid on {accepted.network}, this agent takes {self.network}"
            )
        if accepted.asset.lower() != requirements.asset.lower():
            raise PaymentRejectedError(
                "wrong_asset",
                f"paid in {accepted.asset}, this agent takes {self.token.symbol} at "
                f"{requirements.asset}",
            )
        auth = Authorization.of(payload)
        pay_to = requirements.pay_to.lower()
        if auth.pay_to.lower() != pay_to or accepted.pay_to.lower() != pay_to:
            raise PaymentRejectedError(
                "wrong_recipient", f"pays {auth.pay_to}, the treasury is {requirements.pay_to}"
            )
        price = int(requirements.amount)
        try:
            accepted_amount = uint256(accepted.amount, "accepted.amount")
        except ValueError as exc:
            raise PaymentRejectedError("malformed_payment", str(exc)) from exc
        for value in (auth.value, accepted_amount):
            if value != price:
                code = "underpaid" if value < price else "overpaid"
                raise PaymentRejectedError(
                    code,
                    f"authorizes {self.token.dollars(value)} {self.token.symbol}, "
                    f"the price is {self.token.dollars(price)} {self.token.symbol}",
                )
        now = self.chain_now() if now is None else now
        if not self.still_spendable(auth.valid_before, now):
            raise PaymentRejectedError(
                "expired", f"the authorization expired (validBefore {auth.valid_before})"
            )
        if auth.valid_after > now:
            raise PaymentRejectedError(
                "not_yet_valid", f"the authorization is valid only after {auth.valid_after}"
            )
        # The model runs before the money moves: an authorization about to expire would buy a
        # model run it can never pay for (settlement fails, nothing charged, run again).
        if auth.valid_before < now + MIN_RUN_SECONDS:
            raise PaymentRejectedError(
                "validity_too_short",
                f"the authorization expires in {max(0, int(auth.valid_before - now))} s; this "
                f"agent needs at least {MIN_RUN_SECONDS} s to run the task and settle",
            )
        # A payment pending settlement is retried while its authorization lives, and the
        # task table stores validBefore in 64 bits: neither may be unbounded.
        longest = now + requirements.max_timeout_seconds + CLOCK_SKEW
        if auth.valid_before > longest:
            raise PaymentRejectedError(
                "validity_too_long",
                f"the authorization is valid until {auth.valid_before}; this agent takes "
                f"authorizations valid for at most {requirements.max_timeout_seconds} s",
            )
        return auth

    async def verify(self, payload: PaymentPayload, requirements: PaymentRequirements) -> None:
        """Have the facilitator verify the signature and simulate the transfer.

        Raises:
            PaymentRejectedError: the facilitator refused; the reason is ours where we can
                tell (``bad_signature``, ``reused``, ``insufficient_funds``, ...), or
                ``facilitator_unavailable`` (a remote facilitator did not answer).
            ChainUnreachableError: the chain does not answer, so the refusal (if any)
                says nothing about the payment.
        """
        try:
            response = await self.facilitator.verify(payload, requirements)
        except Exception as exc:  # unreachable facilitator, RPC error: nothing was charged
            await asyncio.to_thread(self.ensure_reachable)
            raise PaymentRejectedError(
                "facilitator_unavailable", f"{type(exc).__name__}: {exc}"
            ) from exc
        if response.is_valid:
            return
        # x402's facilitator reports an RPC failure as a bad signature: ask the chain
        # (only on a refusal, so a good payment costs no extra call).
        await asyncio.to_thread(self.ensure_reachable)
        raw = response.invalid_reason or "invalid"
        code = _FACILITATOR_REASONS.get(raw)
        if code is None:
            try:
                diagnosed = await asyncio.to_thread(self.diagnose, Authorization.of(payload))
            except Exception:  # the diagnosis is a courtesy; the facilitator already refused
                diagnosed = None
            if diagnosed is not None:
                raise diagnosed
            code = raw
        detail = response.invalid_message or raw
        raise PaymentRejectedError(code, detail)

    async def settle(self, payload: PaymentPayload, requirements: PaymentRequirements) -> str:
        """Move the money: submit the authorization on chain; return the transaction hash.

        Raises:
            SettlementError: the facilitator could not settle; check :meth:`is_used` to
                learn whether the transfer happened anyway (e.g. a timed-out receipt).
        """
        try:
            response = await self.facilitator.settle(payload, requirements)
        except Exception as exc:  # whatever broke, the caller checks the chain
            raise SettlementError(f"{type(exc).__name__}: {exc}") from exc
        if response.success and response.transaction:
            return str(response.transaction)
        raw = response.error_reason or "unknown"
        reason = _FACILITATOR_REASONS.get(raw, raw)
        if response.error_message:
            reason = f"{reason} ({response.error_message})"
        raise SettlementError(reason)

    def ensure_reachable(self) -> None:
        """Return if the chain answers a trivial call.

        Raises:
            ChainUnreachableError: it does not.
        """
        with self._reaching_chain():
            self.chain.w3.eth.block_number  # noqa: B018  (the call is the probe)

    @contextmanager
    def _reaching_chain(self) -> Iterator[None]:
        try:
            yield
        except _UNREACHABLE as exc:
            raise ChainUnreachableError(self.chain.rpc_url, type(exc).__name__) from exc

    def chain_now(self) -> float:
        """The chain's clock, as this machine's clock plus the chain's lead."""
        return time.time() + self.chain_lead()

    def still_spendable(self, valid_before: int, now: float | None = None) -> bool:
        """True while an authorization valid before ``valid_before`` can still be
        submitted on chain (by chain time, with the expiry margin)."""
        now = self.chain_now() if now is None else now
        return valid_before >= now + EXPIRY_MARGIN

    def is_used(self, payer: str, nonce: str) -> bool:
        """True when the authorization was already spent (or cancelled) on chain.

        Raises:
            ChainUnreachableError: the chain does not answer.
        """
        with self._reaching_chain():
            used: bool = self._contract.functions.authorizationState(
                Web3.to_checksum_address(payer), bytes(HexBytes(nonce))
            ).call()
        return used

    def landed(self, tx: str) -> bool:
        """True when transaction ``tx`` is in the chain and succeeded.

        Raises:
            ChainUnreachableError: the chain does not answer.
        """
        with self._reaching_chain():
            try:
                receipt = self.chain.w3.eth.get_transaction_receipt(HexBytes(tx))
            except TransactionNotFound:
                return False
        return int(receipt["status"]) == 1

    def settlement_of(self, payer: str, nonce: str) -> str | None:
        """The transaction that spent the authorization, from the token's
        ``AuthorizationUsed`` event (searched from the deployment's start block)."""
        logs = scan_events(  # bounded ranges, retried; ChainUnreachableError past the retries
            self._contract.events.AuthorizationUsed(),
            self.start_block,
            argument_filters={
                "authorizer": Web3.to_checksum_address(payer),
                "nonce": bytes(HexBytes(nonce)),
            },
        )
        return logs[-1]["transactionHash"].to_0x_hex() if logs else None

    def balance_of(self, address: str) -> int:
        """Payment-token units held by ``address``.

        Raises:
            ChainUnreachableError: the chain does not answer.
        """
        with self._reaching_chain():
            balance: int = self._contract.functions.balanceOf(
                Web3.to_checksum_address(address)
            ).call()
        return balance

    def diagnose(self, auth: Authorization) -> PaymentRejectedError | None:
        """Why the token would refuse this authorization, by simulating it ourselves
        (the facilitator's own probe needs Multicall3, which local chains lack)."""
        function = self._contract.get_function_by_signature(_TRANSFER_WITH_AUTHORIZATION)
        call = function(
            auth.payer,
            auth.pay_to,
            auth.value,
            auth.valid_after,
            auth.valid_before,
            bytes(HexBytes(auth.nonce)),
            bytes(HexBytes(auth.signature)),
        )
        try:
            call.call({"from": self.chain.signer.address})
        except ContractCustomError as exc:
            message = decode_revert(exc.data if isinstance(exc.data, str) else None)
        except ContractLogicError as exc:
            message = exc.message or str(exc)
        except (Web3Exception, ValueError) as exc:
            message = str(exc)
        else:
            return None
        for marker, code in _REVERT_REASONS:
            if marker.lower() in message.lower():
                return PaymentRejectedError(code, f"the token refuses it: {message}")
        return PaymentRejectedError("transfer_refused", f"the token refuses it: {message}")
