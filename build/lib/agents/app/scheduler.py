"""The runtime's periodic jobs, on the app's own event loop (APScheduler's asyncio scheduler).

Jobs: the chain sync of every agent's AgentConfig events (new config versions go
live without a restart), the settlement reconcile (finish payments a hire left
pending), and the earnings tick (distribute each treasury's income when due, pull
the operator's share, buy back and burn). Jobs that make blocking RPC or database
calls run them in worker threads, so the loop that serves hires never waits on them.
"""

from __future__ import annotations

import asyncio

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from agents.runtime.runtime import Runtime
from treasury.jobs import EarningsJobs

__all__ = ["start_scheduler"]


def start_scheduler(runtime: Runtime) -> AsyncIOScheduler:
    """Start the runtime's periodic jobs on the running loop; stop them with
    ``shutdown(wait=False)`` (a running job finishes on its own)."""
    # coalesce + one instance: a slow chain makes a job skip beats, never pile up.
    scheduler = AsyncIOScheduler(
        event_loop=asyncio.get_running_loop(),
        job_defaults={"coalesce": True, "max_instances": 1},
    )

    async def sync_configs() -> None:
        await asyncio.to_thread(runtime.sync_configs)

    earnings = EarningsJobs(runtime.chain, runtime.tasks.engine, runtime.manifest)

    async def earnings_tick() -> None:
        await asyncio.to_thread(earnings.tick)

    scheduler.add_job(
        sync_configs,
        "interval",
        seconds=runtime.settings.config_sync_seconds,
        id="config-sync",
        name="apply new AgentConfig versions",
    )
    scheduler.add_job(
        runtime.reconcile_settlements,
        "interval",
        seconds=15,
        id="settlements",
        name="finish pending settlements",
    )
    scheduler.add_job(
        earnings_tick,
        "interval",
        seconds=earnings.settings.earnings_interval,
        id="earnings",
        name="distribute income, pull the operator share, buy back and burn",
    )
    scheduler.start()
    return scheduler
