"""The log scanner: bounded ranges, retries with backoff, the whole history or an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web3 import Web3

from agents.core.errors import ChainUnreachableError
from contracts.chain import EmbeddedChain
from contracts.logs import LogScanner, RetryPolicy, ScanPolicy, scan_events
from contracts.manifest import Manifest
from tests.conftest import Deployment
from tests.support.flaky_rpc import TIGHT_SCAN, assert_bounded_cover, flaky_rpc

QUICK = RetryPolicy(attempts=4, first_delay=0.001, max_delay=0.002)


def test_ranges_cover_the_span_in_bounded_steps() -> None:
    scanner = LogScanner(Web3(), ScanPolicy(max_block_range=3))
    assert list(scanner.ranges(0, 7)) == [(0, 2), (3, 5), (6, 7)]
    assert list(scanner.ranges(5, 5)) == [(5, 5)]
    assert list(scanner.ranges(6, 5)) == []
    with pytest.raises(ValueError, match="at least 1"):
        LogScanner(Web3(), ScanPolicy(max_block_range=0))


def _failing(times: int) -> tuple[Callable[[], str], list[int]]:
    calls: list[int] = []

    def read() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise ConnectionError(f"refused #{len(calls)}")
        return "ok"

    return read, calls


def test_a_call_is_retried_until_it_answers() -> None:
    read, calls = _failing(3)
    assert LogScanner(Web3(), ScanPolicy(retry=QUICK)).call(read) == "ok"
    assert len(calls) == 4


def test_a_node_that_stays_down_is_one_unreachable_error() -> None:
    read, calls = _failing(10)
    with pytest.raises(ChainUnreachableError, match="refused #4"):
        LogScanner(Web3(), ScanPolicy(retry=QUICK)).call(read)
    assert len(calls) == QUICK.attempts


def test_events_over_a_strained_node_equal_one_unbounded_read(
    anvil: EmbeddedChain, deployment: Deployment
) -> None:
    """A node that refuses ranges over 3 blocks and fails every request once: the scan
    still returns exactly what one unbounded ``eth_getLogs`` returns."""
    manifest: Manifest = deployment.result.manifest
    assert manifest.payment_token is not None
    direct = deployment.chain.contract("MockUSDC", manifest.payment_token)
    expected = list(direct.events.Transfer().get_logs(from_block=0))
    head = deployment.chain.w3.eth.block_number
    assert head > 3
    assert len(expected) > 3
    with flaky_rpc(anvil.rpc_url) as proxy:
        proxy.max_log_range, proxy.log_failures = 3, 1
        w3 = Web3(Web3.HTTPProvider(proxy.url, exception_retry_configuration=None))
        usdc = w3.eth.contract(address=direct.address, abi=direct.abi)
        found = scan_events(usdc.events.Transfer(), 0, head, policy=TIGHT_SCAN)
        assert [(e["blockNumber"], e["logIndex"]) for e in found] == [
            (e["blockNumber"], e["logIndex"]) for e in expected
        ]
        assert [dict(e["args"]) for e in found] == [dict(e["args"]) for e in expected]
        assert_bounded_cover(proxy, 0, head)
        assert proxy.refused >= len(proxy.log_ranges)  # every range failed once first

        proxy.log_ranges.clear()
        topic = Web3.keccak(text="Transfer(address,address,uint256)")
        raw = LogScanner(w3, TIGHT_SCAN).logs(direct.address, [topic], 0, head)
        assert [(e["blockNumber"], e["logIndex"]) for e in raw] == [
            (e["blockNumber"], e["logIndex"]) for e in expected
        ]
        assert_bounded_cover(proxy, 0, head)


def test_a_range_the_node_keeps_refusing_fails_the_scan(
    anvil: EmbeddedChain, deployment: Deployment
) -> None:
    """No partial history: a range that never answers is an error, not a gap."""
    manifest = deployment.result.manifest
    assert manifest.payment_token is not None
    with flaky_rpc(anvil.rpc_url) as proxy:
        proxy.log_failures = 10
        w3 = Web3(Web3.HTTPProvider(proxy.url, exception_retry_configuration=None))
        usdc = w3.eth.contract(
            address=Web3.to_checksum_address(manifest.payment_token),
            abi=deployment.chain.contract("MockUSDC", manifest.payment_token).abi,
        )
        with pytest.raises(ChainUnreachableError, match=proxy.url):
            scan_events(usdc.events.Transfer(), 0, policy=TIGHT_SCAN)
