"""Paid hires per second and latency, end to end, against a real runtime on anvil.

Run: ``.venv/bin/python -m benchmarks.hire [--seconds 5] [--levels 1,8,32]``

Starts a private anvil, runs ``agentdao up`` against it as a subprocess (which
launches agents.yaml and serves it with uvicorn, the offline model and the
in-process facilitator), then for each concurrency level drives paid hires of
``scribe/headline`` (402 -> sign -> paid retry -> verify -> model -> settle) and,
for comparison, the unpaid ``GET /agents/scribe`` of the same app. Prints the
throughput and p50/p99 latency of each, their ratio, and the gas of each
settlement transaction. The load generator (including the customers' EIP-712
signing) runs in this process, on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from web3 import Web3

from benchmarks._runtime import paying_client, served_runtime
from contracts.chain import EmbeddedChain

AGENTDAO = str(Path(sys.executable).parent / "agentdao")
PAID_PATH = "/agents/scribe/skills/headline"
UNPAID_PATH = "/agents/scribe"


@dataclass
class Run:
    """One load level's figures."""

    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _drive(
    clients: int, seconds: float, call: Callable[[int], Awaitable[httpx.Response]]
) -> tuple[Run, list[httpx.Response]]:
    latencies: list[float] = []
    answers: list[httpx.Response] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await call(i)
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
                answers.append(response)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return Run(len(latencies), errors, elapsed, latencies), answers


async def _bench(url: str, levels: list[int], seconds: float, w3: Web3) -> None:
    payers = {i: paying_client(1 + i % 9, url) for i in range(max(levels))}
    plain = httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=64))
    gas: list[int] = []

    async def paid(i: int) -> httpx.Response:
        return await payers[i].post(PAID_PATH, json={"input": f"benchmark task from client {i}"})

    async def unpaid(_: int) -> httpx.Response:
        return await plain.get(UNPAID_PATH)

    await _drive(1, 1.0, paid)  # warm up: connections, model cache, facilitator nonce
    print(
        f"{'clients':>7} | {'paid hires/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} | "
        f"{'GET /agents/{name} /s':>21} {'p50 ms':>8} {'p99 ms':>8} | {'unpaid/paid':>11} | "
        "event loop lag max / p99 ms (cumulative)"
    )
    for level in levels:
        hires, answers = await _drive(level, seconds, paid)
        reads, _ = await _drive(level, seconds, unpaid)
        for answer in answers:
            tx = answer.json()["receipt"]["settlement_tx"]
            gas.append(int(w3.eth.get_transaction_receipt(tx)["gasUsed"]))
        print(
            f"{level:>7} | {hires.per_second:>12.1f} {hires.percentile(0.5):>8.1f} "
            f"{hires.percentile(0.99):>8.1f} {hires.errors:>6} | {reads.per_second:>21.1f} "
            f"{reads.percentile(0.5):>8.1f} {reads.percentile(0.99):>8.1f} | "
            f"{reads.per_second / hires.per_second:>10.1f}x | {await _lag(plain)}"
        )
    print(
        f"gas per settled hire (transferWithAuthorization, {len(gas)} receipts): "
        f"mean {statistics.mean(gas):,.0f}, min {min(gas):,}, max {max(gas):,}"
    )
    for client in (*payers.values(), plain):
        await client.aclose()


async def _lag(client: httpx.AsyncClient) -> str:
    """The runtime's own reading of its event loop's lag (``GET /health``): a blocking call
    in the hire path shows here; the aim is under 20 ms."""
    health = (await client.get("/health")).json()
    return f"{health['loop_lag_max_ms']:.1f} / {health['loop_lag_p99_ms']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per level and endpoint")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print("$ " + shlex.join([Path(sys.executable).name, "-m", "benchmarks.hire", *sys.argv[1:]]))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; offline model; anvil automine")

    with (
        tempfile.TemporaryDirectory() as scratch,
        EmbeddedChain(None, port=0) as anvil,
        served_runtime(anvil.rpc_url, Path(scratch)) as url,
    ):
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
        asyncio.run(_bench(url, levels, args.seconds, w3))


if __name__ == "__main__":
    main()
