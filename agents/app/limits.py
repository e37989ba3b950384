"""Bounds on what a request may make the server do, checked before any parsing.

- :class:`BodyLimit` refuses a body larger than :data:`MAX_BODY_BYTES` with 413, from
  its declared ``Content-Length`` or, when none is declared, while the body streams in
  (nothing is buffered here).
- :class:`GuardedRoute` refuses JSON nested deeper than :data:`MAX_JSON_DEPTH` with 422
  before the JSON decoder sees it.
- :func:`restore_recursion_limit` undoes ``py_ecc``'s ``sys.setrecursionlimit(100000)``
  (imported through web3), under which the C JSON decoder overflows the C stack (a
  segfault) instead of raising ``RecursionError``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from array import array
from collections.abc import Callable, Coroutine
from itertools import accumulate
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "RECURSION_LIMIT",
    "BodyLimit",
    "BodyTooLargeError",
    "GuardedRoute",
    "NestingTooDeepError",
    "NotUtf8Error",
    "json_depth_exceeds",
    "restore_recursion_limit",
]

MAX_BODY_BYTES = 1_048_576
"""Largest request body accepted (1 MiB): a hire's input is at most 100,000 characters."""

MAX_JSON_DEPTH = 32
"""Deepest JSON nesting accepted; every body this API takes is an object of strings."""

RECURSION_LIMIT = 1000
"""Python's own default, restored after py_ecc raised it to 100000."""


def restore_recursion_limit() -> None:
    """Put the interpreter's recursion limit back to :data:`RECURSION_LIMIT`.

    Call it after web3 is imported (the app does, when it is created): py_ecc raises
    the limit at import, and with it a deeply nested body crashes the process."""
    sys.setrecursionlimit(RECURSION_LIMIT)


class BodyTooLargeError(HTTPException):
    """The request body exceeds :data:`MAX_BODY_BYTES` (413 ``too_large``)."""

    reason = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: 413 for a body over ``max_bytes``, counted as it arrives; 408 when
    no part of it arrives for ``read_timeout`` seconds."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, read_timeout: float = 30.0
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(BodyTooLargeError(self.max_bytes), scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            try:
                # a client that trickles its body holds a connection and a task for nothing
                async with asyncio.timeout(self.read_timeout):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlowError(self.read_timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException: FastAPI re-raises it from body reading, and the
                    # app's handler answers it in the one error shape.
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except (BodyTooLargeError, BodyTooSlowError) as exc:  # read outside a route
            if started:
                raise
            await _refuse(exc, scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _refuse(
    exc: BodyTooLargeError | BodyTooSlowError, scope: Scope, receive: Receive, send: Send
) -> None:
    from agents.app.problems import problem  # the one error shape

    response = problem(exc.status_code, str(exc.detail), exc.reason)
    response.headers["Connection"] = "close"  # the unread body is not worth draining
    await response(scope, receive, send)


# Possessive and with an optional closing quote, so it cannot backtrack: a body full of
# escaped quotes that never close is linear, not quadratic (a review froze the loop for
# 28 s with 80 KB of them).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text ``body`` nests arrays and objects deeper than ``limit``.

    Runs at C speed (regex, translate, accumulate): brackets inside strings do not count,
    and a body with fewer opening brackets than ``limit`` is not scanned at all."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    structure = _STRING.sub(b"", body).translate(_STEPS, _NOT_BRACKET)
    return max(accumulate(array("b", structure)), default=0) > limit


class NestingTooDeepError(HTTPException):
    """The JSON body nests deeper than :data:`MAX_JSON_DEPTH` (422 ``too_deep``)."""

    reason = "too_deep"

    def __init__(self) -> None:
        super().__init__(422, f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")


class NotUtf8Error(HTTPException):
    """The JSON body is not UTF-8 text (422 ``invalid_body``)."""

    reason = "invalid_body"

    def __init__(self) -> None:
        super().__init__(422, "the body is not UTF-8 encoded JSON")


class UnreadableJsonError(HTTPException):
    """JSON the decoder refuses for a reason other than syntax (422 ``invalid_body``)."""

    reason = "invalid_body"

    def __init__(self, why: str) -> None:
        super().__init__(422, f"the JSON body cannot be read: {why[:200]}")


class BodyTooSlowError(HTTPException):
    """The client stopped sending its body (408 ``too_slow``)."""

    reason = "too_slow"

    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"no part of the request body arrived for {seconds:g} s")


class _GuardedRequest(Request):
    async def json(self) -> Any:
        if json_depth_exceeds(await self.body()):
            raise NestingTooDeepError
        try:
            return await super().json()
        except UnicodeDecodeError:  # else FastAPI's bare 400 "error parsing the body"
            raise NotUtf8Error from None
        except json.JSONDecodeError:
            raise  # FastAPI answers it as a 422 with the position
        except ValueError as exc:  # e.g. an integer over 4300 digits: else a bare 400
            raise UnreadableJsonError(str(exc)) from None


class GuardedRoute(APIRoute):
    """A route whose JSON body is checked for depth before it is decoded."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            return await handle(_GuardedRequest(request.scope, request.receive))

        return guarded
