"""The runtime's database: SQLite under ``.agentdao/`` by default, PostgreSQL by URL.

The schema is Alembic's (``agents/app/migrations/``): :func:`open_database` brings
any database to the newest revision, and nothing calls ``create_all``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel, create_engine

from agents.core.settings import Settings

__all__ = ["BASELINE_REVISION", "MIGRATIONS", "open_database", "open_engine", "schema", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""Alembic's script directory (shipped with the package)."""

BASELINE_REVISION = "0001"
"""The revision of the schema ``create_all`` made before there were migrations."""

_MIGRATION_LOCK = 0x61676E74  # any constant: serialises PostgreSQL upgrades across processes


def open_database(settings: Settings) -> Engine:
    """Connect and migrate the schema to the newest revision (see :func:`upgrade`)."""
    engine = open_engine(settings)
    upgrade(engine)
    return engine


def open_engine(settings: Settings) -> Engine:
    """Connect without touching the schema."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_wal)
        return engine
    return create_engine(url, pool_pre_ping=True)


def schema() -> MetaData:
    """Every table of the runtime's database, as the models define them."""
    # Each module registers its tables; importing them is the point.
    import agents.runtime.leases  # noqa: F401
    import treasury.channels
    import treasury.distribution  # noqa: F401

    return SQLModel.metadata


def upgrade(engine: Engine) -> None:
    """Apply every migration the database lacks, in one transaction.

    A database made by ``create_all`` before migrations existed (tables, no
    ``alembic_version``) is recorded as :data:`BASELINE_REVISION` first, then upgraded.
    Safe to run from several processes at once (PostgreSQL: an advisory lock; SQLite:
    the write lock).
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config = _alembic_config(connection)
        if _made_before_migrations(connection):
            command.stamp(config, BASELINE_REVISION)
        command.upgrade(config, "head")


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _made_before_migrations(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "alembic_version" not in tables and "task" in tables


def _sqlite_wal(connection: Any, _: Any) -> None:
    """WAL with synchronous=NORMAL: a commit survives a killed process (what the task
    state machine relies on) without an fsync per commit; only an OS crash or power
    loss can take back the newest commits. Readers no longer block the writer."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
