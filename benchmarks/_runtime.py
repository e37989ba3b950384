"""What the end-to-end benchmarks share: a real runtime in a subprocess, paying clients."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
def anchor_checkout(revision: str) -> Iterator[Path]:
    """A detached git worktree of ``revision`` (the code a benchmark compares against, run
    in the same process tree and on the same machine as the current code), removed after."""
    with tempfile.TemporaryDirectory(prefix="agentdao-anchor-") as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), revision],
            check=True,
        )
        # The anchor launches with the same npm packages (Uniswap's artifacts) as this tree.
        (tree / "node_modules").symlink_to(ROOT / "node_modules")
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
            )


def _up_command(source: Path | None) -> list[str]:
    """``agentdao up`` of this checkout, or of the checkout at ``source`` (whose CLI entry
    point is read from its own pyproject, as module names moved between revisions)."""
    if source is None:
        return [AGENTDAO, "up"]
    scripts = tomllib.loads((source / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["agentdao"].split(":")
    boot = f"import sys; sys.path.insert(0, {str(source)!r}); from {module} import {function}"
    return [sys.executable, "-c", f"{boot}; sys.argv[0] = 'agentdao'; {function}()", "up"]


@dataclass(frozen=True, slots=True)
class Served:
    """A running ``agentdao up``: its API's URL and its process (the workers' parent)."""

    url: str
    pid: int


@contextmanager
def served_runtime(
    rpc_url: str,
    scratch: Path,
    *,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Run ``agentdao up`` against ``rpc_url`` (launching agents.yaml there) until the
    block ends; yield the API's URL. ``source`` runs another checkout's code instead of
    this one's (see ``anchor_checkout``); ``env`` adds ``AGENTDAO_*`` settings."""
    with served_process(rpc_url, scratch, source=source, env=env) as served:
        yield served.url


@contextmanager
def served_process(
    rpc_url: str,
    scratch: Path,
    *,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
) -> Iterator[Served]:
    """:func:`served_runtime`, yielding the process too; ``options`` are more arguments
    of ``up`` (``--workers 2``)."""
    port = free_port()
    home = source or ROOT
    variables = os.environ | {
        "AGENTDAO_HOME": str(scratch / "home"),
        "AGENTDAO_RPC_URL": rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
        "AGENTDAO_AGENTS_FILE": str(home / "agents.yaml"),
        "AGENTDAO_API_PORT": str(port),
        **(env or {}),
    }
    url = f"http://127.0.0.1:{port}"
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch / "runtime.log"
    with log.open("wb") as sink:
        runtime = subprocess.Popen(
            [*_up_command(source), *options], env=variables, stdout=sink, stderr=sink, cwd=home
        )
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
        yield Served(url, runtime.pid)
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
