"""The runtime's periodic jobs (APScheduler, in a background thread).

Jobs: the chain sync of every agent's AgentConfig events (new config versions
go live without a restart), and the earnings tick (distribute each treasury's
income when due, then buy back and burn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler

from treasury.jobs import EarningsJobs

if TYPE_CHECKING:
    from agents.runtime import Runtime

__all__ = ["start_scheduler"]


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """Start the runtime's periodic jobs; stop them with ``shutdown(wait=True)``."""
    # coalesce + one instance: a slow chain makes the job skip beats, never pile up.
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        runtime.sync_configs,
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
    earnings = EarningsJobs(runtime.chain, runtime.tasks.engine, runtime.manifest)
    scheduler.add_job(
        earnings.tick,
        "interval",
        seconds=earnings.settings.earnings_interval,
        id="earnings",
        name="distribute income, buy back and burn",
    )
    scheduler.start()
    return scheduler
