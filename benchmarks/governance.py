"""Time and blocks from a proposal's execute receipt to the chain sync applying it.

Run: ``.venv/bin/python -m benchmarks.governance [--runs 20] [--interval SECONDS]``.
Starts its own anvil, launches the sample agents.yaml, then 20 times: propose a new
``summarize`` price, vote, queue and execute it (time advanced on the local chain),
while a :class:`dao.sync.ConfigSync` polls in a background thread at the runtime's
interval (``Settings.config_sync_seconds`` unless ``--interval`` says otherwise);
each execute waits a random fraction of the interval first, so runs sample every
phase of the poll instead of locking onto one.
Prints the median and worst latency, measured from the moment the executor holds the
receipt, and from the moment the execute transaction was sent, and the blocks between
the receipt's block and the head the applying poll saw.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from web3 import Web3

from agents.database import open_database
from agents.launch import launch
from agents.live_config import LiveConfig
from agents.settings import Settings
from agents.spec import load_agents_file
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain, advance_time
from contracts.client import Chain
from dao import governor as gov
from dao.changes import ConfigCall, to_actions
from dao.sync import ConfigSync

ROOT = Path(__file__).resolve().parent.parent


class _Recorder:
    """A sink that notes when each version arrived and the chain head at that moment."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.arrived: dict[int, tuple[float, int]] = {}
        self.changed = threading.Condition()

    def __call__(self, agent: str, live: LiveConfig) -> str | None:
        if agent == "scribe":
            with self.changed:
                self.arrived[live.version] = (time.perf_counter(), self.w3.eth.block_number)
                self.changed.notify_all()
        return None

    def wait_for(self, version: int, timeout: float) -> tuple[float, int]:
        with self.changed:
            if not self.changed.wait_for(lambda: version in self.arrived, timeout):
                raise SystemExit(f"config v{version} never reached the sink")
            return self.arrived[version]


def _stake(chain: Chain, token: Any, stake: Any, amount: int) -> None:
    holder = dev_account(1)
    chain.send(token.functions.approve(stake.address, amount), holder)
    tx = stake.functions.stake(amount).build_transaction(
        {
            "from": holder.address,
            "nonce": chain.w3.eth.get_transaction_count(holder.address, "pending"),
            "chainId": chain.chain_id,
            "gas": 500_000,  # see tests/dao/conftest.py: estimates miss a new checkpoint
        }
    )
    chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_raw_transaction(holder.sign_transaction(tx).raw_transaction)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--interval", type=float, default=None, help="sync poll interval (s)")
    args = parser.parse_args()

    with EmbeddedChain(state_path=None, port=0) as node, tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home),
            rpc_url=node.rpc_url,
            deployer_key=SecretStr(Web3.to_hex(dev_account(0).key)),
        )
        interval = args.interval or float(getattr(settings, "config_sync_seconds", 1.0))
        chain = Chain(node.rpc_url, dev_account(0))
        engine = open_database(settings)
        spec = load_agents_file(ROOT / "agents.yaml")
        manifest = launch(settings, spec, chain, engine, report=lambda _: None).manifest
        addresses = manifest.agents["scribe"]
        governance = spec.agents["scribe"].governance
        governor = chain.contract("AgentGovernor", addresses.governor)
        config = chain.contract("AgentConfig", addresses.config)
        token = chain.contract("AgentToken", addresses.token)
        stake = chain.contract("AgentStake", addresses.stake)
        _stake(chain, token, stake, 300_000 * 10**18)
        advance_time(chain.w3, 1)

        recorder = _Recorder(Web3(Web3.HTTPProvider(node.rpc_url)))
        sync = ConfigSync(node.rpc_url, engine, manifest.agents, recorder, confirmations=0)
        stop = threading.Event()
        poller = threading.Thread(target=sync.run, args=(stop, interval), daemon=True)
        poller.start()
        recorder.wait_for(1, timeout=30)

        jitter = random.Random(4)
        from_receipt: list[float] = []
        from_send: list[float] = []
        blocks: list[int] = []
        print(f"sync interval {interval}s, {args.runs} proposals, confirmations 0 (anvil)")
        try:
            for run in range(args.runs):
                price = 51_000 + run * 1000
                actions = to_actions(config, [ConfigCall("setSkillPrice", ("summarize", price))])
                description = f"benchmark run {run}: summarize at {price}"
                voter = dev_account(1)
                pid = gov.propose(chain, governor, actions, description, voter)
                advance_time(chain.w3, int(governance.voting_delay) + 1)
                gov.vote(chain, governor, pid, gov.Support.FOR, voter)
                advance_time(chain.w3, int(governance.voting_period) + 1)
                gov.queue(chain, governor, actions, description)
                advance_time(chain.w3, int(governance.timelock_delay) + 1)
                # The loop would otherwise lock onto the poll's phase (each run starts
                # right after the previous poll); a random pause samples every phase.
                time.sleep(jitter.uniform(0, interval))
                sent = time.perf_counter()
                receipt = gov.execute(chain, governor, actions, description)
                held = time.perf_counter()
                version = int(config.functions.version().call())
                applied, head = recorder.wait_for(version, timeout=interval * 5 + 30)
                from_receipt.append(max(0.0, applied - held))
                from_send.append(applied - sent)
                blocks.append(head - int(receipt["blockNumber"]))
                print(
                    f"  run {run + 1:2}: v{version} applied {applied - held:+.3f}s after the "
                    f"receipt ({applied - sent:.3f}s after sending), {blocks[-1]} blocks"
                )
        finally:
            stop.set()
            poller.join(timeout=interval + 5)

    def figures(values: list[float]) -> str:
        return f"median {statistics.median(values):.3f}s, worst {max(values):.3f}s"

    print(f"execute receipt -> sync applied: {figures(from_receipt)}")
    print(f"execute sent    -> sync applied: {figures(from_send)}")
    print(
        f"blocks from the receipt's block: median {statistics.median(blocks)}, worst {max(blocks)}"
    )


if __name__ == "__main__":
    main()
