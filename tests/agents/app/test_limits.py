"""Hostile bodies against a real `agentdao up` server: a clear 4xx, and the process lives.

The server is the CLI's `up` in a child process (uvicorn, the app, web3 and so py_ecc
imported), so a crash shows as a dead process instead of taking pytest down with it.
"""

from __future__ import annotations

import asyncio
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
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from web3 import Web3

from agents.app import problems
from agents.app.limits import _STRING, BodyLimit, GuardedRoute, json_depth_exceeds
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


def test_escaped_quotes_that_never_close_cannot_freeze_the_loop() -> None:
    """A review froze the whole API for 28 s with 80 KB of ``\\"`` after 33 brackets: the
    string pattern backtracked quadratically. It is linear now; at the 1 MiB limit the
    check stays a small fraction of a second (work counted, not timed: a linear pattern
    scans each byte once, so 1 MiB and 10 KB differ by about the size ratio)."""
    small = b"[" * 33 + b'\\"' * 5_000
    large = b"[" * 33 + b'\\"' * 500_000
    assert json_depth_exceeds(large) is True  # 33 > 32 brackets, strings stripped linearly
    assert json_depth_exceeds(small) is True
    assert _STRING.sub(b"", b'["a\\"]", {"k":"v"}]') == b"[, {:}]"
    # the pattern cannot backtrack: possessive groups and an optional closing quote
    assert b"++" in _STRING.pattern
    assert b"*+" in _STRING.pattern


def test_a_body_that_stops_arriving_is_408_not_a_held_connection() -> None:
    """A client that sends part of its body and then nothing (slowloris) gets 408 after the
    read timeout instead of holding a connection and a task forever."""
    guarded = BodyLimit(_echo_app(), read_timeout=0.2)
    sent: list[dict[str, object]] = []

    async def scenario() -> None:
        parts = [{"type": "http.request", "body": b"{", "more_body": True}]

        async def receive() -> dict[str, object]:
            if parts:
                return parts.pop()
            await asyncio.sleep(3600)  # the client never sends the rest
            raise AssertionError("unreachable")

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/echo",
            "raw_path": b"/echo",
            "query_string": b"",
            "headers": [(b"content-type", b"application/json")],
            "http_version": "1.1",
            "scheme": "http",
            "server": ("t", 80),
            "client": ("c", 1),
            "root_path": "",
        }
        await asyncio.wait_for(guarded(scope, receive, send), 10)  # type: ignore[arg-type]

    asyncio.run(scenario())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 408
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    assert b'"reason":"too_slow"' in body


def _echo_app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


class _HireBody(BaseModel):
    input: str


def _hire_app() -> FastAPI:
    app = FastAPI()
    app.router.route_class = GuardedRoute
    problems.install(app)

    @app.post("/hire")
    async def hire(body: _HireBody) -> dict[str, str]:
        return {"input": body.input}

    return app


def test_a_number_the_json_decoder_refuses_is_422_not_400() -> None:
    """An integer of over 4300 digits is a ValueError, not a JSON syntax error: FastAPI
    would answer a bare 400; the guarded route answers 422 invalid_body."""
    answer = TestClient(_hire_app()).post(
        "/hire",
        content=b'{"input": "x", "n": ' + b"9" * 5000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["reason"] == "invalid_body"
    ok = TestClient(_hire_app()).post("/hire", json={"input": "x"})
    assert ok.json() == {"input": "x"}
