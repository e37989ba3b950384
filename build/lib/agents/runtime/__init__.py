"""Live agents: hiring, skills and models, the task store and its state machine, recovery,
launch. Builds on the domains (dao, treasury), the chain (contracts) and the core."""
