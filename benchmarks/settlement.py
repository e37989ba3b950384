"""x402 settlement, end to end on anvil: paid calls per second, latency and gas of this
runtime's ``batch-settlement`` and ``exact`` beside the stock x402 FastAPI middleware.

Run: ``.venv/bin/python -m benchmarks.settlement [--seconds 5] [--levels 1,8,32]
[--load-processes 2] [--claim-seconds 60] [--no-postgres] [--keep]`` (about 6 minutes)

In one run, on one machine:

1. **Throughput.** A private anvil; ``agentdao up`` on it (SQLite, one process) and the
   stock x402 server (:mod:`benchmarks._stock`: x402's ``payment_middleware`` and
   in-process facilitator, an offline handler, uvicorn, one process) selling the same
   price in the launched MockUSDC. At each level of concurrent clients, level by level
   in turn: this runtime by voucher and by ``exact``, the stock server by each scheme,
   and the runtime's unpaid ``GET /agents/scribe`` (the ceiling). The customers are x402's
   stock clients in separate load processes (:mod:`benchmarks._load`); a batch client's
   channel is opened (deposited) before the timed levels and holds 5,000 calls.
2. **Gas** (run first, printed second). 32 fresh channels, each deposited with exactly
   100 prices, make 100 calls each before the runtime's claim job first runs
   (``AGENTDAO_CLAIM_SECONDS``); it claims and settles them. Every transaction in that
   block range is read back from its receipt. Checked, here and after each part: the
   treasury received exactly what the answers' receipts charged.
3. **Replicas.** The same batch load against ``agentdao up --workers 1`` and
   ``--workers 2``, each on a throwaway PostgreSQL database of the machine's server
   and a private anvil, level by level in turn.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import psycopg
from eth_utils.abi import function_abi_to_4byte_selector
from web3 import Web3
from x402.http import decode_payment_required_header
from x402.schemas import PaymentRequired

from benchmarks._load import Calls, LoadProcesses, Target
from benchmarks._runtime import Served, served_process
from benchmarks._stock import BATCH_PATH, EXACT_PATH, served_stock
from contracts import artifacts
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain
from contracts.escrow import ESCROW_ADDRESS
from contracts.manifest import Manifest

HEADLINE = "/agents/scribe/skills/headline"
UNPAID = "/agents/scribe"
STOCK_PAY_TO = "0x000000000000000000000000000000000000dEaD"
"""Where the stock server's money goes: a fixed address, nobody's treasury."""
STOCK_FACILITATOR = 9
"""The stock facilitator's dev account (gas and claim authorizations): its own nonces."""
CLAIMS = ("claim", "claimWithSignature")
GAS_CHANNELS = 32
GAS_CALLS_PER_CHANNEL = 100
POSTGRES_ADMIN = os.environ.get(
    "AGENTDAO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
QUIET = {"AGENTDAO_EARNINGS_INTERVAL": "3600"}
"""No distribution moves the treasury's money while the benchmark counts it."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per level and endpoint")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument(
        "--load-processes", type=int, default=2, help="processes the customers run in"
    )
    parser.add_argument(
        "--claim-seconds",
        type=float,
        default=60.0,
        help="the runtimes' AGENTDAO_CLAIM_SECONDS: how often they claim and settle; the "
        "gas part's 3,200 calls must fit before the first claim",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the replicas part")
    parser.add_argument(
        "--keep", action="store_true", help="keep the servers' logs (the folder is printed)"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    env = QUIET | {"AGENTDAO_CLAIM_SECONDS": str(args.claim_seconds)}
    goals = Goals()
    # A SIGTERM unwinds like Ctrl-C: the servers, chains and databases started go with it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    command = [Path(sys.executable).name, "-m", "benchmarks.settlement", *sys.argv[1:]]
    print("$ " + shlex.join(command))
    with ExitStack() as stack:
        if args.keep:
            scratch = Path(tempfile.mkdtemp(prefix="agentdao-bench-"))
            print(f"logs in {scratch}")
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="agentdao-bench-"))
            scratch = Path(folder)
        load = stack.enter_context(LoadProcesses(args.load_processes))
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, anvil automine, offline "
            f"model; customers: x402 {_x402_version()} stock clients in {load.count} load "
            f"process(es), eth-keys backend {load.backend}; {args.seconds:g} s per level and "
            f"endpoint; the runtimes claim every {args.claim_seconds:g} s"
        )
        print(
            "a paid call is the 402, the client's signing and the paid retry; CPU columns: "
            "cores busy on average (server process tree, PostgreSQL, anvil, load processes)"
        )
        with ExitStack() as phase:
            anvil = phase.enter_context(EmbeddedChain(None, port=0))
            runtime = phase.enter_context(
                served_process(anvil.rpc_url, scratch / "sqlite", env=env)
            )
            chain = Chain(anvil, _manifest(scratch / "sqlite"))
            # First, while the claim job has not run yet: its first run claims exactly
            # the gas part's 100 calls per channel.
            gas_report = _gas(load, chain, runtime.url, args, goals)
            stock_url, stock_pid = phase.enter_context(
                served_stock(
                    anvil.rpc_url,
                    chain.token,
                    STOCK_PAY_TO,
                    Web3.to_hex(dev_account(STOCK_FACILITATOR).key),
                    scratch / "stock.log",
                )
            )
            _throughput(load, chain, runtime, (stock_url, stock_pid), levels, args, goals)
            print(*gas_report, sep="\n")
        if not args.no_postgres:
            _replicas(load, scratch, levels, args, env, goals)
    goals.print()


@dataclass
class Chain:
    """The anvil a phase runs on and what launch put there."""

    anvil: EmbeddedChain
    manifest: Manifest
    w3: Web3 = field(init=False)

    def __post_init__(self) -> None:
        self.w3 = Web3(Web3.HTTPProvider(self.anvil.rpc_url))

    @property
    def token(self) -> str:
        assert self.manifest.payment_token is not None
        return self.manifest.payment_token

    @property
    def treasury(self) -> str:
        return self.manifest.agent("scribe").treasury

    def balance(self, address: str) -> int:
        token = self.w3.eth.contract(
            Web3.to_checksum_address(self.token),
            abi=artifacts.load("MockUSDC").abi,
        )
        return int(token.functions.balanceOf(Web3.to_checksum_address(address)).call())

    def block(self) -> int:
        return int(self.w3.eth.block_number)


@dataclass
class Row:
    """One measured level of one endpoint, with the CPU each party used meanwhile."""

    label: str
    clients: int
    calls: Calls
    server_cpus: float
    anvil_cpus: float
    database_cpus: float | None


def _measure(
    load: LoadProcesses,
    target: Target,
    clients: int,
    seconds: float,
    server: int,
    anvil: int,
    database: int | None = None,
) -> Row:
    pids = (server, anvil, database)
    before = [_tree_cpu(pid) for pid in pids]
    calls = load.drive(target, clients, seconds)
    used = [(_tree_cpu(pid) - b) / calls.seconds for pid, b in zip(pids, before, strict=True)]
    return Row(target.label, clients, calls, used[0], used[1], used[2] if database else None)


HEADER = (
    f"{'endpoint':<26} {'clients':>7} | {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
    f"{'errors':>6} | {'server':>6} {'db':>5} {'anvil':>6} {'load':>6} CPU"
)


def _print_row(row: Row) -> None:
    c = row.calls
    database = "-" if row.database_cpus is None else f"{row.database_cpus:.2f}"
    print(
        f"{row.label:<26} {row.clients:>7} | {c.per_second:>8.1f} {c.percentile(0.5):>7.1f} "
        f"{c.percentile(0.99):>7.1f} {c.errors:>6} | {row.server_cpus:>6.2f} {database:>5} "
        f"{row.anvil_cpus:>6.2f} {c.load_cpus:>6.2f}",
        flush=True,
    )
    for sample in c.error_samples[:3]:
        print(f"    error: {sample}")


def _throughput(
    load: LoadProcesses,
    chain: Chain,
    runtime: Served,
    stock: tuple[str, int],
    levels: list[int],
    args: argparse.Namespace,
    goals: Goals,
) -> None:
    url, (stock_url, stock_pid) = runtime.url, stock
    price = _price(url)
    batch = Target("agentdao batch-settlement", url, HEADLINE, "batch-settlement")
    exact = Target("agentdao exact", url, HEADLINE, "exact")
    stock_batch = Target("stock batch-settlement", stock_url, BATCH_PATH, "batch-settlement")
    stock_exact = Target("stock exact", stock_url, EXACT_PATH, "exact")
    unpaid = Target("agentdao GET /agents/scribe", url, UNPAID, "none")
    servers = {
        batch: runtime.pid,
        exact: runtime.pid,
        stock_batch: stock_pid,
        stock_exact: stock_pid,
        unpaid: runtime.pid,
    }
    anvil = _anvil_pid(chain.anvil)

    treasury_before = chain.balance(chain.treasury)
    first_block = chain.block() + 1
    # Open every client's channel (a deposit each) and warm every connection up.
    for target in servers:
        _warm(load, target, max(levels))

    print("\n1. Paid calls (agentdao up: SQLite, one process; the stock server: one process)")
    print(HEADER)
    rows: dict[tuple[str, int], Row] = {}
    for level in levels:
        for target in servers:
            row = _measure(load, target, level, args.seconds, servers[target], anvil)
            rows[target.label, level] = row
            _print_row(row)
        print()
    for mine, theirs in ((batch, stock_batch), (exact, stock_exact), (batch, exact)):
        ratios = ", ".join(
            f"{level}: {_ratio(rows, mine.label, theirs.label, level)}" for level in levels
        )
        print(f"{mine.label} / {theirs.label}, by clients: {ratios}")
    goals.batch = {level: rows[batch.label, level].calls for level in levels}
    goals.stock_batch = {level: rows[stock_batch.label, level].calls for level in levels}
    goals.exact = {level: rows[exact.label, level].calls for level in levels}

    # Everything the runtime answered here is owed to the treasury: exact at once, the
    # vouchers once the claim job has run.
    totals = load.totals()
    vouchers, transfers = totals[batch.label], totals[exact.label]
    owed = vouchers.charged + transfers.charged
    waited = _await_balance(chain, treasury_before + owed, args.claim_seconds * 2 + 30)
    last_block = chain.block()
    got = chain.balance(chain.treasury) - treasury_before
    calls = vouchers.ok + transfers.ok
    verdict = "exactly calls x price" if got == owed == calls * price else "MISMATCH"
    print(
        f"check: the runtime answered {vouchers.ok:,} voucher and {transfers.ok:,} exact "
        f"calls here (warm-ups included) at {price:,} units; their receipts charged "
        f"{owed:,}; the treasury received {got:,}: {verdict} (the last claim came "
        f"{waited:.0f} s after the load)"
    )
    ledger = Ledger.read(chain.w3, first_block, last_block).of(dev_account(0).address)
    escrow = ledger.only("deposit", *CLAIMS, "settle")
    n = max(vouchers.ok, 1)
    print(
        f"the run's voucher transactions (blocks {first_block}-{last_block}): "
        f"{escrow.count('deposit')} deposits, {escrow.count(*CLAIMS)} claims of "
        f"{escrow.vouchers} vouchers ({vouchers.ok / max(escrow.vouchers, 1):,.0f} calls per "
        f"channel between claims), {escrow.count('settle')} settles, {escrow.failed} failed; "
        f"operator gas per call {escrow.gas(*CLAIMS, 'settle') / n:,.0f} (claims and settles), "
        f"{escrow.gas() / n:,.0f} with the deposits (5,000 calls each, mostly unspent)"
    )
    exact_gas = ledger.gas_each("transferWithAuthorization")
    if exact_gas:
        goals.exact_gas = sum(exact_gas) / len(exact_gas)
        print(
            f"exact: {len(exact_gas):,} transferWithAuthorization by the operator, gas per "
            f"call {goals.exact_gas:,.0f} (min {min(exact_gas):,}, max {max(exact_gas):,}); "
            f"failed: {ledger.only('transferWithAuthorization').failed}"
        )


def _warm(load: LoadProcesses, target: Target, clients: int) -> None:
    warm = load.each_once(target, clients)
    if warm.errors:
        sys.exit(f"warm-up of {target.label} failed: {warm.error_samples}")


def _gas(
    load: LoadProcesses, chain: Chain, url: str, args: argparse.Namespace, goals: Goals
) -> list[str]:
    """Fresh channels of exactly 100 calls each, claimed once by the runtime's job; the
    report, to print after the throughput part."""
    target = Target(
        "agentdao batch (gas)",
        url,
        HEADLINE,
        "batch-settlement",
        deposit_calls=GAS_CALLS_PER_CHANNEL,
    )
    before = chain.balance(chain.treasury)
    first_block = chain.block() + 1
    started = time.monotonic()
    calls = load.calls(target, GAS_CHANNELS, GAS_CALLS_PER_CHANNEL)
    took = time.monotonic() - started
    waited = _await_balance(chain, before + calls.charged, args.claim_seconds * 2 + 30)
    last_block = chain.block()
    got = chain.balance(chain.treasury) - before
    ledger = Ledger.read(chain.w3, first_block, last_block).of(dev_account(0).address)
    n = max(calls.ok, 1)
    operator_gas = ledger.gas(*CLAIMS, "settle")
    deposit_gas = ledger.gas("deposit")
    operator_txs = ledger.count(*CLAIMS, "settle")
    all_txs = operator_txs + ledger.count("deposit")
    price = calls.charged // n
    verdict = "exactly calls x price" if got == calls.charged == calls.ok * price else "MISMATCH"
    goals.calls_per_claim = calls.ok / max(ledger.vouchers, 1)
    goals.operator_gas = operator_gas / n
    goals.deposit_gas = (operator_gas + deposit_gas) / n
    goals.txs_per_1000 = (operator_txs * 1000 / n, all_txs * 1000 / n)
    report = [
        f"\n2. Gas: {GAS_CHANNELS} new channels x {GAS_CALLS_PER_CHANNEL} calls, each "
        f"deposited with {GAS_CALLS_PER_CHANNEL} prices, then claimed by the runtime's claim "
        f"job (run first, blocks {first_block}-{last_block}: the calls took {took:.1f} s, "
        f"{calls.errors} errors; the claim came {waited:.0f} s after them)"
    ]
    for name, txs in ledger.by_function().items():
        gases = [t.gas for t in txs]
        vouchers = f", {sum(t.vouchers for t in txs)} vouchers" if name in CLAIMS else ""
        report.append(
            f"  {name:<20} {len(txs):>4} tx, gas {sum(gases):>10,} "
            f"(each {min(gases):,}..{max(gases):,}){vouchers}"
        )
    report += [
        f"  {calls.ok:,} calls, receipts charged {calls.charged:,}, the treasury received "
        f"{got:,}: {verdict}; {goals.calls_per_claim:,.0f} calls per channel between claims; "
        f"failed transactions: {ledger.failed}",
        f"  operator gas per call (claims + settles): {goals.operator_gas:,.0f}; with the "
        f"customers' deposits: {goals.deposit_gas:,.0f}",
        f"  transactions per 1,000 calls: {goals.txs_per_1000[0]:.1f} claims and settles, "
        f"{goals.txs_per_1000[1]:.1f} with the deposits (the operator sends them all: the "
        "customers only sign)",
    ]
    return report


def _replicas(
    load: LoadProcesses,
    scratch: Path,
    levels: list[int],
    args: argparse.Namespace,
    env: dict[str, str],
    goals: Goals,
) -> None:
    print("\n3. Batch-settlement on PostgreSQL: agentdao up --workers 1 beside --workers 2")
    print("   (each on its own throwaway database and anvil, measured level by level in turn)")
    with ExitStack() as stack:
        served: dict[int, tuple[Target, int, Chain, int]] = {}
        for workers in (1, 2):
            database = stack.enter_context(_throwaway_database())
            anvil = stack.enter_context(EmbeddedChain(None, port=0))
            home = scratch / f"postgres-{workers}"
            runtime = stack.enter_context(
                served_process(
                    anvil.rpc_url,
                    home,
                    env=env | {"AGENTDAO_DATABASE_URL": database},
                    options=["--workers", str(workers)],
                )
            )
            chain = Chain(anvil, _manifest(home))
            label = f"--workers {workers} batch"
            target = Target(label, runtime.url, HEADLINE, "batch-settlement")
            served[workers] = (target, runtime.pid, chain, chain.balance(chain.treasury))
        for target, _, _, _ in served.values():
            _warm(load, target, max(levels))
        postgres = _postgres_pid()
        print(HEADER)
        rows: dict[tuple[str, int], Row] = {}
        for level in levels:
            for target, pid, chain, _ in served.values():
                row = _measure(
                    load, target, level, args.seconds, pid, _anvil_pid(chain.anvil), postgres
                )
                rows[target.label, level] = row
                _print_row(row)
        one, two = served[1][0].label, served[2][0].label
        ratios = ", ".join(f"{level}: {_ratio(rows, two, one, level)}" for level in levels)
        print(f"--workers 2 / --workers 1, by clients: {ratios}")
        goals.workers = {
            level: (rows[one, level].calls, rows[two, level].calls) for level in levels
        }
        totals = load.totals()
        for target, _, chain, before in served.values():
            owed = totals[target.label].charged
            waited = _await_balance(chain, before + owed, args.claim_seconds * 2 + 30)
            got = chain.balance(chain.treasury) - before
            print(
                f"check {target.label}: {totals[target.label].ok:,} calls, receipts charged "
                f"{owed:,}, the treasury received {got:,}: "
                f"{'exactly' if got == owed else 'MISMATCH'} (claimed {waited:.0f} s after)"
            )


@dataclass
class Goals:
    """The issue's goals, beside what this run measured."""

    batch: dict[int, Calls] = field(default_factory=dict)
    stock_batch: dict[int, Calls] = field(default_factory=dict)
    exact: dict[int, Calls] = field(default_factory=dict)
    exact_gas: float = float("nan")
    calls_per_claim: float = float("nan")
    operator_gas: float = float("nan")
    deposit_gas: float = float("nan")
    txs_per_1000: tuple[float, float] = (float("nan"), float("nan"))
    workers: dict[int, tuple[Calls, Calls]] = field(default_factory=dict)

    def print(self) -> None:
        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        print("\ngoals (issue 10) against this run:")
        if self.batch:
            best = max(c.per_second for c in self.batch.values())
            ahead = all(
                self.batch[level].per_second > self.stock_batch[level].per_second
                for level in self.batch
            )
            print(
                f"  batch >= 300 calls/s in one process: best {best:.0f}/s: {verdict(best >= 300)}"
            )
            print(f"  batch ahead of the stock middleware at every level: {verdict(ahead)}")
            if 8 in self.batch:
                p99 = self.batch[8].percentile(0.99)
                print(f"  batch p99 <= 50 ms at 8 clients: {p99:.0f} ms: {verdict(p99 <= 50)}")
            best_exact = max(c.per_second for c in self.exact.values())
            print(
                f"  exact >= 40 calls/s: best {best_exact:.0f}/s: {verdict(best_exact >= 40)}; "
                f"gas per call {self.exact_gas:,.0f}"
            )
        print(
            f"  operator gas <= 500 per call at {self.calls_per_claim:.0f} calls per channel "
            f"between claims: {self.operator_gas:,.0f}: {verdict(self.operator_gas <= 500)}"
        )
        print(
            f"  <= 2,000 per call with the deposits: {self.deposit_gas:,.0f}: "
            f"{verdict(self.deposit_gas <= 2000)}"
        )
        claims, everything = self.txs_per_1000
        print(
            f"  <= 10 transactions per 1,000 calls: {claims:.1f} claims and settles "
            f"({verdict(claims <= 10)}), {everything:.1f} with a deposit per 100 calls "
            f"({verdict(everything <= 10)})"
        )
        if self.workers:
            best = max(
                two.per_second / max(one.per_second, 1e-9) for one, two in self.workers.values()
            )
            print(
                f"  2 workers on PostgreSQL >= 1.6x one: best {best:.2f}x: {verdict(best >= 1.6)}"
            )


@dataclass(frozen=True, slots=True)
class Tx:
    sender: str
    function: str
    gas: int
    ok: bool
    vouchers: int


@dataclass
class Ledger:
    """Transactions of a block range, read back from their receipts."""

    txs: list[Tx]

    @classmethod
    def read(cls, w3: Web3, first: int, last: int) -> Ledger:
        decoders = {
            Web3.to_checksum_address(ESCROW_ADDRESS): w3.eth.contract(
                ESCROW_ADDRESS, abi=artifacts.load("BatchSettlement").abi
            ),
        }
        names = _selectors()
        txs = []
        for number in range(first, last + 1):
            block = w3.eth.get_block(number, full_transactions=True)
            for tx in cast(list[Any], block["transactions"]):
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                data = bytes(tx["input"])
                function = names.get(data[:4], "other") if tx["to"] else "create"
                vouchers = 0
                if function in CLAIMS:
                    _, inputs = decoders[Web3.to_checksum_address(tx["to"])].decode_function_input(
                        data
                    )
                    vouchers = len(inputs["voucherClaims"])
                txs.append(
                    Tx(
                        tx["from"],
                        function,
                        int(receipt["gasUsed"]),
                        receipt["status"] == 1,
                        vouchers,
                    )
                )
        return cls(txs)

    def of(self, sender: str) -> Ledger:
        """The transactions ``sender`` sent."""
        return Ledger([t for t in self.txs if t.sender.lower() == sender.lower()])

    def only(self, *functions: str) -> Ledger:
        """The transactions calling one of ``functions``."""
        return Ledger([t for t in self.txs if t.function in functions])

    def count(self, *functions: str) -> int:
        return sum(t.function in functions for t in self.txs)

    def gas(self, *functions: str) -> int:
        return sum(t.gas for t in self.txs if not functions or t.function in functions)

    def gas_each(self, function: str) -> list[int]:
        return [t.gas for t in self.txs if t.function == function]

    def by_function(self) -> dict[str, list[Tx]]:
        grouped: dict[str, list[Tx]] = {}
        for t in self.txs:
            grouped.setdefault(t.function, []).append(t)
        return grouped

    @property
    def vouchers(self) -> int:
        return sum(t.vouchers for t in self.txs if t.ok)

    @property
    def failed(self) -> int:
        return sum(not t.ok for t in self.txs)


def _selectors() -> dict[bytes, str]:
    names = {}
    for contract in ("BatchSettlement", "MockUSDC", "ERC3009DepositCollector"):
        for item in artifacts.load(contract).abi:
            if item["type"] == "function":
                names[function_abi_to_4byte_selector(cast(Any, item))] = item["name"]
    return names


def _price(url: str) -> int:
    """The price of one call, from the runtime's own 402."""
    answer = httpx.post(f"{url}{HEADLINE}", json={"input": "price?"}, timeout=30)
    required = decode_payment_required_header(answer.headers["PAYMENT-REQUIRED"])
    assert isinstance(required, PaymentRequired)
    return int(required.accepts[0].amount)


def _ratio(rows: dict[tuple[str, int], Row], mine: str, theirs: str, level: int) -> str:
    ours, other = rows[mine, level].calls.per_second, rows[theirs, level].calls.per_second
    return f"{ours / other:.1f}x" if other else "n/a"


def _await_balance(chain: Chain, expected: int, timeout: float) -> float:
    """Wait until the treasury holds ``expected`` (or more, or ``timeout`` passed); the
    seconds waited."""
    started = time.monotonic()
    while chain.balance(chain.treasury) < expected and time.monotonic() - started < timeout:
        time.sleep(0.25)
    return time.monotonic() - started


def _manifest(scratch: Path) -> Manifest:
    manifest = Manifest.load(scratch / "home" / "deployments.json")
    assert manifest is not None
    return manifest


def _anvil_pid(anvil: EmbeddedChain) -> int:
    process = anvil._process
    assert process is not None
    return process.pid


def _postgres_pid() -> int | None:
    """The PostgreSQL server's main process (its backends are its children)."""
    names = {}
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            names[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    for pid, name in names.items():
        if name == "postgres" and names.get(parents[pid]) != "postgres":
            return pid
    return None


def _tree_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of ``pid`` and its living descendants."""
    if pid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    own: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent = int(fields[1])
        children.setdefault(parent, []).append(int(entry.name))
        own[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += own.get(current, 0.0)
        stack += children.get(current, [])
    return total


@contextmanager
def _throwaway_database() -> Iterator[str]:
    """A new database on the machine's PostgreSQL server, dropped after."""
    admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    name = f"agentdao_bench_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace(
                "postgresql://", "postgresql+psycopg://", 1
            )
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _x402_version() -> str:
    from importlib.metadata import version

    return version("x402")


if __name__ == "__main__":
    main()
