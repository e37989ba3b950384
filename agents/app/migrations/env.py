"""Alembic's entry point: migrate the connection the runtime hands over, or (from the
alembic command line) the database the settings name."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from agents.app.database import open_engine, schema


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=schema(),
        render_as_batch=True,  # SQLite alters a table by copying it
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    from agents.core.settings import Settings

    with open_engine(Settings.load()).begin() as own:
        _migrate(own)


_main()
