"""Time and blocks from a proposal's execute receipt to the first hire served with it.

Run: ``.venv/bin/python -m benchmarks.governance [--runs 20] [--interval SECONDS]``

Starts a private anvil and runs the real runtime against it as a subprocess
(``agentdao up`` with a temporary ``AGENTDAO_HOME``, as ``benchmarks.hire`` does);
its scheduler polls the chain sync every ``AGENTDAO_CONFIG_SYNC_SECONDS`` (the
runtime's default, 1 s, unless ``--interval`` says otherwise). dev:1 stakes, then
each run: propose a new ``scribe/summarize`` price, vote, queue, move the chain's
clock past the timelock delay (then let the runtime's cached reading of the chain
clock's lead lapse, so the jump does not get hires refused as expired), wait a
random fraction of the sync interval (so the runs sample every phase of the poll
instead of locking onto one), execute, and from the moment the executor holds the
receipt hire ``summarize`` over HTTP with a paying x402 client, back to back, until
a hire's receipt carries the new config version and is charged the new price.
Prints the median and worst seconds from holding the execute receipt to that hire's
response, the median and worst blocks from the execute receipt's block to the block
of that hire's settlement, and how many hires after the execute were still served
with the old config.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from web3 import Web3

from agents.core.money import TOKEN_DECIMALS
from agents.core.spec import load_agents_file
from benchmarks._runtime import paying_client, served_runtime
from contracts.accounts import dev_account
from contracts.chain import ROOT, EmbeddedChain, advance_time
from contracts.client import Chain
from dao import governor as gov
from dao.changes import ConfigCall, to_actions
from treasury.payments import CLOCK_CACHE_SECONDS

AGENTDAO = str(Path(sys.executable).parent / "agentdao")
AGENT, SKILL = "scribe", "summarize"
HIRE_PATH = f"/agents/{AGENT}/skills/{SKILL}"
VOTER = 1  # holds 400,000 SCRIBE in agents.yaml; stakes 300,000
EXECUTOR = 7  # not dev:0, whose key the runtime's in-process facilitator sends with
CUSTOMER = 5
TOKEN = 10**TOKEN_DECIMALS


@dataclass
class Outcome:
    """One run: the first hire served with the new config, and what came before it."""

    version: int
    price: int
    seconds: float  # execute receipt held -> that hire's response
    blocks: int  # execute receipt's block -> that hire's settlement block
    old_config: int  # hires after the execute still served with the old config
    refused: Counter[str]  # hires answered with something other than 200, by reason


def _refusals(refused: Counter[str]) -> str:
    if not refused:
        return "; none refused"
    return "; refused: " + ", ".join(f"{n} x {why}" for why, n in refused.most_common())


async def _hire_until_served(
    http: httpx.AsyncClient, w3: Web3, version: int, price: int, held: float, patience: float
) -> tuple[float, int, int, Counter[str]]:
    """Hire back to back until a receipt carries ``version`` at ``price``; return the
    seconds since ``held``, the settlement's block, the hires served with an older
    config on the way, and the refused ones by reason."""
    old_config = 0
    refused: Counter[str] = Counter()
    deadline = held + patience
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        response = await http.post(HIRE_PATH, json={"input": f"v{version} probe {n}"})
        answered = time.perf_counter()
        if response.status_code != 200:
            error = str(response.json().get("error") or response.json().get("detail"))
            refused[f"HTTP {response.status_code} {error.split(':')[0]}"] += 1
            continue
        receipt: dict[str, Any] = response.json()["receipt"]
        if receipt["config_version"] == version and int(receipt["amount"]) == price:
            tx = w3.eth.get_transaction_receipt(receipt["settlement_tx"])
            return answered - held, int(tx["blockNumber"]), old_config, refused
        if receipt["config_version"] >= version:  # a receipt must name the config it used
            sys.exit(f"v{version} charged {receipt['amount']}, not {price}: {receipt}")
        old_config += 1
    sys.exit(f"no hire was served with config v{version} within {patience:.0f}s")


async def _bench(url: str, rpc_url: str, runs: int, interval: float) -> list[Outcome]:
    plain = httpx.AsyncClient(base_url=url, timeout=30)
    addresses: dict[str, str] = (await plain.get(f"/agents/{AGENT}")).json()["addresses"]
    chain = Chain(rpc_url, dev_account(EXECUTOR))
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    governance = load_agents_file(ROOT / "agents.yaml").agents[AGENT].governance
    governor = chain.contract("AgentGovernor", addresses["governor"])
    config = chain.contract("AgentConfig", addresses["config"])
    token = chain.contract("AgentToken", addresses["token"])
    staking = chain.contract("AgentStake", addresses["stake"])
    voter = dev_account(VOTER)
    chain.send(token.functions.approve(staking.address, 300_000 * TOKEN), voter)
    chain.send(staking.functions.stake(300_000 * TOKEN), voter)
    advance_time(chain.w3, 1)

    http = paying_client(CUSTOMER, url)
    jitter = random.Random(4)
    outcomes: list[Outcome] = []
    try:
        warm = await http.post(HIRE_PATH, json={"input": "warm up"})  # connection, model
        if warm.status_code != 200:
            sys.exit(f"warm-up hire failed: HTTP {warm.status_code} {warm.text[:300]}")
        for run in range(runs):
            price = 51_000 + run * 1000
            actions = to_actions(config, [ConfigCall("setSkillPrice", (SKILL, price))])
            description = f"benchmark run {run}: {SKILL} at {price}"
            pid = gov.propose(chain, governor, actions, description, voter)
            advance_time(chain.w3, int(governance.voting_delay) + 1)
            gov.vote(chain, governor, pid, gov.Support.FOR, voter)
            advance_time(chain.w3, int(governance.voting_period) + 1)
            gov.queue(chain, governor, actions, description)
            advance_time(chain.w3, int(governance.timelock_delay) + 1)
            # The runtime dates payment windows by the chain clock's lead over its own,
            # cached for CLOCK_CACHE_SECONDS; right after the jumps above, hires would be
            # refused as expired until it is read again. A real chain never jumps, so
            # let the cache lapse and have an unpaid request (a 402) read it anew.
            await asyncio.sleep(CLOCK_CACHE_SECONDS + 0.1)
            await plain.post(HIRE_PATH, json={"input": "quote"})
            # Each run would otherwise start right after the previous run's applying
            # poll and lock onto its phase; a random pause samples every phase.
            await asyncio.sleep(jitter.uniform(0, interval))
            receipt = gov.execute(chain, governor, actions, description)
            held = time.perf_counter()
            version = int(config.functions.version().call())
            seconds, block, old, refused = await _hire_until_served(
                http, w3, version, price, held, patience=interval * 5 + 30
            )
            outcome = Outcome(
                version, price, seconds, block - int(receipt["blockNumber"]), old, refused
            )
            outcomes.append(outcome)
            print(
                f"  run {run + 1:2}: v{version} at {price / 1e6:.3f} USDC served "
                f"{seconds:.3f}s, {outcome.blocks} blocks after the execute receipt; "
                f"{old} old-config hires before it{_refusals(refused)}"
            )
    finally:
        await http.aclose()
        await plain.aclose()
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="the runtime's config sync interval (s)"
    )
    args = parser.parse_args()
    print(
        "$ " + shlex.join([Path(sys.executable).name, "-m", "benchmarks.governance", *sys.argv[1:]])
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; offline model; anvil automine; "
        f"config sync every {args.interval}s; {args.runs} proposals"
    )

    sync = {"AGENTDAO_CONFIG_SYNC_SECONDS": str(args.interval)}
    with (
        tempfile.TemporaryDirectory() as scratch,
        EmbeddedChain(None, port=0) as anvil,
        served_runtime(anvil.rpc_url, Path(scratch), env=sync) as url,
    ):
        outcomes = asyncio.run(_bench(url, anvil.rpc_url, args.runs, args.interval))

    seconds = [o.seconds for o in outcomes]
    blocks = [o.blocks for o in outcomes]
    print(
        f"execute receipt -> first hire served with the new config: "
        f"median {statistics.median(seconds):.3f}s, worst {max(seconds):.3f}s"
    )
    print(
        f"blocks from the execute receipt's block to that hire's settlement: "
        f"median {statistics.median(blocks)}, worst {max(blocks)}"
    )
    print(
        f"hires after the execute still served with the old config: "
        f"{sum(o.old_config for o in outcomes)} in {len(outcomes)} runs "
        f"(max {max(o.old_config for o in outcomes)} in one run)"
        + _refusals(sum((o.refused for o in outcomes), Counter()))
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
