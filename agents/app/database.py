"""The runtime's database: SQLite under ``.agentdao/`` by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

from agents.core.settings import Settings

__all__ = ["open_database"]


def open_database(settings: Settings) -> Engine:
    """Connect and create any missing table."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_wal)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    import agents.runtime.records  # noqa: F401  (registers the tables)
    import dao.history
    import dao.sync  # noqa: F401  (config history, sync cursor)
    import treasury.distribution  # noqa: F401  (distribution job state)

    SQLModel.metadata.create_all(engine)
    return engine


def _sqlite_wal(connection: Any, _: Any) -> None:
    """WAL with synchronous=NORMAL: a commit survives a killed process (what the task
    state machine relies on) without an fsync per commit; only an OS crash or power
    loss can take back the newest commits. Readers no longer block the writer."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
