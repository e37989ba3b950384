"""The settlement benchmark's customers, in processes of their own.

Each load process runs an asyncio loop of x402's stock clients (``x402Client`` with
``BatchSettlementEvmScheme`` or ``ExactEvmClientScheme``, no code of this project),
signing with coincurve under eth-keys. The benchmark drives them level by level over a
pipe: a process keeps its clients (and so their channels) between commands, and reports
what it measured and the CPU it used, so the figures show whether the load generator,
rather than the server, was the limit.

Client ``i`` of a target pays from dev account ``1 + i % 8`` (dev:0 is the runtime's
operator, dev:9 the stock facilitator); a batch client has its own channel (a random
salt), so 32 clients hold 32 channels.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

import httpx

__all__ = ["Calls", "LoadProcesses", "Target"]

Scheme = Literal["batch-settlement", "exact", "none"]

PAYERS = 8
"""Dev accounts 1..8 pay; clients take them in turn."""


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint the customers call."""

    label: str
    url: str
    path: str
    scheme: Scheme
    """How the customers pay; ``none``: an unpaid GET."""
    deposit_calls: int = 5_000
    """A batch client's deposit, in prices (it deposits again when the channel runs dry)."""


@dataclass(slots=True)
class Calls:
    """What a set of customers measured."""

    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds per successful call (the 402, the signing and the paid retry)."""
    cpu_seconds: float = 0.0
    """CPU the load processes used meanwhile (user + system)."""
    charged: int = 0
    """Units the answers' receipts say were charged (the runtime's receipts only)."""
    error_samples: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def load_cpus(self) -> float:
        """CPUs the load generator kept busy on average."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """The ``q`` quantile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def merge(self, other: Calls) -> None:
        self.ok += other.ok
        self.errors += other.errors
        self.seconds = max(self.seconds, other.seconds)
        self.latencies += other.latencies
        self.cpu_seconds += other.cpu_seconds
        self.charged += other.charged
        self.error_samples += other.error_samples[: max(0, 5 - len(self.error_samples))]


class LoadProcesses:
    """``count`` load processes; client ``i`` of every target lives in process
    ``i % count``."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes = []
        for index in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, index, count), daemon=True)
            process.start()
            self._pipes.append(ours)
            self._processes.append(process)
        self.backend = self._ask_all(("backend",))[0]

    @property
    def count(self) -> int:
        return len(self._pipes)

    def _ask_all(self, command: tuple[Any, ...]) -> list[Any]:
        for pipe in self._pipes:
            pipe.send(command)
        return [_answer(pipe) for pipe in self._pipes]

    def drive(self, target: Target, clients: int, seconds: float) -> Calls:
        """``clients`` customers call ``target`` back to back for ``seconds``."""
        total = Calls()
        for part in self._ask_all(("drive", target, clients, seconds)):
            total.merge(part)
        return total

    def each_once(self, target: Target, clients: int) -> Calls:
        """Each of the first ``clients`` customers calls once, one after the other (a batch
        client's first call opens its channel: a deposit, outside the timed levels)."""
        total = Calls()
        for client in range(clients):
            pipe = self._pipes[client % self.count]
            pipe.send(("calls", target, [client], 1))
            total.merge(_answer(pipe))
        return total

    def calls(self, target: Target, clients: int, per_client: int) -> Calls:
        """``clients`` customers make exactly ``per_client`` calls each, concurrently."""
        total = Calls()
        for pipe, part in zip(self._pipes, range(self.count), strict=True):
            pipe.send(("calls", target, list(range(part, clients, self.count)), per_client))
        for pipe in self._pipes:
            total.merge(_answer(pipe))
        return total

    def totals(self) -> dict[str, Calls]:
        """Every target's successful calls and charges since the start, warm-ups included."""
        merged: dict[str, Calls] = {}
        for part in self._ask_all(("totals",)):
            for label, calls in part.items():
                merged.setdefault(label, Calls()).merge(calls)
        return merged

    def close(self) -> None:
        for pipe in self._pipes:
            pipe.send(("stop",))
        for process in self._processes:
            process.join(10)

    def __enter__(self) -> LoadProcesses:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _answer(pipe: Connection) -> Any:
    answer = pipe.recv()
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _serve(pipe: Connection, index: int, count: int) -> None:
    """A load process: take commands until ``stop``."""
    loop = asyncio.new_event_loop()
    customers = _Customers()
    while True:
        command = pipe.recv()
        try:
            if command[0] == "stop":
                loop.run_until_complete(customers.aclose())
                return
            if command[0] == "backend":
                from eth_keys.backends import get_backend

                pipe.send(type(get_backend()).__name__)
            elif command[0] == "drive":
                _, target, clients, seconds = command
                mine = list(range(index, clients, count))
                pipe.send(loop.run_until_complete(customers.drive(target, mine, seconds)))
            elif command[0] == "calls":
                _, target, mine, per_client = command
                pipe.send(loop.run_until_complete(customers.calls(target, mine, per_client)))
            elif command[0] == "totals":
                pipe.send(customers.totals)
        except Exception as exc:  # the benchmark reports it; this process goes on
            pipe.send(RuntimeError(f"load process {index}: {type(exc).__name__}: {exc}"))


class _Customers:
    """One load process's clients, by target and index."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, int], httpx.AsyncClient] = {}
        self.totals: dict[str, Calls] = {}

    def _client(self, target: Target, index: int) -> httpx.AsyncClient:
        key = (target.label, index)
        found = self._clients.get(key)
        if found is None:
            found = self._clients[key] = _stock_client(target, index)
        return found

    def _call(self, target: Target) -> Callable[[int], Awaitable[httpx.Response]]:
        if target.scheme == "none":
            return lambda i: self._client(target, i).get(target.path)
        return lambda i: self._client(target, i).post(
            target.path, json={"input": f"benchmark call from client {i}: the news of the day"}
        )

    async def drive(self, target: Target, mine: list[int], seconds: float) -> Calls:
        deadline = time.perf_counter() + seconds
        return await self._measure(target, mine, lambda _: time.perf_counter() < deadline)

    async def calls(self, target: Target, mine: list[int], per_client: int) -> Calls:
        return await self._measure(target, mine, lambda made: made < per_client)

    async def _measure(
        self, target: Target, mine: list[int], go_on: Callable[[int], bool]
    ) -> Calls:
        call = self._call(target)
        result = Calls()

        async def customer(i: int) -> None:
            made = 0
            while go_on(made):
                made += 1
                started = time.perf_counter()
                try:
                    response = await call(i)
                except Exception as exc:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                if response.status_code != 200:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(
                            f"{response.status_code}: {response.text[:300]}"
                        )
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.ok += 1
                if target.scheme != "none":
                    receipt = response.json().get("receipt")
                    if isinstance(receipt, dict):
                        result.charged += int(receipt.get("amount", 0))

        cpu = os.times()
        started = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in mine))
        result.seconds = time.perf_counter() - started
        used = os.times()
        result.cpu_seconds = (used.user - cpu.user) + (used.system - cpu.system)
        total = self.totals.setdefault(target.label, Calls())
        total.ok += result.ok
        total.charged += result.charged
        return result

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def _stock_client(target: Target, index: int) -> httpx.AsyncClient:
    """x402's own client for ``target``'s scheme, paying from dev account 1 + index % 8."""
    from x402 import x402Client
    from x402.http.clients.httpx import x402AsyncTransport
    from x402.mechanisms.evm import EthAccountSigner
    from x402.mechanisms.evm.batch_settlement.client.config import (
        BatchSettlementEvmSchemeOptions,
    )
    from x402.mechanisms.evm.batch_settlement.client.scheme import BatchSettlementEvmScheme
    from x402.mechanisms.evm.exact import ExactEvmClientScheme

    from contracts.accounts import dev_account

    limits = httpx.Limits(max_connections=4)
    if target.scheme == "none":
        return httpx.AsyncClient(base_url=target.url, timeout=120, limits=limits)
    signer = EthAccountSigner(_payer(1 + index % PAYERS, dev_account))
    client = x402Client()
    if target.scheme == "exact":
        client.register("eip155:*", ExactEvmClientScheme(signer))
    else:
        deposit_calls = target.deposit_calls

        def deposit(context: Any) -> str:
            return str(deposit_calls * int(context.payment_requirements.amount))

        options = BatchSettlementEvmSchemeOptions(
            deposit_strategy=deposit, salt="0x" + secrets.token_hex(32)
        )
        client.register("eip155:*", BatchSettlementEvmScheme(signer, options))
    client.set_spend_controls(False)  # MockUSDC is no asset the SDK knows
    transport = x402AsyncTransport(client, transport=httpx.AsyncHTTPTransport(limits=limits))
    return httpx.AsyncClient(transport=transport, base_url=target.url, timeout=120)


_ACCOUNTS: dict[int, Any] = {}


def _payer(index: int, derive: Callable[[int], Any]) -> Any:
    """Dev accounts derive from the mnemonic slowly; each once per process."""
    if index not in _ACCOUNTS:
        _ACCOUNTS[index] = derive(index)
    return _ACCOUNTS[index]
