"""Serve the runtime over HTTP with uvicorn until Ctrl-C or SIGTERM.

uvicorn owns the signals: on the first one it stops accepting connections, lets
the requests in flight finish (each hire settles or fails cleanly), then runs the
app's lifespan shutdown, which stops the scheduler.
"""

from __future__ import annotations

import logging

import uvicorn
from sqlalchemy.engine import Engine

from agents.app.http import create_app
from agents.core.errors import AgentDaoError
from agents.core.settings import Settings
from agents.runtime.runtime import Runtime
from contracts.client import Chain

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "serve"]

GRACEFUL_SHUTDOWN_SECONDS = 60
"""How long a stopping server waits for hires in flight (a settlement waits up to 30 s)."""


def serve(settings: Settings, chain: Chain, engine: Engine) -> None:
    """Serve every launched agent on ``settings.api_host:api_port`` until stopped.

    Raises:
        AgentDaoError: nothing launched, or the server could not start.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    # One line a second saying the sync ran is noise; its warnings still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    runtime = Runtime.open(settings, chain, engine)
    config = uvicorn.Config(
        create_app(runtime),
        host=settings.api_host,
        port=settings.api_port,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        log_level="info",
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise AgentDaoError(
            f"the API did not start on {settings.api_host}:{settings.api_port} (see the log above)"
        )
