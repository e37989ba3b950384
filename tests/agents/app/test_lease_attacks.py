"""Leased jobs under a bad day: a run slower than its lease."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from agents.app.database import open_database
from agents.app.scheduler import LEASE_BEATS, Jobs
from agents.core.settings import Settings
from agents.runtime.leases import Leases

pytestmark = pytest.mark.anyio


async def test_a_job_slower_than_its_lease_still_runs_on_one_replica_at_a_time(
    tmp_path: Path,
) -> None:
    """A claim round over many agents on a slow chain (each claim and settle may wait the
    30 s confirmation timeout) outlasts its lease of three beats. The replica running it
    is alive and still working, yet the lease expires and another replica starts the same
    job beside it: two replicas send the same claims (and the operator's nonces race)."""
    engine = open_database(Settings(home=tmp_path))
    beat = 0.1
    running: set[str] = set()
    overlaps: list[set[str]] = []

    def replica(name: str) -> Callable[[], Awaitable[None]]:
        async def slow_round() -> None:
            running.add(name)
            if len(running) > 1:
                overlaps.append(set(running))
            await asyncio.sleep(beat * LEASE_BEATS * 3)  # three leases long
            running.discard(name)

        jobs = Jobs(AsyncIOScheduler(), Leases(engine, name))
        return jobs.leased("voucher-claims", beat, slow_round)

    first, second = replica("first"), replica("second")
    one = asyncio.ensure_future(first())
    await asyncio.sleep(beat / 2)
    for _ in range(LEASE_BEATS * 3):  # the other replica's beats meanwhile
        await second()
        if overlaps:
            break
        await asyncio.sleep(beat)
    await one
    assert overlaps == []
