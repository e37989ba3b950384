"""How every ``agentdao`` command reports failure: one clear line, exit code 1."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer

from agents.core.errors import AgentDaoError

__all__ = ["one_line_errors"]

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(command: F) -> F:
    """Print an AgentDaoError as ``error: ...`` (continuation lines indented) and
    exit 1, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AgentDaoError as exc:
            lines = str(exc).splitlines() or [type(exc).__name__]
            typer.echo(f"error: {lines[0]}", err=True)
            for line in lines[1:]:
                typer.echo(f"       {line}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
