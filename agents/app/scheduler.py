"""The runtime's periodic jobs, on the app's own event loop (APScheduler's asyncio scheduler).

Jobs: the chain sync of every agent's AgentConfig events (new config versions go
live without a restart), the settlement reconcile (finish payments a hire left
pending), the voucher claims (claim what prepaid channels owe and settle it into the
treasuries), and the earnings tick (distribute each treasury's income when due, pull
the operator's share, buy back and burn). Jobs that make blocking RPC or database
calls run them in worker threads, so the loop that serves hires never waits on them.

Every replica syncs configs (each serves its own live copy); each of the other jobs
runs in one replica at a time, the holder of its lease (:mod:`agents.runtime.leases`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from agents.runtime.leases import Leases
from agents.runtime.runtime import REPLICA_LEASE_SECONDS, Runtime
from treasury.jobs import EarningsJobs

__all__ = ["Jobs", "start_scheduler"]

log = logging.getLogger(__name__)

LEASE_BEATS = 3
"""A job's lease lasts this many of its intervals: a replica that died hands its jobs
over within that time; one that is alive renews at every beat."""


@dataclass
class Jobs:
    """The running scheduler and the leases its jobs hold."""

    scheduler: AsyncIOScheduler
    leases: Leases
    held: set[str] = field(default_factory=set)

    async def stop(self) -> None:
        """Stop scheduling (a running job finishes on its own) and hand every lease
        this replica holds to the others at once."""
        self.scheduler.shutdown(wait=False)
        for job in list(self.held):
            await asyncio.to_thread(self.leases.release, job)
        self.held.clear()

    def leased(
        self, job: str, seconds: float, run: Callable[[], Awaitable[object]]
    ) -> Callable[[], Awaitable[None]]:
        """``run``, only while this replica holds ``job``'s lease (taken or renewed first).

        A run may last longer than the lease (a claim round waiting on a slow chain): the
        lease is renewed at every beat while it runs, so it passes to another replica only
        when this one stops renewing (it died), never while it is still at work.
        """
        lease = seconds * LEASE_BEATS

        async def keep() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    renewed = await asyncio.to_thread(self.leases.take, job, lease)
                except Exception as exc:  # the database is down: try again next beat
                    log.warning("%s: lease not renewed: %s", job, exc)
                    continue
                if not renewed:
                    log.warning("%s: lease lost to another replica during a run", job)
                    self.held.discard(job)
                    return

        async def beat() -> None:
            if not await asyncio.to_thread(self.leases.take, job, lease):
                self.held.discard(job)
                return
            self.held.add(job)
            keeper = asyncio.create_task(keep())
            try:
                await run()
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper

        return beat


def start_scheduler(runtime: Runtime) -> Jobs:
    """Start the runtime's periodic jobs on the running loop; stop them with
    :meth:`Jobs.stop`."""
    # coalesce + one instance: a slow chain makes a job skip beats, never pile up.
    scheduler = AsyncIOScheduler(
        event_loop=asyncio.get_running_loop(),
        job_defaults={"coalesce": True, "max_instances": 1},
    )

    jobs = Jobs(scheduler, runtime.replica)

    async def sync_configs() -> None:
        await asyncio.to_thread(runtime.sync_configs)

    earnings = EarningsJobs(runtime.chain, runtime.tasks.engine, runtime.manifest)

    async def earnings_tick() -> None:
        await asyncio.to_thread(earnings.tick)

    async def claim_vouchers() -> None:
        await asyncio.to_thread(runtime.claim_vouchers)

    settings = runtime.settings

    scheduler.add_job(
        sync_configs,
        "interval",
        seconds=runtime.settings.config_sync_seconds,
        id="config-sync",
        name="apply new AgentConfig versions",
    )

    async def heartbeat() -> None:
        await asyncio.to_thread(runtime.heartbeat)

    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=REPLICA_LEASE_SECONDS / 3,
        id="heartbeat",
        name="renew this replica's lease (the others leave its tasks alone)",
    )
    scheduler.add_job(
        jobs.leased("settlements", 15, runtime.reconcile_settlements),
        "interval",
        seconds=15,
        id="settlements",
        name="finish pending settlements",
    )
    if runtime.payments.batch is not None:
        scheduler.add_job(
            jobs.leased("voucher-claims", settings.claim_seconds, claim_vouchers),
            "interval",
            seconds=settings.claim_seconds,
            id="voucher-claims",
            name="claim prepaid channels' vouchers and settle them into the treasuries",
        )
    interval = earnings.settings.earnings_interval
    scheduler.add_job(
        jobs.leased("earnings", interval, earnings_tick),
        "interval",
        seconds=interval,
        id="earnings",
        name="distribute income, pull the operator share, buy back and burn",
    )
    scheduler.start()
    return jobs
