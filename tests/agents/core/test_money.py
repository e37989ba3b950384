"""Units <-> decimals, from the token's own decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.core.errors import InvalidAmountError
from agents.core.money import (
    TOKEN_DECIMALS,
    format_money,
    format_tokens,
    parse_amount,
    to_decimal,
    to_units,
)


def test_to_units_scales_by_the_given_decimals() -> None:
    assert to_units(Decimal("0.05"), 6) == 50_000
    assert to_units(Decimal("12.5"), TOKEN_DECIMALS) == 12_500_000_000_000_000_000
    assert to_units(Decimal("0.05"), 2) == 5


def test_to_units_refuses_more_decimals_than_the_token_has() -> None:
    with pytest.raises(ValueError, match="more than 6 decimals"):
        to_units(Decimal("0.0000001"), 6)
    with pytest.raises(ValueError, match="more than 2 decimals"):
        to_units(Decimal("0.001"), 2)


def test_to_decimal_has_no_trailing_zeros_and_no_exponent() -> None:
    assert str(to_decimal(50_000, 6)) == "0.05"
    assert str(to_decimal(10_000_000, 6)) == "10"  # not 1E+1
    assert str(to_decimal(0, 6)) == "0"
    assert str(to_decimal(5, 2)) == "0.05"
    assert to_decimal(to_units(Decimal("123.456"), 18), 18) == Decimal("123.456")


def test_format_money_and_tokens() -> None:
    assert format_money(1_500_000, 6) == "1.5"
    assert format_money(0, 6) == "0"
    assert format_money(100_000_000_000, 6) == "100000"
    assert format_tokens(300_000 * 10**18) == "300,000"
    assert format_tokens(15 * 10**17) == "1.5"


@pytest.mark.parametrize("text", ["abc", "", "-1", "NaN", "inf", "0.0000001", "1e-7"])
def test_parse_amount_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(InvalidAmountError, match="is not an amount of dollars"):
        parse_amount(text, 6, "dollars")


def test_parse_amount_reads_what_a_person_types() -> None:
    assert parse_amount("12.5", 18) == 12_500_000_000_000_000_000
    assert parse_amount(" 1000 ", 6) == 1_000_000_000
    assert parse_amount("1e3", 6) == 1_000_000_000
