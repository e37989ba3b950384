"""A chain outage is a 503 ``chain_unavailable`` with Retry-After, never a 500 or a wrong
402; the service recovers by itself once the chain answers again, without a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from agents.app.database import open_database
from agents.app.http import create_app
from agents.runtime.runtime import Runtime
from contracts.accounts import dev_account
from contracts.chain import free_port
from contracts.client import Chain
from tests.conftest import Deployment
from tests.support.flaky_rpc import FlakyRpc

HIRE = "/agents/scribe/skills/summarize"
OUTAGE_SECONDS = 30


@pytest.fixture
def flaky(chain: Chain) -> Iterator[FlakyRpc]:
    proxy = FlakyRpc(chain.rpc_url)
    yield proxy
    proxy.close()


@pytest.fixture
def served(deployment: Deployment, flaky: FlakyRpc, tmp_path: Path) -> Iterator[str]:
    """A real server whose runtime reaches the chain only through ``flaky``."""
    port = free_port()
    settings = deployment.settings.model_copy(
        update={
            "rpc_url": flaky.url,
            "database_url": f"sqlite:///{tmp_path / 'runtime.db'}",
            "api_port": port,
        }
    )
    runtime = Runtime.open(settings, Chain(flaky.url, dev_account(0)), open_database(settings))
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _unpaid(url: str) -> httpx.Response:
    return httpx.post(f"{url}{HIRE}", json={"input": "x"}, timeout=60)


def _treasury(url: str) -> httpx.Response:
    return httpx.get(f"{url}/agents/scribe/treasury", timeout=60)


def _assert_chain_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["reason"] == "chain_unavailable"
    assert response.json()["error"]
    assert int(response.headers["Retry-After"]) > 0


def test_a_30s_chain_outage_is_503_then_the_service_recovers_by_itself(
    served: str, flaky: FlakyRpc
) -> None:
    assert _unpaid(served).status_code == 402
    assert _treasury(served).status_code == 200

    flaky.down = True
    started = time.monotonic()
    time.sleep(1.1)  # past the cached reading of the chain's clock
    answers = 0
    while time.monotonic() - started < OUTAGE_SECONDS:
        _assert_chain_unavailable(_unpaid(served))
        _assert_chain_unavailable(_treasury(served))
        assert httpx.get(f"{served}/agents", timeout=10).status_code == 200  # no chain needed
        answers += 1
    assert answers >= 2
    assert flaky.refused > 0

    flaky.down = False
    back = time.monotonic()
    while _unpaid(served).status_code != 402:
        assert time.monotonic() - back < 5, "the service did not recover within 5 s"
        time.sleep(0.2)
    assert _treasury(served).status_code == 200


def test_a_chain_that_hangs_does_not_freeze_the_routes_that_need_no_chain(
    served: str, flaky: FlakyRpc
) -> None:
    """A review saw /health wait 8 s behind one unpaid hire while the node took 8 s to
    answer: the quote read the chain's clock on the event loop. It runs in a thread now."""
    url = f"{served}/agents/scribe/skills/summarize"
    assert httpx.post(url, json={"input": "x"}, timeout=30).status_code == 402
    flaky.hang = 6.0
    time.sleep(1.1)  # past the cached chain lead: the next quote asks the node
    unpaid = threading.Thread(
        target=lambda: httpx.post(url, json={"input": "x"}, timeout=60), daemon=True
    )
    unpaid.start()
    time.sleep(0.3)
    started = time.monotonic()
    health = httpx.get(f"{served}/health", timeout=30)
    waited = time.monotonic() - started
    unpaid.join(60)
    flaky.hang = 0.0
    assert health.status_code == 200
    assert waited < 3, f"/health waited {waited:.1f} s behind a hanging node"
