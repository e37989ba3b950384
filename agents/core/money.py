"""Money: integer units on chain <-> decimal amounts for people, in one place.

Contracts hold integers (``50_000`` USDC units); people read and type decimals
(``0.05``). The scale is the token's own ``decimals()``: read it from the token
when a chain is at hand (``PaymentToken.decimals``, the token contract), and fall
back to the constants here only where there is none (a database row, a test).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from agents.core.errors import InvalidAmountError

__all__ = [
    "TOKEN_DECIMALS",
    "USDC_DECIMALS",
    "format_money",
    "format_tokens",
    "parse_amount",
    "to_decimal",
    "to_units",
]

TOKEN_DECIMALS = 18
"""Decimals of every agent token (``AgentToken`` is a plain 18-decimal ERC-20)."""
USDC_DECIMALS = 6
"""Decimals of USDC, the payment token agentdao deploys locally; only a fallback
where the payment token cannot be asked."""


def to_units(amount: Decimal, decimals: int) -> int:
    """A decimal amount (dollars, tokens) as the integer the contracts use.

    Raises:
        ValueError: ``amount`` has more decimals than the token (``0.0000001`` USDC).
    """
    scaled = amount.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {decimals} decimals")
    return int(scaled)


def to_decimal(units: int, decimals: int) -> Decimal:
    """Integer units as a decimal amount without trailing zeros or an exponent:
    ``50_000`` -> ``0.05`` and ``10_000_000`` -> ``10`` at 6 decimals."""
    amount = Decimal(units).scaleb(-decimals)
    return (
        amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    )


def format_money(units: int, decimals: int) -> str:
    """Payment-token units as a plain number: ``50_000`` -> ``"0.05"`` at 6 decimals."""
    return f"{to_decimal(units, decimals):f}"


def format_tokens(units: int, decimals: int = TOKEN_DECIMALS) -> str:
    """Token units with thousands separators: ``1_500 * 10**18`` -> ``"1,500"``."""
    return f"{to_decimal(units, decimals):,f}"


def parse_amount(text: str, decimals: int, what: str = "tokens") -> int:
    """What someone typed (``12.5``) as token units.

    Raises:
        InvalidAmountError: not a number, negative, not finite, or finer than ``decimals``.
    """
    try:
        amount = Decimal(text.strip())
        if not amount.is_finite() or amount < 0:
            raise ValueError(text)
        return to_units(amount, decimals)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmountError(text, what) from exc
