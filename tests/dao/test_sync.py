"""The chain sync on anvil: idempotent, persistent, reorg-safe, outage-proof."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from eth_abi.abi import encode as abi_encode
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web3 import Web3

from agents.core.errors import ChainUnreachableError
from agents.core.live_config import LiveConfig
from contracts.accounts import dev_account
from contracts.client import Chain
from dao.changes import ConfigCall
from dao.governor import Action
from dao.history import ConfigVersion, VersionStatus, config_history
from dao.sync import ConfigSync, RetryPolicy, SyncCursor
from tests.conftest import Deployment
from tests.dao.conftest import DictSink, pass_proposal, pass_proposal_actions
from tests.support.flaky_rpc import FlakyRpc, flaky_rpc

FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)


@pytest.fixture
def flaky(anvil_url: str) -> Iterator[FlakyRpc]:
    with flaky_rpc(anvil_url) as proxy:
        yield proxy


def _sync(
    url: str,
    deployment: Deployment,
    engine: Engine,
    sink: DictSink,
    *,
    confirmations: int = 0,
    retry: RetryPolicy | None = None,
) -> ConfigSync:
    return ConfigSync(
        url,
        engine,
        deployment.result.manifest.agents,
        sink,
        confirmations=confirmations,
        retry=retry or FAST_RETRY,
    )


def _price(price: int) -> list[ConfigCall]:
    return [ConfigCall("setSkillPrice", ("summarize", price))]


def _versions(engine: Engine, agent: str = "scribe") -> list[int]:
    return [v.version for v in config_history(engine, agent).versions]


def test_polling_twice_stores_one_row_and_a_new_instance_resumes_from_the_cursor(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink
) -> None:
    sync = _sync(chain.rpc_url, deployment, engine, sink)
    first = sync.poll_once()
    assert sorted((a.agent, a.version) for a in first) == [("auditor", 1), ("scribe", 1)]
    assert sync.poll_once() == []
    receipt = pass_proposal(chain, deployment, _price(70_000), "price 0.07")
    assert [(a.version, a.block_number) for a in sync.poll_once()] == [(2, receipt["blockNumber"])]
    assert sync.poll_once() == []
    assert _versions(engine) == [1, 2]

    with Session(engine) as session:
        cursors = session.exec(select(SyncCursor)).all()
    assert {c.agent for c in cursors} == {"scribe", "auditor"}
    assert all(c.block_number == chain.w3.eth.block_number for c in cursors)

    fresh_sink = DictSink()
    again = _sync(chain.rpc_url, deployment, engine, fresh_sink)
    assert again.poll_once() == []
    assert fresh_sink.received == []

    # Re-reading every block from the start changes nothing either.
    with Session(engine) as session:
        for cursor in session.exec(select(SyncCursor)).all():
            cursor.block_number, cursor.block_hash = -1, ""
            session.add(cursor)
        session.commit()
    assert _sync(chain.rpc_url, deployment, engine, fresh_sink).poll_once() == []
    assert fresh_sink.received == []
    with Session(engine) as session:
        assert len(session.exec(select(ConfigVersion)).all()) == 3  # scribe v1, v2; auditor v1


def test_poll_with_no_new_block_costs_one_rpc_call(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink, flaky: FlakyRpc
) -> None:
    sync = _sync(flaky.url, deployment, engine, sink)
    sync.poll_once()
    before = flaky.forwarded
    assert sync.poll_once() == []
    assert flaky.forwarded == before + 1


def test_rpc_outage_then_recovery_misses_no_version(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink, flaky: FlakyRpc
) -> None:
    dead = _sync("http://127.0.0.1:9", deployment, engine, sink)
    with pytest.raises(
        ChainUnreachableError, match=re.escape("cannot reach the chain at http://127.0.0.1:9")
    ):
        dead.poll_once()
    assert _versions(engine) == []

    sync = _sync(flaky.url, deployment, engine, sink)
    sync.poll_once()
    pass_proposal(chain, deployment, _price(70_000), "price 0.07")
    flaky.down = True
    with pytest.raises(ChainUnreachableError):
        sync.poll_once()
    assert flaky.refused == FAST_RETRY.attempts
    assert _versions(engine) == [1]
    assert sink.live["scribe"].version == 1

    pass_proposal(chain, deployment, _price(80_000), "price 0.08")  # while the sync is cut off
    flaky.down = False
    applied = sync.poll_once()
    assert [a.version for a in applied] == [2, 3]
    assert _versions(engine) == [1, 2, 3]
    assert sink.live["scribe"].skill("summarize").price == 80_000  # type: ignore[union-attr]


def test_node_back_during_backoff_is_retried_within_one_poll(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink, flaky: FlakyRpc
) -> None:
    sync = _sync(
        flaky.url, deployment, engine, sink, retry=RetryPolicy(attempts=8, first_delay=0.05)
    )
    sync.poll_once()
    pass_proposal(chain, deployment, _price(70_000), "price 0.07")
    flaky.down = True
    threading.Timer(0.3, lambda: setattr(flaky, "down", False)).start()
    applied = sync.poll_once()
    assert flaky.refused >= 2
    assert [a.version for a in applied] == [2]


def test_reorg_under_the_cursor_rewinds_and_takes_the_version_back(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink
) -> None:
    provider = chain.w3.provider
    sync = _sync(chain.rpc_url, deployment, engine, sink)
    sync.poll_once()
    snapshot = provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    receipt = pass_proposal(chain, deployment, _price(70_000), "price 0.07")
    sync.poll_once()
    assert sink.live["scribe"].version == 2

    provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    head = chain.w3.eth.block_number
    provider.make_request("anvil_mine", [receipt["blockNumber"] - head + 2])  # type: ignore[arg-type]
    assert chain.w3.eth.get_block(receipt["blockNumber"])["hash"] != receipt["blockHash"]
    sync.poll_once()
    assert _versions(engine) == [1]
    assert sink.live["scribe"].version == 1
    assert sink.live["scribe"].skill("summarize").price == 50_000  # type: ignore[union-attr]

    pass_proposal(chain, deployment, _price(90_000), "price 0.09")
    sync.poll_once()
    assert _versions(engine) == [1, 2]
    assert sink.live["scribe"].skill("summarize").price == 90_000  # type: ignore[union-attr]


def test_confirmation_depth_holds_a_version_back_until_buried(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink
) -> None:
    sync = _sync(chain.rpc_url, deployment, engine, sink, confirmations=3)
    sync.poll_once()
    pass_proposal(chain, deployment, _price(70_000), "price 0.07")
    assert sync.poll_once() == []
    chain.w3.provider.make_request("anvil_mine", [2])  # type: ignore[arg-type]
    assert sync.poll_once() == []
    chain.w3.provider.make_request("anvil_mine", [1])  # type: ignore[arg-type]
    assert [a.version for a in sync.poll_once()] == [2]


def test_a_sink_that_raises_marks_the_version_rejected(
    deployment: Deployment, chain: Chain, engine: Engine
) -> None:
    def broken(agent: str, live: LiveConfig) -> str | None:
        if live.version > 1:
            raise RuntimeError("boom")
        return None

    sync = ConfigSync(chain.rpc_url, engine, deployment.result.manifest.agents, broken)
    sync.poll_once()
    pass_proposal(chain, deployment, _price(70_000), "price 0.07")
    [applied] = sync.poll_once()
    assert applied.status == VersionStatus.REJECTED
    assert applied.reason == "the runtime failed to apply it: RuntimeError: boom"
    assert config_history(engine, "scribe").live_version == 1


def test_a_sync_stopped_while_a_proposal_executes_applies_it_on_restart(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink
) -> None:
    _sync(chain.rpc_url, deployment, engine, sink).poll_once()  # then the runtime stops
    pass_proposal(chain, deployment, _price(70_000), "price 0.07")
    restarted = DictSink()
    applied = _sync(chain.rpc_url, deployment, engine, restarted).poll_once()
    assert [(a.agent, a.version) for a in applied] == [("scribe", 2)]
    assert restarted.received == [("scribe", 2)]  # v1 was already recorded: not handed again
    assert restarted.live["scribe"].skill("summarize").price == 70_000  # type: ignore[union-attr]


def test_a_guardian_pause_reaches_the_sink_with_the_content_unchanged(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink
) -> None:
    """``PauseChanged`` carries only the flag: the sync applies it to the version before,
    and its hash is the contract's own."""
    sync = _sync(chain.rpc_url, deployment, engine, sink)
    sync.poll_once()
    first = sink.live["scribe"]
    addresses = deployment.result.manifest.agents["scribe"]
    config = chain.contract("AgentConfig", addresses.config)
    chain.send(config.functions.pause(), dev_account(9))  # agents.yaml: guardian dev:9
    (applied,) = sync.poll_once()
    assert applied.version == 2
    live = sink.live["scribe"]
    assert live.paused
    assert live.config_hash == Web3.to_hex(config.functions.configHash().call())
    assert live.config_hash != first.config_hash
    assert live.content_hash == first.content_hash
    assert live.skills == first.skills

    receipt = pass_proposal(chain, deployment, [ConfigCall("setPaused", (False,))], "resume")
    (resumed,) = sync.poll_once()
    assert resumed.block_number == receipt["blockNumber"]
    assert not sink.live["scribe"].paused
    assert sink.live["scribe"].config_hash == first.config_hash


def test_an_unreadable_version_is_rejected_and_a_later_pause_still_stops_the_agent(
    deployment: Deployment, chain: Chain, engine: Engine, sink: DictSink
) -> None:
    """A passed proposal may write bytes AgentConfig accepts but the runtime cannot read (a
    prompt that is not UTF-8). The sync records that version as rejected, keeps the last good
    config, moves on, and the guardian's pause after it still reaches the runtime."""
    agents = deployment.result.manifest.agents
    sync = _sync(chain.rpc_url, deployment, engine, sink)
    sync.poll_once()
    good = sink.live["scribe"]
    config = chain.contract("AgentConfig", agents["scribe"].config)
    calldata = bytearray(
        Web3.keccak(text="setSystemPrompt(string)")[:4] + abi_encode(["string"], ["You help."])
    )
    calldata[4 + 64] = 0xFF  # the first byte of the string: not UTF-8
    receipt = pass_proposal_actions(
        chain, deployment, [Action(target=config.address, calldata=bytes(calldata))], "tweak"
    )
    chain.send(config.functions.pause(), dev_account(9))  # the guardian's emergency stop

    applied = sync.poll_once()
    assert [(a.version, a.status) for a in applied] == [
        (2, VersionStatus.REJECTED),
        (3, VersionStatus.ACCEPTED),
    ]
    assert "cannot read" in (applied[0].reason or "")
    assert applied[0].block_number == receipt["blockNumber"]
    live = sink.live["scribe"]
    assert live.paused
    assert live.system_prompt == good.system_prompt  # the last good content, paused
    assert live.config_hash == Web3.to_hex(config.functions.configHash().call())
    # the other agent's cursor moved past the bad block too
    with Session(engine) as session:
        cursors = {c.agent: c.block_number for c in session.exec(select(SyncCursor)).all()}
    assert cursors["auditor"] >= receipt["blockNumber"]
