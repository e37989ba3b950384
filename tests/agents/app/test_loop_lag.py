"""The loop-lag monitor sees a blocked loop and not an idle one."""

from __future__ import annotations

import asyncio
import time

from agents.app.loop_lag import LoopLagMonitor


def test_a_blocking_call_shows_as_lag_and_an_idle_loop_does_not() -> None:
    async def scenario() -> tuple[float, float]:
        monitor = LoopLagMonitor(interval=0.01)
        monitor.start()
        await asyncio.sleep(0.2)
        idle = monitor.figures()
        monitor.reset()
        await asyncio.sleep(0.02)
        time.sleep(0.15)  # noqa: ASYNC251 (the point: a blocking call, as a sync DB commit)
        await asyncio.sleep(0.05)
        blocked = monitor.figures()
        await monitor.stop()
        assert idle.samples > 5
        return idle.max_ms, blocked.max_ms

    idle_max, blocked_max = asyncio.run(scenario())
    assert blocked_max >= 100
    assert idle_max < blocked_max
