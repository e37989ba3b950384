"""The earnings jobs, as one tick a scheduler calls: distribute what is due, pull the
operator's share when this runtime is the operator, then buy back.

The runtime's scheduler wires it like this (``agents/scheduler.py``)::

    from treasury.jobs import EarningsJobs
    jobs = EarningsJobs(runtime.chain, runtime.tasks.engine, runtime.manifest)
    scheduler.add_job(jobs.tick, "interval", seconds=jobs.settings.earnings_interval,
                      id="earnings", name="distribute income, buy back and burn")

``tick`` never raises for one agent's trouble (it logs it and reports it in the
returned :class:`EarningsTick`), so a failing treasury does not stop the others
nor the scheduler.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine

from agents.core.errors import AgentDaoError
from contracts.client import Chain
from contracts.manifest import Manifest
from treasury.buyback import BuybackKeeper, BuybackOutcome
from treasury.distribution import DistributionJob, DistributionOutcome
from treasury.settings import EarningsSettings
from treasury.staking import withdraw_operator_share

__all__ = ["EarningsJobs", "EarningsTick", "OperatorWithdrawal"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperatorWithdrawal:
    """The operator's share one tick pulled from one treasury."""

    agent: str
    amount: int
    tx: str


@dataclass(frozen=True)
class EarningsTick:
    """What one tick did, per agent."""

    distributions: list[DistributionOutcome] = field(default_factory=list)
    buybacks: list[BuybackOutcome] = field(default_factory=list)
    operator_withdrawals: list[OperatorWithdrawal] = field(default_factory=list)


class EarningsJobs:
    """Distribution job plus buyback keeper for every agent of a deployment.

    Args:
        chain: The chain; its signer pays gas for ``distribute`` and, where it is the
            treasury's keeper (the operator, by default), buys back.
        engine: The database (distribution state survives restarts there).
        manifest: The deployment's agents.
        settings: Thresholds; read from ``AGENTDAO_*`` when omitted.
    """

    def __init__(
        self,
        chain: Chain,
        engine: Engine,
        manifest: Manifest,
        settings: EarningsSettings | None = None,
        *,
        signer: LocalAccount | None = None,
    ) -> None:
        self.settings = settings or EarningsSettings()
        self.chain = chain
        self.manifest = manifest
        self.signer = signer or chain.signer
        self.distribution = DistributionJob(chain, engine, manifest, self.settings, signer=signer)
        self.keeper = BuybackKeeper(chain, manifest, self.settings, signer=signer)
        # one tick at a time, even if a scheduler fires while the last one still runs
        self._lock = threading.Lock()

    def tick(self) -> EarningsTick:
        """Distribute every agent's due income, then buy back with every fund it can."""
        with self._lock:
            distributions = self.distribution.run_due()
            withdrawals = self._withdraw_operator_shares()
            buybacks = self.keeper.run_due()
        for outcome in distributions:
            if outcome.tx is not None:
                log.info("%s: distributed %s (tx %s)", outcome.agent, outcome.income, outcome.tx)
        for bought in buybacks:
            if bought.tx is not None:
                log.info("%s: burned %s tokens (tx %s)", bought.agent, bought.burned, bought.tx)
        return EarningsTick(distributions, buybacks, withdrawals)

    def _withdraw_operator_shares(self) -> list[OperatorWithdrawal]:
        """The operator's share is pulled, never pushed (a blocklisted operator cannot freeze
        a distribution); where this runtime's key is the operator, it pulls for itself."""
        done = []
        for name, addresses in self.manifest.agents.items():
            try:
                paid, tx = withdraw_operator_share(self.chain, addresses, self.signer)
            except AgentDaoError as exc:  # paused by the guardian, or an RPC hiccup
                log.warning("%s: operator share not withdrawn: %s", name, exc.message)
                continue
            if tx is not None:
                log.info("%s: withdrew the operator share %s (tx %s)", name, paid, tx)
                done.append(OperatorWithdrawal(name, paid, tx))
        return done
