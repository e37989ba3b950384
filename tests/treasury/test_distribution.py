"""The distribution job: when it is due, and how it survives a restart (anvil, own database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import contracts.logs
from agents.app.database import open_database
from agents.core.errors import UnknownAgentError
from contracts.accounts import dev_account
from contracts.chain import advance_time
from contracts.client import Chain
from contracts.manifest import Manifest
from contracts.sender import PendingTransaction
from tests.conftest import Deployment, settings_for
from tests.support.flaky_rpc import TIGHT_SCAN, assert_bounded_cover, flaky_rpc
from tests.treasury.support import pay, settings
from treasury.distribution import DistributionJob, DistributionState, DistributionStatus

USDC = 10**6
PERIOD = 3600


@pytest.fixture
def engine(deployment: Deployment, tmp_path: Path) -> Engine:
    return open_database(settings_for(deployment.settings.rpc_url or "", tmp_path))


@pytest.fixture
def manifest(deployment: Deployment) -> Manifest:
    return deployment.result.manifest


def _job(chain: Chain, engine: Engine, manifest: Manifest) -> DistributionJob:
    return DistributionJob(
        chain, engine, manifest, settings(distribution_min_income="5", distribution_period=PERIOD)
    )


def _income(chain: Chain, manifest: Manifest) -> int:
    treasury = chain.contract("AgentTreasury", manifest.agents["scribe"].treasury)
    return int(treasury.functions.totalIncome().call())


def _distributions(chain: Chain, manifest: Manifest) -> int:
    treasury = chain.contract("AgentTreasury", manifest.agents["scribe"].treasury)
    return len(treasury.events.Distributed().get_logs(from_block=0))


def test_nothing_pending_is_not_distributed(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    outcome = _job(chain, engine, manifest).run("scribe")
    assert outcome.status is DistributionStatus.NOTHING_PENDING
    assert _distributions(chain, manifest) == 0


def test_minimum_income_or_period_makes_it_due(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    job = _job(chain, engine, manifest)
    pay(chain, manifest, "scribe", 4 * USDC)
    small = job.run("scribe")
    assert small.status is DistributionStatus.NOT_DUE
    assert "< minimum 5000000" in small.reason
    assert _income(chain, manifest) == 0

    pay(chain, manifest, "scribe", 1 * USDC)  # now 5 USDC: the minimum
    enough = job.run("scribe")
    assert enough.status is DistributionStatus.DISTRIBUTED
    assert enough.income == 5 * USDC
    assert _income(chain, manifest) == 5 * USDC

    pay(chain, manifest, "scribe", 1)  # one unit: due only when the period is over
    assert job.run("scribe").status is DistributionStatus.NOT_DUE
    advance_time(chain.w3, PERIOD - 30)
    assert job.run("scribe").status is DistributionStatus.NOT_DUE
    advance_time(chain.w3, 30)
    late = job.run("scribe")
    assert late.status is DistributionStatus.DISTRIBUTED
    assert late.income == 1
    assert _income(chain, manifest) == 5 * USDC + 1


def test_by_hand_distributes_even_when_not_due(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    pay(chain, manifest, "scribe", 3)
    outcome = _job(chain, engine, manifest).run("scribe", force=True)
    assert outcome.status is DistributionStatus.DISTRIBUTED
    assert outcome.reason == "by hand"
    assert outcome.income == 3


def test_restart_neither_distributes_twice_nor_skips_income(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    first = _job(chain, engine, manifest)
    pay(chain, manifest, "scribe", 10 * USDC)
    assert first.run("scribe").income == 10 * USDC

    # small income arrives; the runtime restarts: a new job on the same database keeps the
    # period running from the last distribution instead of distributing at once
    pay(chain, manifest, "scribe", 2 * USDC)
    restarted = _job(chain, engine, manifest)
    assert restarted.run("scribe").status is DistributionStatus.NOT_DUE
    assert _distributions(chain, manifest) == 1

    advance_time(chain.w3, PERIOD)
    assert restarted.run("scribe").income == 2 * USDC
    assert _income(chain, manifest) == 12 * USDC
    assert _distributions(chain, manifest) == 2


class _CrashError(Exception):
    pass


def test_crash_after_broadcast_is_recorded_not_resent(
    chain: Chain, engine: Engine, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    pay(chain, manifest, "scribe", 10 * USDC)
    crashing = _job(chain, engine, manifest)

    def crash(*_: Any, **__: Any) -> Any:
        raise _CrashError  # the process dies after the transaction left, before its receipt

    monkeypatch.setattr(PendingTransaction, "wait", crash)
    with pytest.raises(_CrashError):
        crashing.run("scribe")
    monkeypatch.undo()
    assert _income(chain, manifest) == 10 * USDC  # anvil mined it
    key = (chain.chain_id, manifest.agents["scribe"].treasury)
    with Session(engine) as session:
        state = session.get(DistributionState, key)
        assert state is not None
        in_flight = state.in_flight_tx
        assert in_flight is not None
        assert state.runs == 0

    # more income, under the minimum: the restarted job records the crashed run, sees the
    # period running from it, and sends nothing
    pay(chain, manifest, "scribe", 1 * USDC)
    restarted = _job(chain, engine, manifest)
    outcome = restarted.run("scribe")
    assert outcome.status is DistributionStatus.NOT_DUE
    assert _distributions(chain, manifest) == 1
    with Session(engine) as session:
        state = session.get(DistributionState, key)
        assert state is not None
        assert state.in_flight_tx is None
        assert state.last_tx == in_flight
        assert state.last_income == str(10 * USDC)
        assert state.runs == 1

    advance_time(chain.w3, PERIOD)
    assert restarted.run("scribe").income == 1 * USDC
    assert _income(chain, manifest) == 11 * USDC


def test_a_signed_but_never_sent_transaction_is_forgotten(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    job = _job(chain, engine, manifest)
    job.run("scribe")  # creates the row
    key = (chain.chain_id, manifest.agents["scribe"].treasury)
    with Session(engine) as session:
        state = session.get(DistributionState, key)
        assert state is not None
        state.in_flight_tx = "0x" + "ab" * 32
        session.add(state)
        session.commit()
    pay(chain, manifest, "scribe", 6 * USDC)
    outcome = _job(chain, engine, manifest).run("scribe")
    assert outcome.status is DistributionStatus.DISTRIBUTED
    assert outcome.income == 6 * USDC


def test_fresh_database_starts_the_period_at_the_last_distribution(
    chain: Chain, engine: Engine, manifest: Manifest, deployment: Deployment, tmp_path: Path
) -> None:
    pay(chain, manifest, "scribe", 10 * USDC)
    _job(chain, engine, manifest).run("scribe")
    pay(chain, manifest, "scribe", 1)
    other = open_database(settings_for(deployment.settings.rpc_url or "", tmp_path / "other"))
    assert _job(chain, other, manifest).run("scribe").status is DistributionStatus.NOT_DUE
    advance_time(chain.w3, PERIOD)
    assert _job(chain, other, manifest).run("scribe").income == 1


def test_run_due_reports_an_unknown_agent_and_goes_on(
    chain: Chain, engine: Engine, manifest: Manifest
) -> None:
    pay(chain, manifest, "scribe", 10 * USDC)
    job = _job(chain, engine, manifest)
    with pytest.raises(UnknownAgentError, match="unknown agent 'nobody'"):
        job.run("nobody")
    failed, done = job.run_due(["nobody", "scribe"])
    assert failed.status is DistributionStatus.FAILED
    assert done.status is DistributionStatus.DISTRIBUTED


def test_a_fresh_database_finds_the_last_distribution_on_a_strained_node(
    chain: Chain,
    engine: Engine,
    manifest: Manifest,
    deployment: Deployment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its scan of ``Distributed`` reads in ranges a public node accepts, with retries."""
    pay(chain, manifest, "scribe", 10 * USDC)
    done = _job(chain, engine, manifest).run("scribe")
    assert done.status is DistributionStatus.DISTRIBUTED
    monkeypatch.setattr(contracts.logs, "DEFAULT_SCAN", TIGHT_SCAN)
    with flaky_rpc(chain.rpc_url) as proxy:
        proxy.max_log_range, proxy.log_failures = 3, 1
        strained = Chain(proxy.url, dev_account(0))
        other = open_database(settings_for(proxy.url, tmp_path / "other"))
        assert _job(strained, other, manifest).run("scribe").status is (
            DistributionStatus.NOTHING_PENDING
        )
        with Session(other) as session:
            (state,) = session.exec(select(DistributionState)).all()
        assert state.last_tx == done.tx
        assert_bounded_cover(proxy, manifest.start_block, strained.w3.eth.block_number)
