"""One worker process of ``agentdao up --workers N``: uvicorn's app factory.

uvicorn starts N processes sharing the API's socket; each builds its own runtime from
the settings in its environment (the parent exports them) against the chain the parent
started, and shares the database with the others (PostgreSQL for N > 1 on several
machines; one SQLite file works on one). The jobs that must run once take leases
(:mod:`agents.runtime.leases`); requests go to whichever worker accepts them.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal

from fastapi import FastAPI

from agents.app.database import open_database
from agents.app.http import create_app
from agents.core.settings import Settings
from agents.runtime.runtime import Runtime
from contracts.client import Chain
from contracts.session import deployer_of

__all__ = ["app"]

_PR_SET_PDEATHSIG = 1


def app() -> FastAPI:
    """The API of a fresh runtime in this worker process."""
    _die_with_supervisor()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = Settings.load()
    rpc_url = settings.rpc_url or f"http://{settings.chain_host}:{settings.chain_port}"
    chain = Chain(rpc_url, deployer_of(settings))
    return create_app(Runtime.open(settings, chain, open_database(settings)))


def _die_with_supervisor() -> None:
    """A worker whose supervisor was killed (kill -9) gets SIGTERM instead of serving on
    as an orphan that holds the port (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the supervisor died before prctl: nobody would signal us
        os._exit(1)
