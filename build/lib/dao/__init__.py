"""Governance seen from Python: proposals, votes, and the chain sync of AgentConfig."""
