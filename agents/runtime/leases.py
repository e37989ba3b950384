"""Leases on periodic jobs, so that one replica runs each job (several runtime processes,
on one machine or many, share one database), and so that a replica's tasks are left
alone while it lives (its own lease, ``replica:<holder>``, renewed every few seconds).

A lease is a row: the job's name, who holds it, until when. Taking it is one
conditional write (free, expired, or already ours), so two replicas can never both
hold a live lease; a replica that dies simply stops renewing, and another takes the
job over once the lease expires. Jobs that keep per-process state (the config sync
that updates each process's live configs) do not take leases.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from agents.core.database import session_scope

__all__ = ["JobLease", "Leases"]


class JobLease(SQLModel, table=True):
    """Who runs a periodic job, until when."""

    __tablename__ = "job_lease"

    job: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    """The replica holding it: host, process id and a per-process random id."""
    expires_at: datetime


class Leases:
    """This process's leases on the database's periodic jobs."""

    def __init__(self, engine: Engine, holder: str | None = None) -> None:
        self.engine = engine
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def take(self, job: str, seconds: float) -> bool:
        """Hold ``job`` for the next ``seconds`` if it is free, expired or ours already.

        Blocking (one write): call from a worker thread.
        """
        now = datetime.now(UTC)
        until = now + timedelta(seconds=seconds)
        with session_scope(self.engine) as session:
            taken = session.execute(
                update(JobLease)
                .where(JobLease.job == job)  # type: ignore[arg-type]
                .where(or_(JobLease.holder == self.holder, JobLease.expires_at < now))  # type: ignore[arg-type]
                .values(holder=self.holder, expires_at=until)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
        try:
            with session_scope(self.engine) as session:
                session.add(JobLease(job=job, holder=self.holder, expires_at=until))
            return True
        except IntegrityError:  # held by a live replica
            return False

    def holders(self, prefix: str) -> set[str]:
        """Who holds a live lease on a job whose name starts with ``prefix``.

        A holder on this machine whose process is gone holds nothing, however long its
        lease still runs: a process restarted after ``kill -9`` resolves what its
        predecessor left at once instead of waiting for the lease to lapse.
        """
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            rows = session.exec(
                select(JobLease.holder).where(
                    col(JobLease.job).startswith(prefix), col(JobLease.expires_at) >= now
                )
            ).all()
        return {holder for holder in rows if not _gone_here(holder)}

    def release(self, job: str) -> None:
        """Give ``job`` up now (a clean stop), so another replica takes it at once."""
        with session_scope(self.engine) as session:
            session.execute(
                update(JobLease)
                .where(JobLease.job == job, JobLease.holder == self.holder)  # type: ignore[arg-type]
                .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
            )


def _gone_here(holder: str) -> bool:
    """True if ``holder`` (``host:pid:random``) names a process of this machine that no
    longer runs."""
    parts = holder.split(":")
    if len(parts) < 3 or ":".join(parts[:-2]) != socket.gethostname():
        return False
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False
