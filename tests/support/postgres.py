"""A throwaway PostgreSQL database per test, on the machine's PostgreSQL server.

The server is the one this machine kind runs (127.0.0.1:5432, trust auth for
``postgres``); when it is down the fixture starts it the way the machine does
(``pg_ctlcluster --skip-systemctl-redirect <version> main start``). Point
``AGENTDAO_TEST_POSTGRES`` at another server's admin URL to use that instead.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ADMIN_URL = os.environ.get(
    "AGENTDAO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


def _start_local_server() -> None:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        check=False,
        capture_output=True,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database, dropped after the test."""
    try:
        admin = _connect()
    except psycopg.OperationalError:
        _start_local_server()
        admin = _connect()  # still down: the test errors, it is not skipped
    name = f"agentdao_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
