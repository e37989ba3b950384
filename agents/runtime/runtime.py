"""The runtime: every launched agent, served with the live config its chain holds.

One process serves all agents of the deployment manifest. Each agent's config
comes from the chain, never from agents.yaml: at start the last version this
runtime accepted (the database's config history) or else AgentConfig itself; after
that, the chain sync (:class:`dao.sync.ConfigSync`, polled by the scheduler) hands
every new version to :meth:`Runtime.apply_config`, which refuses a config this
runtime cannot run and keeps the last good one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from agents.core.errors import (
    AgentDaoError,
    SettlementError,
    UnknownAgentError,
    UnknownModelError,
)
from agents.core.live_config import LiveConfig, read_live_config
from agents.core.settings import Settings
from agents.runtime.leases import Leases
from agents.runtime.models import MAX_TEMPERATURE, ModelSettings, validate_model_string
from agents.runtime.tasks import Task, TaskStore
from contracts.client import Chain
from contracts.escrow import escrow_on_chain
from contracts.manifest import AgentAddresses, Manifest
from dao.history import last_accepted
from dao.sync import ConfigSync
from treasury.batch import BatchSettlement, ClaimRound
from treasury.facilitator import LocalFacilitator, open_facilitator
from treasury.payments import Payments, PaymentToken, network_of

if TYPE_CHECKING:  # recovery imports hiring, which imports this module
    from agents.runtime.recovery import ChainWatch

__all__ = ["REPLICA_LEASE_SECONDS", "RejectedConfig", "Runtime", "ServedAgent"]

REPLICA_PREFIX = "replica:"
REPLICA_LEASE_SECONDS = 15.0
"""A replica renews its lease every third of this; one dead for this long is dead: any
other replica resolves the tasks it left (a restarted process is a new replica)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServedAgent:
    """An agent as the runtime serves it right now: addresses and live config."""

    name: str
    addresses: AgentAddresses
    live: LiveConfig


@dataclass(frozen=True, slots=True)
class RejectedConfig:
    """A config version governance set that this runtime refused to run."""

    agent: str
    version: int
    config_hash: str
    reason: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def config_problem(live: LiveConfig) -> str | None:
    """Why this runtime cannot serve ``live``, or None when it can."""
    try:
        validate_model_string(live.model)
    except UnknownModelError as exc:
        return exc.message
    if not live.system_prompt.strip():
        return "the system prompt is empty"
    temperature = float(live.temperature)
    if not (math.isfinite(temperature) and 0 <= temperature <= MAX_TEMPERATURE):
        return f"temperature {live.temperature} is outside 0..{MAX_TEMPERATURE}"
    names = [skill.name for skill in live.skills]
    if len(set(names)) != len(names):
        return "two skills share a name"
    return None


class Runtime:
    """Every agent of one deployment, their tasks, and the payments into their treasuries."""

    def __init__(
        self,
        settings: Settings,
        chain: Chain,
        manifest: Manifest,
        tasks: TaskStore,
        payments: Payments,
        replica: Leases | None = None,
        model_settings: ModelSettings | None = None,
    ) -> None:
        self.settings = settings
        self.replica = replica or Leases(tasks.engine, tasks.owner)
        """This replica's leases; its holder id owns the tasks it opens."""
        self.chain = chain
        self.manifest = manifest
        self.tasks = tasks
        self.payments = payments
        self.model_settings = model_settings or ModelSettings()
        self._lock = threading.Lock()
        self._rejected: dict[str, list[RejectedConfig]] = {}
        self._agents: dict[str, ServedAgent] = {}
        self._chain_watch: ChainWatch | None = None  # the reconcile job's memory of the chain
        engine = tasks.engine
        for name, addresses in manifest.agents.items():
            live = last_accepted(engine, name, chain.chain_id) or read_live_config(
                chain.contract("AgentConfig", addresses.config)
            )
            self._agents[name] = ServedAgent(name, addresses, live)
            problem = config_problem(live)
            if problem is not None:  # nothing better to fall back to; hires will fail unpaid
                self._reject(name, live, problem)
        self.sync = ConfigSync(
            chain.rpc_url,
            engine,
            manifest.agents,
            self.apply_config,
            confirmations=settings.confirmations,
            start_block=manifest.start_block,
        )

    @classmethod
    def open(cls, settings: Settings, chain: Chain, engine: Engine) -> Runtime:
        """The runtime for the deployment in ``settings.manifest_path``.

        Raises:
            AgentDaoError: no manifest, or one of another chain.
        """
        manifest = Manifest.load(settings.manifest_path)
        if manifest is None or not manifest.agents or manifest.payment_token is None:
            raise AgentDaoError(
                f"no agents launched yet ({settings.manifest_path}); run `agentdao launch`"
            )
        if manifest.chain_id != chain.chain_id:
            raise AgentDaoError(
                f"{settings.manifest_path} is for chain {manifest.chain_id}, "
                f"but the RPC serves chain {chain.chain_id}"
            )
        token = PaymentToken.read(chain, manifest.payment_token)
        network = network_of(chain.chain_id)
        facilitator = open_facilitator(settings, chain, network)
        batch = None
        # Vouchers need the escrow on chain and a facilitator in this process (x402's
        # channel server drives its claims and settles directly).
        if (
            manifest.batch_escrow is not None
            and isinstance(facilitator, LocalFacilitator)
            and escrow_on_chain(chain)
        ):
            batch = BatchSettlement(
                facilitator.x402,
                engine,
                chain.signer,
                network,
                token.address,
                token.name,
                token.version,
                settings.withdraw_delay,
                settings.deposit_calls,
                # a charge must reach the chain before the payer's withdrawal can: two
                # claim rounds and a minute for the claim's transaction
                claim_margin=int(2 * settings.claim_seconds) + 60,
                reader=facilitator.signer,
            )
        payments = Payments(
            chain,
            token,
            facilitator,
            settings.payment_timeout,
            start_block=manifest.start_block,
            batch=batch,
        )
        if batch is not None:
            batch.clock = payments.chain_now
        replica = Leases(engine)
        return cls(settings, chain, manifest, TaskStore(engine, replica.holder), payments, replica)

    @property
    def agents(self) -> Mapping[str, ServedAgent]:
        """Every served agent by name (a read-only snapshot)."""
        with self._lock:
            return MappingProxyType(dict(self._agents))

    def agent(self, name: str) -> ServedAgent:
        """The agent called ``name``, with its current live config.

        Raises:
            UnknownAgentError: the runtime serves no such agent.
        """
        with self._lock:
            served = self._agents.get(name)
        if served is None:
            raise UnknownAgentError(name)
        return served

    def rejected(self, name: str) -> tuple[RejectedConfig, ...]:
        """Config versions of ``name`` this runtime refused, oldest first."""
        with self._lock:
            return tuple(self._rejected.get(name, ()))

    def apply_config(self, name: str, live: LiveConfig) -> str | None:
        """Serve ``live`` for ``name`` from the next hire on, if this runtime can run it.

        In-flight hires finish with the config they started with. The caller (the chain
        sync) decides which version is current; applying the one already served is a
        no-op.

        Returns:
            None when applied; else why it was refused (the last good config stays, and
            the refusal is listed by :meth:`rejected`).

        Raises:
            UnknownAgentError: the runtime serves no such agent.
        """
        current = self.agent(name)
        if current.live == live:
            return None
        problem = config_problem(live)
        if problem is not None:
            self._reject(name, live, problem)
            log.warning("%s: config v%s refused: %s", name, live.version, problem)
            return problem
        with self._lock:
            self._agents[name] = ServedAgent(name, current.addresses, live)
        log.info("%s: now serving config v%s (%s)", name, live.version, live.config_hash[:10])
        return None

    def sync_configs(self) -> None:
        """Apply the config versions the chain gained since the last sync (a periodic job).

        An unreachable node is logged, not raised: the sync resumes from its cursor.
        """
        try:
            self.sync.poll_once()
        except Exception as exc:  # an RPC outage must not kill the scheduler
            log.warning("config sync: %s", exc)

    def heartbeat(self) -> bool:
        """Renew this replica's lease (a periodic job; blocking): while it lives, the
        others leave its tasks alone."""
        return self.replica.take(REPLICA_PREFIX + self.replica.holder, REPLICA_LEASE_SECONDS)

    def live_replicas(self) -> set[str]:
        """The holder ids of every replica whose lease is live (blocking)."""
        return self.replica.holders(REPLICA_PREFIX)

    async def reconcile_settlements(self) -> None:
        """Finish settlements that hires left pending, and the tasks of replicas that
        died (a periodic job); never raises."""
        from agents.runtime.recovery import ChainWatch, reconcile

        if self._chain_watch is None:
            self._chain_watch = ChainWatch()
        try:
            alive = await asyncio.to_thread(self.live_replicas)
            alive.add(self.replica.holder)
            for task in await reconcile(
                self.tasks, self.payments, watch=self._chain_watch, alive=alive
            ):
                log.info("task %s (%s/%s): %s", task.id, task.agent, task.skill, task.state)
        except Exception as exc:  # an RPC outage must not kill the scheduler
            log.warning("settlement reconcile: %s", exc)

    def task(self, task_id: str) -> Task | None:
        """A task by id."""
        return self.tasks.get(task_id)

    async def start(self) -> None:
        """Resolve tasks a crash left in flight and catch up with the chain's config
        versions. The app then starts the periodic jobs."""
        from agents.runtime.recovery import recover

        await asyncio.to_thread(self.heartbeat)
        alive = await asyncio.to_thread(self.live_replicas)
        for task in await recover(self.tasks, self.payments, alive):
            log.info("recovered task %s (%s/%s): %s", task.id, task.agent, task.skill, task.state)
        batch = self.payments.batch
        if batch is not None:  # claims a chain restarted from older state no longer holds
            for served in self.agents.values():
                try:
                    await asyncio.to_thread(batch.resync_claimed, served.addresses.treasury)
                except Exception as exc:  # the claim rounds re-read recent channels anyway
                    log.warning("%s: claimed totals not re-read: %s", served.name, exc)
        # Before serving: a version executed while the runtime was down is live at once.
        await asyncio.to_thread(self.sync_configs)

    def claim_vouchers(self) -> list[ClaimRound]:
        """Claim every charged voucher of every agent's prepaid channels and settle the
        money into the treasuries (a periodic job; blocking). An agent whose round failed
        is logged and tried again next time; what it claimed stays claimed."""
        batch = self.payments.batch
        if batch is None:
            return []
        rounds = []
        for served in self.agents.values():
            try:
                done = batch.claim_and_settle(served.addresses.treasury)
            except SettlementError as exc:
                log.warning("%s: voucher claims failed: %s", served.name, exc.message)
                continue
            if done.vouchers:
                log.info(
                    "%s: claimed %d vouchers (%s), settled %s",
                    served.name,
                    done.vouchers,
                    ", ".join(done.claim_txs),
                    done.settle_tx,
                )
            rounds.append(done)
        return rounds

    async def stop(self) -> None:
        """Release the facilitator and this replica's lease, so the others may resolve
        what it leaves at once (the app stopped the periodic jobs first)."""
        await self.payments.facilitator.aclose()
        await asyncio.to_thread(self.replica.release, REPLICA_PREFIX + self.replica.holder)

    def _reject(self, name: str, live: LiveConfig, reason: str) -> None:
        with self._lock:
            self._rejected.setdefault(name, []).append(
                RejectedConfig(name, live.version, live.config_hash, reason)
            )
