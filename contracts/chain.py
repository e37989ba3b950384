"""The embedded chain: an anvil node started, health-checked and stopped by agentdao.

State persists under ``.agentdao/chain/``, so contracts launched once are there the
next time. anvil saves it on a clean stop and every few seconds while running, but
it rewrites its file in place (truncate, then write), so a kill during a save would
leave the only copy torn and the chain lost. So anvil loads ``anvil-state.json`` and
saves to ``anvil-state.json.saving`` beside it; a save that parses is moved over the
state (atomically) at the next start and after a stop, and a torn one is dropped: the
chain then comes back from the last complete state instead of not at all.

The chain cannot outlive its runtime: on Linux anvil is asked (``PR_SET_PDEATHSIG``)
to receive SIGTERM, and so save its state and exit, when the thread that started it
ends, even by ``kill -9``. Its pid is kept in ``anvil.pid`` beside the state, so a
later start that finds the port taken by a chain of the same state file (a runtime
killed where that signal cannot reach, e.g. another OS) stops it and starts afresh
instead of refusing.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
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

log = logging.getLogger(__name__)

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


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In the child, before exec: SIGTERM when the parent thread ends (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl: nobody will signal us
        os._exit(1)


def _command_line(pid: int) -> list[str]:
    """The argv of a running process ([] when it is gone or unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    except OSError:
        pass
    try:  # no /proc (macOS): ps prints the arguments space-separated
        done = subprocess.run(
            ["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=False
        )
    except OSError:
        return []
    return done.stdout.split()


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) holds no port
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


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
    def pid_path(self) -> Path | None:
        """``anvil.pid`` beside the state file: the pid of the chain serving that state."""
        return None if self.state_path is None else self.state_path.parent / "anvil.pid"

    @property
    def saving_path(self) -> Path | None:
        """Where anvil writes its periodic saves (see the module docstring)."""
        return (
            None
            if self.state_path is None
            else self.state_path.with_name(self.state_path.name + ".saving")
        )

    def _keep_complete_save(self) -> None:
        """Move a complete save over the state file; drop a torn one."""
        saving, state = self.saving_path, self.state_path
        if saving is None or state is None or not saving.is_file():
            return
        try:
            with saving.open("rb") as file:
                json.load(file)
        except (ValueError, OSError):
            log.warning("%s is torn (a kill during a save); keeping %s", saving, state)
            saving.unlink(missing_ok=True)
            return
        os.replace(saving, state)

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

        A chain of this state file left running by an earlier runtime (its pid in
        :attr:`pid_path`) is stopped first: it saves its state, then this one loads it.

        Raises:
            ChainError: the port is taken by anything else (a live runtime's chain
                included), or anvil exited or never answered.
        """
        if self.running:
            return self
        if _port_in_use(self.host, self.port) and self._stop_leftover():
            self._wait_port_free(timeout)
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
        if self.state_path is not None and self.saving_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            self._keep_complete_save()
            if self.state_path.is_file():
                command += ["--load-state", str(self.state_path.resolve())]
            command += ["--dump-state", str(self.saving_path.resolve())]
            command += ["--state-interval", str(self.state_interval)]
            self._log = self.state_path.parent / "anvil.log"
        log_file = self._log.open("ab") if self._log else None
        self._process = subprocess.Popen(
            command,
            stdout=log_file or log_target,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not anvil
            preexec_fn=_die_with_parent_of(os.getpid()),
        )
        if log_file:
            log_file.close()
        if self.pid_path is not None:
            self.pid_path.write_text(f"{self._process.pid}\n")
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
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._keep_complete_save()
        self._forget_pid(process.pid)

    def _forget_pid(self, pid: int) -> None:
        if self.pid_path is not None and self._recorded_pid() == pid:
            self.pid_path.unlink(missing_ok=True)

    def _recorded_pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text().strip()) if self.pid_path else None
        except (OSError, ValueError):
            return None

    def _stop_leftover(self, timeout: float = 10.0) -> bool:
        """Stop the chain the pid file names if it is anvil serving our state file.

        Returns:
            True when one was stopped (the port is then about to be free).
        """
        pid = self._recorded_pid()
        if pid is None or self.state_path is None or not _alive(pid):
            return False
        argv = _command_line(pid)
        ours = {str(self.state_path.resolve()), str(self.saving_path.resolve())}  # type: ignore[union-attr]
        flags = ("--state", "--load-state", "--dump-state")
        state_args = {argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in flags}
        if not argv or not Path(argv[0]).name.startswith("anvil") or not ours & state_args:
            return False  # the pid was reused by something else: never touch it
        owner = _parent_of(pid)
        if owner is not None and any(Path(a).name == "agentdao" for a in _command_line(owner)):
            raise ChainError(
                f"port {self.port} is in use by the chain of a running agentdao (pid {owner}); "
                "stop that one first"
            )
        os.kill(pid, signal.SIGTERM)  # anvil dumps its state on SIGTERM
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self._forget_pid(pid)
        return True

    def _wait_port_free(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while _port_in_use(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> EmbeddedChain:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _die_with_parent_of(parent: int) -> Callable[[], None] | None:
    if sys.platform != "linux":
        return None
    return lambda: _die_with_parent(parent)


def advance_time(w3: Web3, seconds: int) -> None:
    """Move a local chain's clock forward and mine a block (anvil only)."""
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
