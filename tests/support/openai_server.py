"""A local stand-in for the OpenAI chat-completions API, for tests of the real client.

`OpenAIChatServer` serves `POST /v1/chat/completions` (non-streaming) on 127.0.0.1
at a free port, from a thread. It answers deterministically from the request's model
and messages, records every request so a test can check what the client sent, and can
be told to fail with an HTTP error the way OpenAI does.

A request that offers tools is answered the way a tool-calling model answers: one call
of every offered tool (the last user message as each required string argument) until
the conversation holds `tool_rounds` rounds of tool calls (default 1), then a final
answer quoting the tool results (`expected_tool_answer`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["OpenAIChatServer", "RecordedRequest", "expected_content", "expected_tool_answer"]

SERVED_MODEL_SUFFIX = "-local"
"""Appended to the requested model in answers, as OpenAI answers with a dated snapshot."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    def messages_by_role(self, role: str) -> list[str]:
        """The text of every message with this role."""
        return [_text(m) for m in self.body.get("messages", []) if m.get("role") == role]


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def expected_content(model: str, messages: list[dict[str, Any]]) -> str:
    """The answer the server gives to `messages` sent to `model`."""
    system = "\n".join(_text(m) for m in messages if m.get("role") in ("system", "developer"))
    user = "\n".join(_text(m) for m in messages if m.get("role") == "user")
    digest = hashlib.sha256(system.encode()).hexdigest()[:12]
    return f"local[{model}] system={digest} user={user.upper()}"


def expected_tool_answer(model: str, messages: list[dict[str, Any]]) -> str:
    """The final answer the server gives once `messages` hold tool results: each tool's
    name and result, in the order the results came."""
    names = {
        call["id"]: call["function"]["name"]
        for m in messages
        if m.get("role") == "assistant"
        for call in m.get("tool_calls") or ()
    }
    results = [
        f"{names.get(m.get('tool_call_id'), '?')}={_text(m)}"
        for m in messages
        if m.get("role") == "tool"
    ]
    return f"local[{model}] from tools: " + "; ".join(results)


def _tool_calls(tools: list[dict[str, Any]], messages: list[dict[str, Any]]) -> list[Any]:
    """One call of each offered function, every required string argument (or the first
    string argument) set to the last user message."""
    user = [_text(m) for m in messages if m.get("role") == "user"]
    task = user[-1] if user else ""
    round_number = sum(1 for m in messages if m.get("role") == "assistant")
    calls = []
    for index, offered in enumerate(tools):
        function = offered.get("function", {})
        parameters = function.get("parameters") or {}
        properties = parameters.get("properties") or {}
        strings = [k for k, v in properties.items() if v.get("type") == "string"]
        required = [k for k in parameters.get("required") or () if k in strings]
        arguments = dict.fromkeys(required or strings[:1], task)
        calls.append(
            {
                "id": f"call_local_{round_number}_{index}",
                "type": "function",
                "function": {"name": function.get("name"), "arguments": json.dumps(arguments)},
            }
        )
    return calls


class OpenAIChatServer:
    """The fake OpenAI server; use as a context manager (or `start`/`stop`)."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.tool_rounds = 1
        """Rounds of tool calls before a final answer, when a request offers tools (set it
        high for a model that never stops calling tools)."""
        self._failure: tuple[int, str, str] | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval keeps `stop` (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as `base_url`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def fail_with(self, status: int, message: str = "simulated failure", code: str = "") -> None:
        """Answer every following request with this HTTP error (OpenAI's error body)."""
        self._failure = (status, message, code)

    def succeed(self) -> None:
        """Answer normally again."""
        self._failure = None

    def start(self) -> OpenAIChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; safe to call twice (a test may stop it to simulate an outage)."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIChatServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path != "/v1/chat/completions":
            return 404, _error(f"no route {path}", "invalid_request_error", "not_found")
        if self._failure is not None:
            status, message, code = self._failure
            return status, _error(message, "server_error" if status >= 500 else "api_error", code)
        if body.get("stream"):
            return 400, _error("this server does not stream", "invalid_request_error", "")
        model = str(body.get("model", ""))
        messages = list(body.get("messages", []))
        tools = list(body.get("tools") or [])
        rounds = sum(1 for m in messages if m.get("role") == "assistant" and m.get("tool_calls"))
        reply: dict[str, Any]
        if tools and rounds < self.tool_rounds:
            calls = _tool_calls(tools, messages)
            reply = {"role": "assistant", "content": None, "tool_calls": calls}
            content = json.dumps(calls)
            finish_reason = "tool_calls"
        else:
            has_results = any(m.get("role") == "tool" for m in messages)
            content = (
                expected_tool_answer(model, messages)
                if has_results
                else expected_content(model, messages)
            )
            reply = {"role": "assistant", "content": content}
            finish_reason = "stop"
        prompt_tokens = sum(len(_text(m).split()) for m in messages)
        completion_tokens = len(content.split())
        number = len(self.requests)
        return 200, {
            "id": f"chatcmpl-local-{number}",
            "object": "chat.completion",
            "created": 1_700_000_000 + number,
            "model": model + SERVED_MODEL_SUFFIX,
            "choices": [
                {
                    "index": 0,
                    "message": reply,
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def _error(message: str, kind: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code or None}}


def _handler_for(server: OpenAIChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {}
            path = self.path.split("?", maxsplit=1)[0]
            server._record(
                RecordedRequest(path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status, payload = server._answer(path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
