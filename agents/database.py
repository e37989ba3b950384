"""The runtime's database: SQLite under ``.agentdao/`` by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from agents.settings import Settings

__all__ = ["open_database", "session_scope"]


def open_database(settings: Settings) -> Engine:
    """Connect and create any missing table."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url, pool_pre_ping=True)
    import agents.records  # noqa: F401  (registers the tables)
    import dao.history
    import dao.sync  # noqa: F401  (config history, sync cursor)
    import treasury.distribution  # noqa: F401  (distribution job state)

    SQLModel.metadata.create_all(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
