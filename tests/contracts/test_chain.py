"""The embedded chain: starts, answers, keeps its state across restarts, refuses a taken port."""

from __future__ import annotations

import socket
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
