"""The embedded chain: starts, answers, keeps its state across restarts, refuses a taken port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from agents.core.errors import ChainError, ChainUnreachableError
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain, free_port, wait_for_rpc
from contracts.client import Chain


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "chain" / "anvil-state.json"
    port = free_port()
    with EmbeddedChain(state, port=port) as node:
        chain = Chain(node.rpc_url, dev_account(0))
        registry = chain.deploy("AgentRegistry").address
        assert chain.has_code(registry)
    assert state.is_file()
    with EmbeddedChain(state, port=port) as node:
        assert Chain(node.rpc_url, dev_account(0)).has_code(registry)


def test_stop_leaves_nothing_listening() -> None:
    node = EmbeddedChain(None, port=0).start()
    assert wait_for_rpc(node.rpc_url) == 31337
    node.stop()
    assert not node.running
    with pytest.raises(ChainUnreachableError):
        wait_for_rpc(node.rpc_url, timeout=0.5)


def test_taken_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ChainError, match=f"port {port} is already in use"):
            EmbeddedChain(None, port=port).start()


def test_unreachable_rpc_is_one_clear_error() -> None:
    with pytest.raises(
        ChainUnreachableError, match=r"cannot reach the chain at http://127\.0\.0\.1:9"
    ):
        Chain("http://127.0.0.1:9", dev_account(0))


def test_a_pid_file_naming_another_process_is_never_acted_on(tmp_path: Path) -> None:
    """The pid in anvil.pid was reused by something that is not our chain: the start
    refuses the taken port and leaves that process alone."""
    state = tmp_path / "chain" / "anvil-state.json"
    state.parent.mkdir(parents=True)
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        (state.parent / "anvil.pid").write_text(f"{bystander.pid}\n")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            with pytest.raises(ChainError, match=f"port {port} is already in use"):
                EmbeddedChain(state, port=port).start()
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_the_pid_file_lives_while_the_chain_runs(tmp_path: Path) -> None:
    state = tmp_path / "chain" / "anvil-state.json"
    with EmbeddedChain(state, port=0) as node:
        assert node.pid_path is not None
        assert node.pid_path.read_text().strip().isdigit()
    assert not node.pid_path.exists()


def test_a_chain_killed_while_saving_its_state_starts_again(tmp_path: Path) -> None:
    """anvil rewrites its save in place; a kill during that write must not lose the chain."""
    state = tmp_path / "chain" / "anvil-state.json"
    with EmbeddedChain(state, port=0) as node:  # a state big enough to take a while
        w3 = Chain(node.rpc_url, dev_account(0)).w3
        for _ in range(300):
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    full = state.stat().st_size
    node = EmbeddedChain(state, port=0, state_interval=1).start()
    saving = node.saving_path
    assert saving is not None
    assert node._process is not None
    deadline = time.monotonic() + 120  # saves are a few ms; catching one may take a while
    while not (saving.is_file() and 0 < saving.stat().st_size < full // 2):  # a save is under way
        assert time.monotonic() < deadline, "no periodic save seen"
    os.kill(node._process.pid, signal.SIGKILL)
    node._process.wait()
    with pytest.raises(json.JSONDecodeError):  # the kill did land in a save
        json.loads(saving.read_text())
    with EmbeddedChain(state, port=0) as again:
        assert Chain(again.rpc_url, dev_account(0)).w3.eth.block_number >= 300
    assert not saving.exists() or json.loads(saving.read_text())
