"""The embedded chain: an anvil node started, health-checked and stopped by agentdao.

State persists under ``.agentdao/chain/`` (anvil's ``--state``: loaded at start,
dumped on a clean stop and every few seconds while running), so contracts
launched once are there the next time.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx
from web3 import Web3

from agents.core.errors import ChainError, ChainUnreachableError

__all__ = [
    "DEV_MNEMONIC",
    "EmbeddedChain",
    "advance_time",
    "anvil_binary",
    "free_port",
    "wait_for_rpc",
]

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's well-known mnemonic; its accounts are public and for local chains only."""

ROOT = Path(__file__).resolve().parent.parent


def anvil_binary() -> str:
    """The anvil executable: the npm package's native binary, else PATH."""
    for candidate in sorted((ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        return str(candidate)
    found = shutil.which("anvil")
    if found is None:
        raise ChainError("anvil not found: run `npm ci` (it installs @foundry-rs/anvil)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_rpc(rpc_url: str, timeout: float = 15.0) -> int:
    """Poll ``eth_chainId`` until the node answers; return the chain id.

    Raises:
        ChainUnreachableError: no answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while True:
        try:
            reply = httpx.post(
                rpc_url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                timeout=2.0,
            )
            return int(reply.json()["result"], 16)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            last_error = str(exc) or type(exc).__name__
        if time.monotonic() >= deadline:
            raise ChainUnreachableError(rpc_url, last_error)
        time.sleep(0.1)


class EmbeddedChain:
    """A local anvil node owned by this process.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        state_path: Path | None,
        host: str = "127.0.0.1",
        port: int = 8545,
        chain_id: int = 31337,
        state_interval: int = 2,
    ) -> None:
        self.state_path = state_path
        self.host = host
        self.port = port or free_port(host)
        self.chain_id = chain_id
        self.state_interval = state_interval
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @property
    def rpc_url(self) -> str:
        """JSON-RPC endpoint of the node."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the anvil process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 15.0) -> EmbeddedChain:
        """Start anvil and wait until it answers.

        Raises:
            ChainError: the port is taken, or anvil exited or never answered.
        """
        if self.running:
            return self
        if _port_in_use(self.host, self.port):
            raise ChainError(
                f"port {self.port} is already in use; stop what listens there "
                "or set AGENTDAO_CHAIN_PORT"
            )
        command = [
            anvil_binary(),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", DEV_MNEMONIC,
            "--accounts", "10",
        ]  # fmt: skip
        log_target = subprocess.DEVNULL
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            command += ["--state", str(self.state_path)]
            command += ["--state-interval", str(self.state_interval)]
            self._log = self.state_path.parent / "anvil.log"
        log_file = self._log.open("ab") if self._log else None
        self._process = subprocess.Popen(
            command,
            stdout=log_file or log_target,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not anvil
        )
        if log_file:
            log_file.close()
        try:
            wait_for_rpc(self.rpc_url, timeout)
        except ChainUnreachableError as exc:
            code = self._process.poll()
            self.stop()
            hint = f" (see {self._log})" if self._log else ""
            raise ChainError(f"the embedded chain did not start{hint}: exit code {code}") from exc
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop anvil; SIGTERM first so it dumps its state, SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> EmbeddedChain:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def advance_time(w3: Web3, seconds: int) -> None:
    """Move a local chain's clock forward and mine a block (anvil only)."""
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
