"""A real uvicorn server running the runtime over the test deployment, in a thread.

The app's lifespan runs, so the runtime's recovery and scheduled jobs (the chain
sync) are live, as in ``agentdao up``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from agents.app.database import open_database
from agents.app.http import create_app
from agents.core.settings import Settings
from agents.runtime.runtime import Runtime
from contracts.chain import free_port
from contracts.client import Chain

if TYPE_CHECKING:
    from tests.conftest import Deployment


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    settings: Settings
    server: uvicorn.Server


@pytest.fixture
def live(deployment: Deployment, chain: Chain, tmp_path: Path) -> Iterator[LiveServer]:
    port = free_port()
    settings = deployment.settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'runtime.db'}", "api_port": port}
    )
    runtime = Runtime.open(settings, chain, open_database(settings))
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
        yield LiveServer(f"http://127.0.0.1:{port}", runtime, settings, server)
    finally:
        server.should_exit = True
        thread.join(30)
