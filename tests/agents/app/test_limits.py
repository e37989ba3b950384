"""Hostile bodies against a real `agentdao up` server: a clear 4xx, and the process lives.

The server is the CLI's `up` in a child process (uvicorn, the app, web3 and so py_ecc
imported), so a crash shows as a dead process instead of taking pytest down with it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from contracts.accounts import dev_account
from contracts.chain import free_port
from tests.conftest import SAMPLE_AGENTS, Deployment

HIRE = "/agents/scribe/skills/summarize"


@pytest.fixture(scope="module")
def up(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of `agentdao up` serving the test deployment from a copy of its home."""
    home = tmp_path_factory.mktemp("up-home")
    shutil.copy(deployment.settings.manifest_path, home / "deployments.json")
    port = free_port()
    env = os.environ | {
        "AGENTDAO_HOME": str(home),
        "AGENTDAO_AGENTS_FILE": str(SAMPLE_AGENTS),
        "AGENTDAO_RPC_URL": deployment.chain.rpc_url,
        "AGENTDAO_DEPLOYER_KEY": Web3.to_hex(dev_account(0).key),
        "AGENTDAO_DATABASE_URL": str(deployment.settings.resolved_database_url),
        "AGENTDAO_API_PORT": str(port),
    }
    agentdao = Path(sys.executable).with_name("agentdao")
    process = subprocess.Popen(
        [str(agentdao), "up"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            if httpx.get(f"{url}/agents", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "agentdao up did not serve"
        time.sleep(0.2)
    try:
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _alive(url: str) -> None:
    assert httpx.get(f"{url}/agents", timeout=10).status_code == 200


def test_a_body_of_100k_nested_arrays_is_refused_and_the_server_lives(up: str) -> None:
    body = b"[" * 100_000 + b"]" * 100_000  # ~200 KB
    response = httpx.post(
        f"{up}{HIRE}", content=body, headers={"content-type": "application/json"}, timeout=30
    )
    assert response.status_code in (413, 422), response.text
    assert response.json()["reason"] == "too_deep"
    _alive(up)


def test_deep_nesting_inside_the_input_string_is_just_text(up: str) -> None:
    text = "[" * 5_000 + "]" * 5_000
    response = httpx.post(f"{up}{HIRE}", json={"input": text}, timeout=30)
    assert response.status_code == 402, response.text


def test_an_oversized_body_is_413_whether_declared_or_streamed(up: str) -> None:
    huge = b'{"input": "' + b"a" * 2_000_000 + b'"}'
    declared = httpx.post(
        f"{up}{HIRE}", content=huge, headers={"content-type": "application/json"}, timeout=30
    )
    assert declared.status_code == 413, declared.text
    assert declared.json()["reason"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must count as it reads
        for start in range(0, len(huge), 65_536):
            yield huge[start : start + 65_536]

    streamed = httpx.post(
        f"{up}{HIRE}", content=chunks(), headers={"content-type": "application/json"}, timeout=30
    )
    assert streamed.status_code == 413, streamed.text
    assert streamed.json()["reason"] == "too_large"
    _alive(up)


@pytest.mark.parametrize(
    "body",
    [b'{"input": "\\ud800"}', b'{"input": ["\\ud800"]}', b'{"input": "a\\udfff b"}'],
)
def test_a_lone_utf16_surrogate_is_422_with_a_reason(up: str, body: bytes) -> None:
    response = httpx.post(
        f"{up}{HIRE}", content=body, headers={"content-type": "application/json"}, timeout=30
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["reason"] == "invalid_body"
    assert isinstance(problem["error"], str)


def test_the_server_restored_the_recursion_limit_py_ecc_raised() -> None:
    import py_ecc  # noqa: F401  (raises it to 100000 at import)

    from agents.app import limits

    limits.restore_recursion_limit()
    assert sys.getrecursionlimit() == limits.RECURSION_LIMIT
