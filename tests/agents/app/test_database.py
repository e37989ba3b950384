"""The runtime's database: Alembic migrations make the schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from agents.app.database import MIGRATIONS, open_database, schema
from agents.core.settings import Settings
from tests.support.postgres import postgres_url  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[3]


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _assert_migrated(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == _head()
        assert compare_metadata(context, schema()) == []


def _refuse_create_all(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("create_all: the schema must come from the migrations")

    monkeypatch.setattr(MetaData, "create_all", refuse)


def test_sqlite_is_migrated_to_head_and_matches_the_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_create_all(monkeypatch)
    engine = open_database(Settings(home=tmp_path))
    _assert_migrated(engine)
    open_database(Settings(home=tmp_path))  # a second open changes nothing
    _assert_migrated(engine)


def test_postgres_is_migrated_to_head_and_matches_the_models(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refuse_create_all(monkeypatch)
    engine = open_database(Settings(home=tmp_path, database_url=postgres_url))
    _assert_migrated(engine)
    engine.dispose()


ADDED_BY_MIGRATIONS = {"payment_channel", "job_lease"}
"""Tables that revisions after the baseline create (a database made before migrations
cannot have them)."""
COLUMNS_ADDED_BY_MIGRATIONS = [("task", "scheme"), ("task", "owner")]


def test_a_database_made_before_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    """``create_all`` made the tables (the baseline's schema, no ``alembic_version``): the
    first open records the baseline and keeps every row."""
    settings = Settings(home=tmp_path)
    legacy = create_engine(settings.resolved_database_url)
    baseline = [t for t in schema().sorted_tables if t.name not in ADDED_BY_MIGRATIONS]
    SQLModel.metadata.create_all(legacy, tables=baseline)
    with legacy.begin() as connection:  # and without the columns later revisions add
        for table, column in COLUMNS_ADDED_BY_MIGRATIONS:
            connection.execute(text(f"DROP INDEX IF EXISTS ix_{table}_{column}"))
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    with legacy.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sync_cursor (chain_id, contract, agent, block_number, block_hash,"
                " updated_at) VALUES (1, '0xc0', 'scribe', 7, '0xb7', '2026-01-01 00:00:00')"
            )
        )
    legacy.dispose()
    engine = open_database(settings)
    _assert_migrated(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT block_number FROM sync_cursor")).scalar() == 7


def test_the_built_package_ships_the_migrations(tmp_path: Path) -> None:
    """An installed agentdao (not this checkout) finds its migration scripts."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("agentdao-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = "agents/app/migrations/"
    scripts = ["versions/0001_initial_schema.py", "versions/0003_task_scheme.py"]
    for script in ["env.py", "script.py.mako", *scripts]:
        assert migrations + script in names
