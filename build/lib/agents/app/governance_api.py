"""HTTP: an agent's config history (``GET /agents/{name}/config/history``).

The app includes :data:`router` and overrides :func:`get_engine` with its database::

    app.include_router(agents.app.governance_api.router)
    app.dependency_overrides[agents.app.governance_api.get_engine] = lambda: engine
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agents.runtime.records import LaunchedAgent
from dao.history import ConfigHistory, config_history

__all__ = ["EngineDep", "get_engine", "router"]

router = APIRouter(tags=["governance"])


def get_engine() -> Engine:
    """The database engine; the app overrides this dependency."""
    raise HTTPException(status_code=503, detail="config history: no database configured")


EngineDep = Annotated[Engine, Depends(get_engine)]


@router.get(
    "/agents/{name}/config/history",
    response_model=ConfigHistory,
    summary="Every config version of an agent, and whether the runtime accepted it",
)
def get_config_history(name: str, engine: EngineDep) -> ConfigHistory:
    """Each version with what changed, the proposal that made it, its transaction and
    block time, and ``accepted`` or ``rejected`` with the reason; ``live_version`` is the
    one the runtime serves."""
    history = config_history(engine, name)
    if not history.versions:
        with Session(engine) as session:
            launched = session.exec(select(LaunchedAgent).where(LaunchedAgent.name == name)).first()
        if launched is None:
            raise HTTPException(status_code=404, detail=f"unknown agent {name!r}")
    return history
