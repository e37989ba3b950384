"""Settings of the earnings jobs: when to distribute, how to buy back.

Read from the same ``AGENTDAO_*`` environment (and ``.env``) as the runtime's
:class:`agents.core.settings.Settings`. Nothing here is governed: the split itself
lives on chain in each agent's AgentConfig; these only say how often the
operator's runtime pushes the button and how careful its keeper is.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EarningsSettings"]


class EarningsSettings(BaseSettings):
    """When the runtime distributes each treasury's income and buys back its token."""

    model_config = SettingsConfigDict(env_prefix="AGENTDAO_", env_file=".env", extra="ignore")

    distribution_min_income: Decimal = Field(default=Decimal("1"), ge=0, decimal_places=6)
    """Dollars of pending income that make a distribution due at once."""

    distribution_period: int = Field(default=3600, ge=0)
    """Seconds (chain time) after the last distribution when any pending income is due,
    however small."""

    buyback_slippage_bps: int = Field(default=100, ge=0, le=5000)
    """Slippage bound of a buyback in basis points: ``minOut`` is the quote less this
    (100 = 1 %). A price moved further between quote and execution reverts the swap."""

    buyback_deadline: int = Field(default=120, ge=1)
    """Seconds (chain time) a buyback swap stays valid after its quote."""

    buyback_min_amount: Decimal = Field(default=Decimal("0.01"), ge=0, decimal_places=6)
    """Dollars in the buyback fund below which the keeper waits (gas would exceed it)."""

    earnings_interval: float = Field(default=15.0, gt=0)
    """Seconds between two ticks of the earnings jobs in the runtime's scheduler."""
