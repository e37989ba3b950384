"""What the end-to-end benchmarks share: a real runtime in a subprocess, paying clients."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from web3 import Web3
from x402 import x402Client
from x402.http.clients.httpx import x402AsyncTransport
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.exact import ExactEvmClientScheme

from contracts.accounts import dev_account
from contracts.chain import ROOT, free_port

AGENTDAO = str(Path(sys.executable).parent / "agentdao")


@contextmanager
def served_runtime(rpc_url: str, scratch: Path, **env: str) -> Iterator[str]:
    """Run ``agentdao up`` against ``rpc_url`` (launching agents.yaml there) until the
    block ends; yield the API's URL. ``env`` adds ``AGENTDAO_*`` settings."""
    port = free_port()
    variables = os.environ | {
        "AGENTDAO_HOME": str(scratch / "home"),
        "AGENTDAO_RPC_URL": rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
        "AGENTDAO_AGENTS_FILE": str(ROOT / "agents.yaml"),
        "AGENTDAO_API_PORT": str(port),
        **env,
    }
    url = f"http://127.0.0.1:{port}"
    log = scratch / "runtime.log"
    with log.open("wb") as sink:
        runtime = subprocess.Popen([AGENTDAO, "up"], env=variables, stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 120
        while True:
            if runtime.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the runtime did not start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/agents", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        runtime.terminate()
        runtime.wait(60)


def paying_client(index: int, url: str, connections: int = 64) -> httpx.AsyncClient:
    """An httpx client that pays any x402 402 from dev account ``index``."""
    client = x402Client()
    client.register("eip155:*", ExactEvmClientScheme(EthAccountSigner(dev_account(index))))
    client.set_spend_controls(False)  # MockUSDC is no asset the SDK knows
    limits = httpx.Limits(max_connections=connections)
    return httpx.AsyncClient(
        transport=x402AsyncTransport(client, transport=httpx.AsyncHTTPTransport(limits=limits)),
        base_url=url,
        timeout=120,
    )
