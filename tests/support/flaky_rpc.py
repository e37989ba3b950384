"""A JSON-RPC proxy in front of anvil that can be switched off, to play a chain outage."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

__all__ = ["FlakyRpc"]


class FlakyRpc:
    """Forwards JSON-RPC POSTs to ``upstream``; while ``down`` it answers 503 instead."""

    def __init__(self, upstream: str) -> None:
        self.down = False
        self.forwarded = 0
        self.refused = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if proxy.down:
                    proxy.refused += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                proxy.forwarded += 1
                reply = httpx.post(
                    upstream, content=body, headers={"Content-Type": "application/json"}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
