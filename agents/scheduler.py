"""The runtime's periodic jobs (APScheduler, in a background thread).

For now one job: re-read every agent's live config from chain and apply what
changed. The chain sync of the dao package replaces it with an event-driven one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler

if TYPE_CHECKING:
    from agents.runtime import Runtime

__all__ = ["start_scheduler"]


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """Start the runtime's periodic jobs; stop them with ``shutdown(wait=True)``."""
    # coalesce + one instance: a slow chain makes the job skip beats, never pile up.
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        runtime.refresh_configs,
        "interval",
        seconds=runtime.settings.config_refresh_seconds,
        id="config-refresh",
        name="re-read live configs from chain",
    )
    scheduler.start()
    return scheduler
