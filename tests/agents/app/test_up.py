"""`agentdao up` as a supervisor runs it: a real process, stopped by a signal or killed.

Each test runs `up` in a child process with its own home and free ports, and finds
the embedded anvil by its command line (not by the pid file it checks), so a chain
left behind is seen whatever `up` believes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contracts.chain import EmbeddedChain, free_port
from tests.conftest import SAMPLE_AGENTS

AGENTDAO = str(Path(sys.executable).parent / "agentdao")
STARTUP_SECONDS = 180
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


@dataclass
class Up:
    """One `agentdao up` child process and where it serves."""

    home: Path
    api_port: int
    chain_port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_serving(self) -> list[str]:
        """Wait until the API lists the agents; return their names."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"up exited with {self.process.returncode}:\n{self.output()}")
            try:
                reply = httpx.get(f"http://127.0.0.1:{self.api_port}/agents", timeout=2)
                if reply.status_code == 200:
                    return sorted(agent["name"] for agent in reply.json())
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"up did not serve within {STARTUP_SECONDS}s:\n{self.output()}")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=90)


def start_up(home: Path, api_port: int, chain_port: int, tag: str) -> Up:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDAO_")}
    env |= {
        "AGENTDAO_HOME": str(home),
        "AGENTDAO_API_PORT": str(api_port),
        "AGENTDAO_CHAIN_PORT": str(chain_port),
        "AGENTDAO_AGENTS_FILE": str(SAMPLE_AGENTS),
        "AGENTDAO_EARNINGS_INTERVAL": "3600",
    }
    log = home.parent / f"up-{tag}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [AGENTDAO, "up"], cwd=home.parent, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    return Up(home, api_port, chain_port, process, log)


@pytest.fixture
def ups(tmp_path: Path) -> Iterator[list[Up]]:
    """Every `up` a test starts; killed, with their chains, if the test left them running."""
    started: list[Up] = []
    yield started
    for up in started:
        if up.process.poll() is None:
            up.process.kill()
            up.process.wait()
        for pid in anvil_pids(up.chain_port):
            os.kill(pid, signal.SIGKILL)


def anvil_pids(port: int) -> list[int]:
    """Live anvil processes listening on ``port``, from their command lines."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"anvil") and str(port).encode() in argv:
            pid = int(entry.name)
            if alive(pid):
                found.append(pid)
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_cleanly_and_the_next_up_finds_the_agents(
    tmp_path: Path, ups: list[Up], signum: int
) -> None:
    home = tmp_path / "home"
    api_port, chain_port = free_port(), free_port()
    first = start_up(home, api_port, chain_port, "first")
    ups.append(first)
    assert first.wait_serving() == ["auditor", "scribe"]
    (chain,) = anvil_pids(chain_port)

    assert first.stop(signum) == 0, first.output()
    assert not alive(chain), "anvil outlived `up`"
    assert (home / "chain" / "anvil-state.json").stat().st_size > 0
    assert "chain stopped; state saved" in first.output()
    assert "Traceback" not in first.output()

    second = start_up(home, api_port, chain_port, "second")
    ups.append(second)
    assert second.wait_serving() == ["auditor", "scribe"]
    assert "auditor: already launched" in second.output()
    assert second.stop(signum) == 0, second.output()
    assert anvil_pids(chain_port) == []


def test_after_kill_9_the_chain_dies_with_its_runtime(tmp_path: Path, ups: list[Up]) -> None:
    chain_port = free_port()
    up = start_up(tmp_path / "home", free_port(), chain_port, "killed")
    ups.append(up)
    up.wait_serving()
    (chain,) = anvil_pids(chain_port)
    up.process.kill()
    up.process.wait()
    assert wait_gone(chain, 5), "anvil outlived a killed `up`"


def test_up_replaces_a_leftover_chain_of_its_own(tmp_path: Path, ups: list[Up]) -> None:
    """A chain an earlier `up` left running on the port (its pid file beside the state)
    is stopped (it saves its state) and replaced, instead of "port in use"."""
    home = tmp_path / "home"
    chain_port = free_port()
    leftover = EmbeddedChain(home / "chain" / "anvil-state.json", port=chain_port).start()
    try:
        (old,) = anvil_pids(chain_port)
        up = start_up(home, free_port(), chain_port, "after-leftover")
        ups.append(up)
        assert up.wait_serving() == ["auditor", "scribe"]
        assert not alive(old)
        (new,) = anvil_pids(chain_port)
        assert new != old
        assert up.stop(signal.SIGTERM) == 0, up.output()
    finally:
        leftover.stop()


def test_up_refuses_a_port_held_by_a_chain_that_is_not_its_own(
    tmp_path: Path, ups: list[Up]
) -> None:
    """Another home's chain (or anything else) on the port is never killed."""
    chain_port = free_port()
    stranger = EmbeddedChain(tmp_path / "other" / "anvil-state.json", port=chain_port).start()
    try:
        up = start_up(tmp_path / "home", free_port(), chain_port, "refused")
        ups.append(up)
        assert up.process.wait(timeout=120) == 1
        assert f"port {chain_port} is already in use" in up.output()
        assert stranger.running
    finally:
        stranger.stop()


def test_a_second_up_never_takes_the_chain_of_a_running_one(tmp_path: Path, ups: list[Up]) -> None:
    home, chain_port = tmp_path / "home", free_port()
    first = start_up(home, free_port(), chain_port, "running")
    ups.append(first)
    first.wait_serving()
    (chain,) = anvil_pids(chain_port)
    second = start_up(home, free_port(), chain_port, "intruder")
    ups.append(second)
    assert second.process.wait(timeout=120) == 1
    assert "in use by the chain of a running agentdao" in second.output()
    assert alive(chain)
    assert first.wait_serving() == ["auditor", "scribe"]
