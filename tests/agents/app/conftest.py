"""The app's CLI tests drive governance like the dao tests do: the same fixtures."""

from tests.dao.conftest import anvil_url, cli_env, engine, sink

__all__ = ["anvil_url", "cli_env", "engine", "sink"]
