"""Reading event logs the way public RPC endpoints allow: bounded block ranges, retried.

Every event scan of agentdao goes through :class:`LogScanner`. Public nodes cap
the block range of one ``eth_getLogs`` (often 1,000-10,000 blocks) and drop
requests under load; a scan over a deployment's whole history in one request
fails on them. The scanner splits ``[from_block, to_block]`` into ranges of at
most ``max_block_range`` blocks, retries each RPC call with exponential backoff,
and raises :class:`~agents.core.errors.ChainUnreachableError` when the node stays
down. A range is read completely or the scan fails: it never returns a partial
history.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from web3 import Web3
from web3.contract.contract import ContractEvent
from web3.types import EventData, FilterParams, LogReceipt

from agents.core.errors import ChainUnreachableError

__all__ = [
    "DEFAULT_SCAN",
    "LogScanner",
    "RetryPolicy",
    "ScanPolicy",
    "scan_events",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How long an RPC call is retried before the chain counts as unreachable."""

    attempts: int = 6
    """Tries in all, the first included."""
    first_delay: float = 0.25
    """Seconds before the second try; doubled after each failure."""
    max_delay: float = 4.0
    """Longest wait between two tries."""


@dataclass(frozen=True)
class ScanPolicy:
    """How event scans read the chain."""

    max_block_range: int = 2000
    """Most blocks one ``eth_getLogs`` covers (inclusive range)."""
    retry: RetryPolicy = RetryPolicy()
    """Backoff for each RPC call of a scan."""


DEFAULT_SCAN = ScanPolicy()
"""The policy :func:`scan_events` uses when given none."""


class LogScanner:
    """Reads one chain's logs in bounded ranges, retrying each call.

    Args:
        w3: The connection to read with (read only: no key needed).
        policy: Range bound and retries; :data:`DEFAULT_SCAN` when omitted.
    """

    def __init__(self, w3: Web3, policy: ScanPolicy | None = None) -> None:
        self.w3 = w3
        self.policy = policy or DEFAULT_SCAN
        if self.policy.max_block_range < 1:
            raise ValueError("max_block_range must be at least 1")

    @property
    def rpc_url(self) -> str:
        """The endpoint, for error messages."""
        return str(getattr(self.w3.provider, "endpoint_uri", None) or "the chain")

    def call(self, read: Callable[[], T]) -> T:
        """Run one RPC call, retried with backoff.

        Raises:
            ChainUnreachableError: every attempt failed; the last failure is the reason.
        """
        retry = self.policy.retry
        delay = retry.first_delay
        for attempt in range(1, retry.attempts + 1):
            try:
                return read()
            except Exception as exc:  # transport, HTTP and JSON-RPC errors alike
                if attempt >= retry.attempts:
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise ChainUnreachableError(self.rpc_url, reason) from exc
                log.info("RPC failed (%s), attempt %d; retrying", exc, attempt)
                time.sleep(delay)
                delay = min(delay * 2, retry.max_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def head(self) -> int:
        """The latest block number."""
        return self.call(lambda: int(self.w3.eth.block_number))

    def ranges(self, from_block: int, to_block: int) -> Iterator[tuple[int, int]]:
        """``[start, end]`` pairs covering ``from_block..to_block`` in order, each at most
        ``max_block_range`` blocks long; none when ``from_block > to_block``."""
        start = max(from_block, 0)
        while start <= to_block:
            end = min(to_block, start + self.policy.max_block_range - 1)
            yield start, end
            start = end + 1

    def logs(
        self,
        address: str | Sequence[str],
        topics: Sequence[Any],
        from_block: int = 0,
        to_block: int | None = None,
    ) -> list[LogReceipt]:
        """Raw logs of ``address`` matching ``topics``, oldest first.

        ``to_block`` defaults to the head when the scan starts (read once, so every
        range is a fixed one).
        """
        end = self.head() if to_block is None else to_block
        addresses = [address] if isinstance(address, str) else list(address)
        found: list[LogReceipt] = []
        for start, stop in self.ranges(from_block, end):
            params: FilterParams = {
                "address": [Web3.to_checksum_address(a) for a in addresses],
                "fromBlock": start,
                "toBlock": stop,
                "topics": list(topics),
            }

            def read(p: FilterParams = params) -> list[LogReceipt]:
                return list(self.w3.eth.get_logs(p))

            found += self.call(read)
        return found

    def events(
        self,
        event: ContractEvent,
        from_block: int = 0,
        to_block: int | None = None,
        argument_filters: dict[str, Any] | None = None,
    ) -> list[EventData]:
        """Decoded events of one contract event, oldest first (block, then log index)."""
        end = self.head() if to_block is None else to_block
        found: list[EventData] = []
        for start, stop in self.ranges(from_block, end):

            def read(a: int = start, b: int = stop) -> list[EventData]:
                return list(
                    event.get_logs(from_block=a, to_block=b, argument_filters=argument_filters)
                )

            found += self.call(read)
        return found


def scan_events(
    event: ContractEvent,
    from_block: int = 0,
    to_block: int | None = None,
    *,
    argument_filters: dict[str, Any] | None = None,
    policy: ScanPolicy | None = None,
) -> list[EventData]:
    """Every ``event`` its contract emitted from ``from_block`` to ``to_block`` (default:
    the head), oldest first, read in bounded ranges with retries.

    ``policy`` defaults to the module's :data:`DEFAULT_SCAN` at call time.

    Raises:
        ChainUnreachableError: the node failed a range past the retry policy.
    """
    return LogScanner(event.w3, policy or DEFAULT_SCAN).events(
        event, from_block, to_block, argument_filters
    )
