"""Alembic migrations of the runtime's database; :func:`agents.app.database.open_database`
applies them (``upgrade head``). A new revision: ``alembic -c agents/app/migrations/alembic.ini
revision --autogenerate -m "what changed"`` with ``AGENTDAO_DATABASE_URL`` (or the default
SQLite) at head."""
