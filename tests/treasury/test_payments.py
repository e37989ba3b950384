"""x402 payments into a treasury, on anvil with the launched MockUSDC: terms, reasons, money."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from x402.schemas import PaymentPayload, PaymentRequirements

from agents.core.errors import PaymentRejectedError, SettlementError
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.manifest import Manifest
from tests.conftest import Deployment
from tests.support.customers import sign_payment
from treasury.facilitator import LocalFacilitator
from treasury.payments import (
    CLOCK_CACHE_SECONDS,
    MIN_RUN_SECONDS,
    Authorization,
    Payments,
    PaymentToken,
)

pytestmark = pytest.mark.anyio

PRICE = 50_000
PAYER = dev_account(1).address


@pytest.fixture
def manifest(deployment: Deployment) -> Manifest:
    loaded = Manifest.load(deployment.settings.manifest_path)
    assert loaded is not None
    return loaded


@pytest.fixture
def payments(chain: Chain, manifest: Manifest) -> Payments:
    assert manifest.payment_token is not None
    token = PaymentToken.read(chain, manifest.payment_token)
    key = "0x" + bytes(dev_account(0).key).hex()
    return Payments(chain, token, LocalFacilitator(chain.rpc_url, key, "eip155:31337"))


@pytest.fixture
def vault(manifest: Manifest) -> str:
    return manifest.agents["scribe"].treasury


@pytest.fixture
def wanted(payments: Payments, vault: str) -> PaymentRequirements:
    return payments.requirements(vault, PRICE)


def test_the_token_domain_is_read_from_the_token(payments: Payments) -> None:
    token = payments.token
    assert (token.name, token.version, token.decimals, token.symbol) == ("USD Coin", "1", 6, "USDC")
    assert str(token.dollars(50_000)) == "0.05"
    assert str(token.dollars(2_000_000)) == "2"


def test_requirements_name_the_treasury_token_and_exact_price(
    wanted: PaymentRequirements, payments: Payments, vault: str
) -> None:
    assert wanted.scheme == "exact"
    assert wanted.network == "eip155:31337"
    assert wanted.pay_to == vault
    assert wanted.amount == str(PRICE)
    assert wanted.asset == payments.token.address
    assert wanted.extra == {"name": "USD Coin", "version": "1"}


async def test_a_good_payment_passes_and_settling_moves_exactly_the_price(
    payments: Payments, wanted: PaymentRequirements, vault: str
) -> None:
    payment = await sign_payment(1, wanted)
    auth = payments.check(payment, wanted)
    assert (auth.payer, auth.pay_to, auth.value) == (PAYER, vault, PRICE)
    await payments.verify(payment, wanted)
    before = payments.balance_of(PAYER), payments.balance_of(vault)
    assert not payments.is_used(auth.payer, auth.nonce)
    tx = await payments.settle(payment, wanted)
    assert payments.balance_of(PAYER) == before[0] - PRICE
    assert payments.balance_of(vault) == before[1] + PRICE
    assert payments.is_used(auth.payer, auth.nonce)
    assert payments.settlement_of(auth.payer, auth.nonce) == tx


async def test_settling_twice_fails_without_a_second_charge(
    payments: Payments, wanted: PaymentRequirements
) -> None:
    payment = await sign_payment(1, wanted)
    await payments.settle(payment, wanted)
    before = payments.balance_of(PAYER)
    with pytest.raises(SettlementError):
        await payments.settle(payment, wanted)
    assert payments.balance_of(PAYER) == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": str(PRICE - 1)}, "underpaid"),
        ({"amount": str(PRICE + 1)}, "overpaid"),
        ({"network": "eip155:8453"}, "wrong_network"),
        ({"asset": "0x" + "12" * 20}, "wrong_asset"),
        ({"pay_to": dev_account(7).address}, "wrong_recipient"),
    ],
)
async def test_terms_that_do_not_match_are_named(
    payments: Payments, wanted: PaymentRequirements, change: dict[str, str], reason: str
) -> None:
    payment = await sign_payment(1, wanted.model_copy(update=change))
    with pytest.raises(PaymentRejectedError) as refused:
        payments.check(payment, wanted)
    assert refused.value.reason == reason


async def test_another_scheme_is_unsupported(
    payments: Payments, wanted: PaymentRequirements
) -> None:
    payment = await sign_payment(1, wanted)
    payment.accepted = wanted.model_copy(update={"scheme": "upto"})
    with pytest.raises(PaymentRejectedError) as refused:
        payments.check(payment, wanted)
    assert refused.value.reason == "unsupported_scheme"


async def test_time_bounds_are_checked(payments: Payments, wanted: PaymentRequirements) -> None:
    payment = await sign_payment(1, wanted)
    auth = Authorization.of(payment)
    with pytest.raises(PaymentRejectedError) as late:
        payments.check(payment, wanted, now=auth.valid_before)
    assert late.value.reason == "expired"
    early = payment.model_copy(deep=True)
    early.payload["authorization"]["validAfter"] = str(int(time.time()) + 3600)
    with pytest.raises(PaymentRejectedError) as too_early:
        payments.check(early, wanted)
    assert too_early.value.reason == "not_yet_valid"
    # about to expire: it would buy a model run it can never pay for (a review ran the
    # model for free, again and again, with authorizations valid for 8 s)
    with pytest.raises(PaymentRejectedError) as short:
        payments.check(payment, wanted, now=auth.valid_before - MIN_RUN_SECONDS + 1)
    assert short.value.reason == "validity_too_short"
    assert payments.check(payment, wanted, now=auth.valid_before - MIN_RUN_SECONDS) == auth


async def test_a_forged_or_tampered_authorization_fails_verification(
    payments: Payments, wanted: PaymentRequirements
) -> None:
    payment = await sign_payment(2, wanted)
    payment.payload["authorization"]["from"] = PAYER  # dev 2 signed, claims to be dev 1
    payments.check(payment, wanted)  # the terms are fine; the signature is not
    with pytest.raises(PaymentRejectedError) as refused:
        await payments.verify(payment, wanted)
    assert refused.value.reason == "bad_signature"


async def test_an_unfunded_payer_is_refused_as_insufficient_funds(
    payments: Payments, vault: str
) -> None:
    too_much = payments.requirements(vault, 10**12)  # a million dollars
    payment = await sign_payment(1, too_much)
    with pytest.raises(PaymentRejectedError) as refused:
        await payments.verify(payment, too_much)
    assert refused.value.reason == "insufficient_funds"


@pytest.mark.parametrize(
    "header",
    ["", "not-base64!", "eyJ4NDAyVmVyc2lvbiI6IDJ9"],  # the last: {"x402Version": 2}
)
def test_undecodable_headers_are_malformed(header: str) -> None:
    with pytest.raises(PaymentRejectedError) as refused:
        Payments.decode(header)
    assert refused.value.reason == "malformed_payment"


async def test_an_authorization_without_fields_is_malformed(wanted: PaymentRequirements) -> None:
    payment = PaymentPayload(payload={"signature": "0x00"}, accepted=wanted)
    with pytest.raises(PaymentRejectedError) as refused:
        Authorization.of(payment)
    assert refused.value.reason == "malformed_payment"


def encoded(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize("document", [[], None, 1, "x", {"x402Version": 2, "payload": []}])
def test_headers_of_any_json_shape_are_malformed(document: object) -> None:
    with pytest.raises(PaymentRejectedError) as refused:
        Payments.decode(encoded(document))
    assert refused.value.reason == "malformed_payment"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("value", "-1"),
        ("value", "1.5"),
        ("value", 1.5),
        ("value", True),
        ("value", "0x10"),
        ("value", " 10"),
        ("value", str(2**256)),
        ("validBefore", str(2**256)),
        ("validAfter", None),
        ("nonce", "0x" + "zz" * 32),
        ("nonce", "0x" + "11" * 31),
        ("nonce", 5),
        ("from", "not an address"),
        ("to", ["0x"]),
    ],
)
async def test_every_authorization_field_is_parsed_strictly(
    wanted: PaymentRequirements, field: str, value: object
) -> None:
    payment = await sign_payment(1, wanted)
    payment.payload["authorization"][field] = value
    with pytest.raises(PaymentRejectedError) as refused:
        Authorization.of(payment)
    assert refused.value.reason == "malformed_payment"


@pytest.mark.parametrize("signature", [None, "", "0x", "0xzz", "0x123", 7])
async def test_the_signature_must_be_hex_bytes(
    wanted: PaymentRequirements, signature: object
) -> None:
    payment = await sign_payment(1, wanted)
    payment.payload["signature"] = signature
    with pytest.raises(PaymentRejectedError) as refused:
        Authorization.of(payment)
    assert refused.value.reason == "malformed_payment"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("validBefore", str(2**63), "validity_too_long"),
        ("validBefore", str(2**256 - 1), "validity_too_long"),
        ("value", "9" * 29, "overpaid"),
        ("value", "0", "underpaid"),
    ],
)
async def test_uint256_extremes_are_refused_with_a_reason(
    payments: Payments, wanted: PaymentRequirements, field: str, value: str, reason: str
) -> None:
    payment = await sign_payment(1, wanted)
    payment.payload["authorization"][field] = value
    with pytest.raises(PaymentRejectedError) as refused:
        payments.check(payment, wanted)
    assert refused.value.reason == reason


async def test_an_accepted_amount_that_is_no_number_is_malformed(
    payments: Payments, wanted: PaymentRequirements
) -> None:
    payment = await sign_payment(1, wanted)
    payment.accepted = wanted.model_copy(update={"amount": "lots"})
    with pytest.raises(PaymentRejectedError) as refused:
        payments.check(payment, wanted)
    assert refused.value.reason == "malformed_payment"


async def test_requirements_widen_the_timeout_by_the_chains_lead(
    payments: Payments, vault: str, chain: Chain
) -> None:
    assert payments.requirements(vault, PRICE).max_timeout_seconds == payments.timeout
    advance_time(chain.w3, 3600)
    await asyncio.sleep(CLOCK_CACHE_SECONDS)
    lead = payments.chain_lead()
    block_time = int(chain.w3.eth.get_block("latest")["timestamp"])
    assert lead > 3000
    assert abs(lead - (block_time - time.time())) <= 2
    widened = payments.requirements(vault, PRICE)
    assert widened.max_timeout_seconds == payments.timeout + lead
    # A customer dating by its own clock still pays in time by the chain's.
    payment = await sign_payment(1, widened)
    payments.check(payment, widened)
    await payments.verify(payment, widened)
    assert await payments.settle(payment, widened)
