"""Job leases: one holder at a time, handed over when it expires or is released."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from agents.app.database import open_database
from agents.core.settings import Settings
from agents.runtime.leases import Leases
from tests.support.postgres import postgres_url  # noqa: F401  (a fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return open_database(Settings(home=tmp_path))
    url = request.getfixturevalue("postgres_url")
    return open_database(Settings(home=tmp_path, database_url=url))


def test_a_live_lease_has_one_holder_who_renews_it(engine: Engine) -> None:
    first, second = Leases(engine, "first"), Leases(engine, "second")
    assert first.take("claims", 60)
    assert not second.take("claims", 60)
    assert first.take("claims", 60)  # renewed by its holder
    assert second.take("earnings", 60)  # another job is another lease


def test_an_expired_lease_passes_to_another_replica(engine: Engine) -> None:
    dead, alive = Leases(engine, "dead"), Leases(engine, "alive")
    assert dead.take("claims", -1)  # already expired: its holder stopped renewing
    assert alive.take("claims", 60)
    assert not dead.take("claims", 60)


def test_a_released_lease_is_free_at_once(engine: Engine) -> None:
    leaving, staying = Leases(engine, "leaving"), Leases(engine, "staying")
    assert leaving.take("claims", 60)
    leaving.release("claims")
    assert staying.take("claims", 60)
    staying.release("other-job")  # releasing what one does not hold changes nothing
    assert not leaving.take("claims", 60)


@pytest.mark.parametrize("expired", [False, True], ids=["free", "expired"])
def test_replicas_racing_for_a_lease_get_one_winner(engine: Engine, expired: bool) -> None:
    if expired:
        assert Leases(engine, "dead").take("claims", -1)
    replicas = [Leases(engine, f"replica-{i}") for i in range(8)]
    barrier = threading.Barrier(len(replicas))
    winners: list[str] = []

    def race(leases: Leases) -> None:
        barrier.wait()
        if leases.take("claims", 60):
            winners.append(leases.holder)

    threads = [threading.Thread(target=race, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_a_holder_whose_process_died_here_holds_nothing(engine: Engine) -> None:
    """A process killed with SIGKILL leaves a live lease; on its own machine, its
    successor sees at once that the process is gone."""
    import socket
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_here = f"{socket.gethostname()}:{int(gone.stdout)}:abcd1234"
    elsewhere = "another-machine:1:abcd1234"
    for holder in (dead_here, elsewhere):
        assert Leases(engine, holder).take(f"replica:{holder}", 60)
    alive = Leases(engine)
    assert alive.take(f"replica:{alive.holder}", 60)
    assert alive.holders("replica:") == {elsewhere, alive.holder}
