"""How late the event loop runs: the one number that says whether something blocks it.

:class:`LoopLagMonitor` wakes every ``interval`` seconds and records how much later
than asked it woke. A blocking call on the loop (a synchronous database commit, an
RPC round trip, a CPU-bound parse) shows up as lag for every request in flight; the
hire path must keep it in the milliseconds. The app runs one monitor and serves its
figures at ``GET /health``; the hire benchmark prints them under load.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from dataclasses import dataclass

__all__ = ["LagFigures", "LoopLagMonitor"]


@dataclass(frozen=True, slots=True)
class LagFigures:
    """Lag over the last samples, in milliseconds."""

    samples: int
    max_ms: float
    p99_ms: float
    mean_ms: float


class LoopLagMonitor:
    """Samples the running loop's lag until stopped.

    Args:
        interval: Seconds between wake-ups (the resolution of the figures).
        window: Samples kept (the newest; older ones are forgotten).
    """

    def __init__(self, interval: float = 0.02, window: int = 6000) -> None:
        self.interval = interval
        self._lags: deque[float] = deque(maxlen=window)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        """Stop sampling (the figures stay readable)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def reset(self) -> None:
        """Forget the samples so far (e.g. before a load starts)."""
        self._lags.clear()

    def figures(self) -> LagFigures:
        """Max, 99th percentile and mean lag of the samples kept."""
        lags = sorted(self._lags)
        if not lags:
            return LagFigures(0, 0.0, 0.0, 0.0)
        p99 = lags[min(len(lags) - 1, math.ceil(0.99 * len(lags)) - 1)]
        return LagFigures(
            samples=len(lags),
            max_ms=round(lags[-1] * 1000, 2),
            p99_ms=round(p99 * 1000, 2),
            mean_ms=round(sum(lags) / len(lags) * 1000, 2),
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self._lags.append(max(0.0, loop.time() - asked))
