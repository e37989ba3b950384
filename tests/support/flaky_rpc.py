"""A JSON-RPC proxy in front of anvil that behaves like a strained public endpoint.

It can be switched off (every request answers 503), refuse ``eth_getLogs`` over
more blocks than a public node allows, and fail the first attempts of each
distinct ``eth_getLogs`` request, so tests prove a scan reads in bounded ranges
and retries.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from contracts.logs import RetryPolicy, ScanPolicy

__all__ = ["TIGHT_SCAN", "FlakyRpc", "assert_bounded_cover", "flaky_rpc"]


class FlakyRpc:
    """The proxy; its settings may change while it runs.

    Attributes:
        down: Answer every request with HTTP 503.
        max_log_range: Refuse (JSON-RPC error -32005) an ``eth_getLogs`` spanning more
            blocks; None: no limit.
        log_failures: How many times each distinct ``eth_getLogs`` request fails (503)
            before it is forwarded.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.down = False
        self.hang = 0.0
        """Seconds every request waits before it is answered (a blackholed node)."""
        self.max_log_range: int | None = None
        self.log_failures = 0
        self.forwarded = 0
        self.refused = 0
        self.log_ranges: list[tuple[int, int]] = []
        """Every ``eth_getLogs`` range forwarded, in order."""
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if proxy.hang:  # a node that accepts and then takes its time
                    time.sleep(proxy.hang)
                status, reply = proxy._answer(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, body: bytes) -> tuple[int, bytes]:
        if self.down:
            with self._lock:
                self.refused += 1
            return 503, b""
        request = json.loads(body)
        if isinstance(request, dict) and request.get("method") == "eth_getLogs":
            refusal = self._check_logs(request, body)
            if refusal is not None:
                return refusal
        with self._lock:
            self.forwarded += 1
        reply = httpx.post(
            self.upstream, content=body, headers={"Content-Type": "application/json"}
        )
        return 200, reply.content

    def _check_logs(self, request: dict[str, Any], body: bytes) -> tuple[int, bytes] | None:
        params = request["params"][0]
        start = self._block(params.get("fromBlock", "earliest"))
        end = self._block(params.get("toBlock", "latest"))
        key = json.dumps(params, sort_keys=True)
        with self._lock:
            self._attempts[key] += 1
            if self._attempts[key] <= self.log_failures:
                self.refused += 1
                return 503, b""
        if self.max_log_range is not None and end - start + 1 > self.max_log_range:
            error = {"code": -32005, "message": f"block range > {self.max_log_range}"}
            reply = {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
            return 200, json.dumps(reply).encode()
        with self._lock:
            self.log_ranges.append((start, end))
        return None

    def _block(self, tag: str) -> int:
        if tag == "earliest":
            return 0
        if tag.startswith("0x"):
            return int(tag, 16)
        reply = httpx.post(
            self.upstream,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
        )
        return int(reply.json()["result"], 16)


@contextmanager
def flaky_rpc(upstream: str) -> Iterator[FlakyRpc]:
    """A proxy in front of ``upstream``, healthy until the caller says otherwise."""
    proxy = FlakyRpc(upstream)
    try:
        yield proxy
    finally:
        proxy.close()


TIGHT_SCAN = ScanPolicy(
    max_block_range=3, retry=RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)
)
"""A scan policy smaller than any deployment's span, with quick retries."""


def assert_bounded_cover(proxy: FlakyRpc, start: int, end: int, span: int = 3) -> None:
    """The proxy saw ``eth_getLogs`` ranges of at most ``span`` blocks that cover
    ``start..end`` (once each, in order) for at least one scan."""
    ranges = proxy.log_ranges
    assert ranges, "no eth_getLogs reached the node"
    assert all(b - a + 1 <= span for a, b in ranges), ranges
    assert (start, min(end, start + span - 1)) in ranges
    assert any(b == end for _, b in ranges)
