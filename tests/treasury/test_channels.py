"""The batch-settlement channel store: a compare-and-set write that no race loses."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from x402.mechanisms.evm.batch_settlement.server.storage import Channel, PendingRequest
from x402.mechanisms.evm.batch_settlement.types import ChannelConfig

from agents.app.database import open_database
from agents.core.settings import Settings
from tests.support.postgres import postgres_url  # noqa: F401  (a fixture)
from treasury.channels import ChannelStore

TREASURY = "0x" + "7" * 40
OTHER_TREASURY = "0x" + "8" * 40
CHANNEL = "0x" + "ab" * 32


def _channel(charged: int = 0) -> Channel:
    config = ChannelConfig(
        payer="0x" + "1" * 40,
        payer_authorizer="0x" + "1" * 40,
        receiver=TREASURY,
        receiver_authorizer="0x" + "2" * 40,
        token="0x" + "3" * 40,
        withdraw_delay=900,
        salt="0x" + "00" * 32,
    )
    return Channel(
        channel_id=CHANNEL, channel_config=config, charged_cumulative_amount=str(charged)
    )


def _charge(by: int):  # type: ignore[no-untyped-def]
    def update(current: Channel | None) -> Channel | None:
        following = current.copy() if current is not None else _channel()
        following.charged_cumulative_amount = str(int(following.charged_cumulative_amount) + by)
        return following

    return update


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return open_database(Settings(home=tmp_path))
    url = request.getfixturevalue("postgres_url")
    return open_database(Settings(home=tmp_path, database_url=url))


def test_a_channel_is_created_read_changed_and_deleted(engine: Engine) -> None:
    store = ChannelStore(engine, TREASURY)
    assert store.get(CHANNEL) is None
    created = store.update_channel(CHANNEL, _charge(5))
    assert created.status == "updated"
    assert store.get(CHANNEL.upper().replace("0X", "0x")) is not None  # ids are case-blind
    assert store.get(CHANNEL).charged_cumulative_amount == "5"  # type: ignore[union-attr]
    unchanged = store.update_channel(CHANNEL, lambda current: current)
    assert unchanged.status == "unchanged"
    assert store.update_channel(CHANNEL, lambda _: None).status == "deleted"
    assert store.get(CHANNEL) is None
    assert store.list() == []


def test_every_field_x402_keeps_survives_a_round_trip(engine: Engine) -> None:
    store = ChannelStore(engine, TREASURY)
    channel = _channel(7)
    channel.signature = "0x" + "cd" * 65
    channel.pending_request = PendingRequest("p1", "9", 123)
    channel.onchain_synced_at = 456
    store.update_channel(CHANNEL, lambda _: channel)
    assert store.get(CHANNEL).to_dict() == channel.to_dict()  # type: ignore[union-attr]


def test_concurrent_charges_are_all_kept(engine: Engine) -> None:
    """Forty writers, each adding 1 through its own read-modify-write: a lost update
    (two writers reading the same version) would leave less than 40."""
    store = ChannelStore(engine, TREASURY)
    store.update_channel(CHANNEL, _charge(0))
    barrier = threading.Barrier(8)

    def writer() -> None:
        barrier.wait()
        for _ in range(5):
            store.update_channel(CHANNEL, _charge(1))

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get(CHANNEL).charged_cumulative_amount == "40"  # type: ignore[union-attr]


def test_only_one_of_two_racing_reservations_wins(engine: Engine) -> None:
    """Two replicas reserve the same channel at once: x402's update refuses a channel
    whose pending request is live, so exactly one reservation may land."""
    store = ChannelStore(engine, TREASURY)
    store.update_channel(CHANNEL, _charge(0))
    barrier = threading.Barrier(2)
    won: list[str] = []

    def reserve(name: str) -> None:
        def update(current: Channel | None) -> Channel | None:
            assert current is not None
            if current.pending_request is not None:
                return current
            following = current.copy()
            following.pending_request = PendingRequest(name, "1", 2**62)
            return following

        barrier.wait()
        if store.update_channel(CHANNEL, update).status == "updated":
            won.append(name)

    threads = [threading.Thread(target=reserve, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert store.get(CHANNEL).pending_request.pending_id == won[0]  # type: ignore[union-attr]


def test_a_store_sees_only_its_receivers_channels(engine: Engine) -> None:
    ours, theirs = ChannelStore(engine, TREASURY), ChannelStore(engine, OTHER_TREASURY)
    ours.update_channel(CHANNEL, _charge(1))
    assert theirs.get(CHANNEL) is None
    assert theirs.list() == []
    assert [c.channel_id for c in ours.list()] == [CHANNEL]
    with pytest.raises(ValueError, match="pays"):
        theirs.update_channel(CHANNEL, _charge(1))
