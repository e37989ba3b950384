"""Paid hires per second and latency, end to end, against a real runtime on anvil.

Run: ``.venv/bin/python -m benchmarks.hire [--seconds 5] [--levels 1,8,32] [--anchor REV]``

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
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from web3 import Web3

from benchmarks._runtime import anchor_checkout, paying_client, served_runtime
from contracts.chain import EmbeddedChain

AGENTDAO = str(Path(sys.executable).parent / "agentdao")
PAID_PATH = "/agents/scribe/skills/headline"
CURRENT = "now"
# The last commit before the one-event-loop work of issue 9: the anchor its figures answer to.
ANCHOR = "1a06a04"
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


async def _bench(urls: dict[str, str], levels: list[int], seconds: float, w3: Web3) -> None:
    """Drive each runtime in ``urls`` (label -> URL) at each level, alternating between them
    level by level so that the machine's drift touches both alike."""
    payers = {
        (label, i): paying_client(1 + i % 9, url)
        for label, url in urls.items()
        for i in range(max(levels))
    }
    plain = {
        label: httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=64))
        for label, url in urls.items()
    }
    gas: list[int] = []

    def paid(label: str) -> Callable[[int], Awaitable[httpx.Response]]:
        async def call(i: int) -> httpx.Response:
            body = {"input": f"benchmark task from client {i}"}
            return await payers[label, i].post(PAID_PATH, json=body)

        return call

    def unpaid(label: str) -> Callable[[int], Awaitable[httpx.Response]]:
        async def call(_: int) -> httpx.Response:
            return await plain[label].get(UNPAID_PATH)

        return call

    for label in urls:  # warm up: connections, model cache, facilitator nonce
        await _drive(1, 1.0, paid(label))
    print(
        f"{'code':>8} {'clients':>7} | {'paid hires/s':>12} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} | {'GET /agents/{name} /s':>21} {'p50 ms':>8} {'p99 ms':>8} | "
        f"{'unpaid/paid':>11} | event loop lag max / p99 ms (cumulative)"
    )
    for level in levels:
        for label in urls:
            hires, answers = await _drive(level, seconds, paid(label))
            reads, _ = await _drive(level, seconds, unpaid(label))
            if label == CURRENT:
                for answer in answers:
                    tx = answer.json()["receipt"]["settlement_tx"]
                    gas.append(int(w3.eth.get_transaction_receipt(tx)["gasUsed"]))
            print(
                f"{label:>8} {level:>7} | {hires.per_second:>12.1f} "
                f"{hires.percentile(0.5):>8.1f} {hires.percentile(0.99):>8.1f} "
                f"{hires.errors:>6} | {reads.per_second:>21.1f} "
                f"{reads.percentile(0.5):>8.1f} {reads.percentile(0.99):>8.1f} | "
                f"{reads.per_second / max(hires.per_second, 1e-9):>10.1f}x | "
                f"{await _lag(plain[label])}"
            )
    print(
        f"gas per settled hire of {CURRENT} (transferWithAuthorization, {len(gas)} receipts): "
        f"mean {statistics.mean(gas):,.0f}, min {min(gas):,}, max {max(gas):,}"
    )
    for client in (*payers.values(), *plain.values()):
        await client.aclose()


async def _lag(client: httpx.AsyncClient) -> str:
    """The runtime's own reading of its event loop's lag (``GET /health``): a blocking call
    in the hire path shows here; the aim is under 20 ms."""
    answer = await client.get("/health")
    health = answer.json() if answer.status_code == 200 else {}
    if "loop_lag_max_ms" not in health:
        return "not measured by this code"
    return f"{health['loop_lag_max_ms']:.1f} / {health['loop_lag_p99_ms']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per level and endpoint")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument(
        "--anchor",
        default=ANCHOR,
        help="git revision to run side by side with the current code ('none' to skip); "
        f"default {ANCHOR}, the hire path before the one-event-loop work",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print("$ " + shlex.join([Path(sys.executable).name, "-m", "benchmarks.hire", *sys.argv[1:]]))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; offline model; anvil automine")

    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        urls: dict[str, str] = {}
        if args.anchor != "none":
            tree = stack.enter_context(anchor_checkout(args.anchor))
            chain = stack.enter_context(EmbeddedChain(None, port=0))
            urls[args.anchor[:8]] = stack.enter_context(
                served_runtime(chain.rpc_url, Path(scratch) / "anchor", source=tree)
            )
        anvil = stack.enter_context(EmbeddedChain(None, port=0))
        urls[CURRENT] = stack.enter_context(served_runtime(anvil.rpc_url, Path(scratch) / "now"))
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
        asyncio.run(_bench(urls, levels, args.seconds, w3))


if __name__ == "__main__":
    main()
