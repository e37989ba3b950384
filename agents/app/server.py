"""Serve the runtime over HTTP with uvicorn until Ctrl-C or SIGTERM.

uvicorn owns the signals while it serves: on the first one it stops accepting
connections, lets the requests in flight finish (each hire settles or fails
cleanly), then runs the app's lifespan shutdown, which stops the scheduler. Then it
raises the signal again; under :func:`stop_signals` both SIGINT and SIGTERM arrive
as :class:`KeyboardInterrupt`, so the caller's ``finally`` blocks (stopping the
chain) run whichever signal a person or a supervisor sent.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import uvicorn
from sqlalchemy.engine import Engine
from uvicorn.supervisors import Multiprocess

from agents.app.http import create_app
from agents.core.errors import AgentDaoError
from agents.core.settings import Settings
from agents.runtime.runtime import Runtime
from contracts.client import Chain

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "serve", "stop_signals", "tcp_listener"]

GRACEFUL_SHUTDOWN_SECONDS = 60
"""How long a stopping server waits for hires in flight (a settlement waits up to 30 s)."""


@contextmanager
def stop_signals() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`KeyboardInterrupt` as SIGINT does.

    Python's default for SIGTERM ends the process at once, skipping every ``finally``;
    a supervisor's stop must unwind like Ctrl-C. The previous handler is restored on
    exit. Main thread only (Python's rule for signal handlers).
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(settings: Settings, chain: Chain, engine: Engine, workers: int = 1) -> None:
    """Serve every launched agent on ``settings.api_host:api_port`` until stopped.

    Returns after a stop by the app itself; a stop by a signal ends in
    :class:`KeyboardInterrupt` once the server has shut down (see :func:`stop_signals`).

    Raises:
        AgentDaoError: nothing launched, or the server could not start.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    # One line a second saying the sync ran is noise; its warnings still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if workers > 1:
        _serve_workers(settings, workers)
        return
    runtime = Runtime.open(settings, chain, engine)
    app = create_app(runtime)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        log_level="info",
    )
    server = uvicorn.Server(config)
    # The dashboard's event streams end as soon as the server starts to stop, so open
    # pages do not hold a graceful shutdown for its whole timeout.
    app.state.stopping = lambda: server.should_exit
    server.run()
    if not server.started:
        raise AgentDaoError(
            f"the API did not start on {settings.api_host}:{settings.api_port} (see the log above)"
        )


def _serve_workers(settings: Settings, workers: int) -> None:
    """``workers`` processes on one socket, each with its own runtime (see
    :mod:`agents.app.worker`); they read their settings from the environment."""
    os.environ.update(settings.as_environment())
    config = uvicorn.Config(
        "agents.app.worker:app",
        factory=True,
        workers=workers,
        host=settings.api_host,
        port=settings.api_port,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        log_level="info",
    )
    # What uvicorn.run does for workers (a stop by signal ends quietly), on a listener
    # that says it is TCP.
    with suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[tcp_listener(config)]).run()


def tcp_listener(config: uvicorn.Config) -> socket.socket:
    """uvicorn's listening socket for worker processes, marked as TCP.

    uvicorn binds it with protocol 0, which accepted connections inherit, and asyncio
    sets ``TCP_NODELAY`` only on sockets whose protocol is ``IPPROTO_TCP``: Nagle's
    algorithm stayed on, and every keep-alive response of a worker waited ~40 ms for
    the client's delayed ACK (uvicorn issue 3149).
    """
    bound = config.bind_socket()
    listener = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    listener.set_inheritable(True)
    return listener
