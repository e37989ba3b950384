"""Money seen from Python: x402 payments, distribution, claims, budgets."""
