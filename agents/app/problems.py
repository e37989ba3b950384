"""The one shape of every error answer: ``{"error": <sentence>, "reason": <code>, ...}``.

``error`` is a sentence for people, ``reason`` a stable snake_case code for programs;
a few answers add fields (``task_id``, ``problems``). :func:`install` makes the app
answer every refusal this way, including FastAPI's own (404 route, 405, 422) and a
chain outage (503 ``chain_unavailable`` with ``Retry-After``). :func:`answers` declares
the same in the OpenAPI.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import requests
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3.exceptions import ProviderConnectionError

from agents.core.errors import ChainUnreachableError

__all__ = [
    "CHAIN_RETRY_AFTER_SECONDS",
    "ChainOutageErrors",
    "HTTPProblem",
    "Problem",
    "ProblemResponse",
    "answers",
    "install",
    "problem",
]

log = logging.getLogger(__name__)

CHAIN_RETRY_AFTER_SECONDS = 5
"""What a 503 ``chain_unavailable`` tells the client to wait before trying again."""

ChainOutageErrors: tuple[type[Exception], ...] = (
    ChainUnreachableError,
    # What a web3 HTTP provider raises when the node does not answer (or answers 5xx):
    # requests' connection, timeout and HTTP errors, after web3's own retries.
    requests.RequestException,
    ProviderConnectionError,
)
"""Exceptions that mean "the chain cannot be reached now", answered with 503."""

_REASONS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid_request",
    500: "internal_error",
}


class Problem(BaseModel):
    """An error answer."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="What went wrong, in a sentence")
    reason: str = Field(description="A stable snake_case code for programs")
    task_id: str | None = Field(default=None, description="The task concerned, if any")


class ProblemResponse(JSONResponse):
    """JSON with non-ASCII escaped, so text a client sent (even a lone UTF-16 surrogate,
    which UTF-8 cannot carry) can be named in an error without failing to encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


class HTTPProblem(HTTPException):
    """An HTTPException that carries its ``reason`` code."""

    def __init__(
        self, status: int, error: str, reason: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, error, headers)
        self.reason = reason


def problem(
    status: int, error: str, reason: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> ProblemResponse:
    """An error answer in the one shape (``None`` extras are left out)."""
    body = {"error": error, "reason": reason} | {k: v for k, v in extra.items() if v is not None}
    return ProblemResponse(body, status, headers=headers)


_DESCRIPTIONS = {
    400: "The request cannot be read",
    404: "Nothing of that name",
    413: "The request body is too large",
    422: "The request is malformed (reason `invalid_body`, `invalid_request` or `too_deep`)",
    503: "The chain cannot be reached now (reason `chain_unavailable`, with Retry-After)",
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again (chain_unavailable)",
        "schema": {"type": "integer"},
    }
}


def answers(**descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error answers in the one shape: ``answers(s404="…")``.

    413 and 422 (every route may get them) are always included."""
    wanted = {int(key.removeprefix("s")): text for key, text in descriptions.items()}
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted({413, 422, *wanted}):
        entry: dict[str, Any] = {
            "model": Problem,
            "description": wanted.get(status) or _DESCRIPTIONS[status],
        }
        if status == 503:
            entry["headers"] = _RETRY_AFTER
        documented[status] = entry
    return documented


def _safe(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()


def install(app: FastAPI) -> None:
    """Answer every refusal of ``app`` in the one shape."""

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(_: Request, exc: StarletteHTTPException) -> ProblemResponse:
        reason = getattr(exc, "reason", None) or _REASONS.get(exc.status_code, "refused")
        return problem(exc.status_code, _safe(str(exc.detail)), reason, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> ProblemResponse:
        # Never echo the input back: it may be huge, or not encodable (a lone surrogate).
        found = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": _safe(str(e.get("msg")))}
            for e in exc.errors()
        ]
        in_body = any(p["loc"][:1] == ["body"] for p in found)
        summary = "; ".join(f"{'.'.join(p['loc'])}: {p['msg']}" for p in found[:3])
        return problem(
            422,
            summary or "the request is malformed",
            "invalid_body" if in_body else "invalid_request",
            problems=found,
        )

    async def chain_unavailable(_: Request, exc: Exception) -> ProblemResponse:
        log.warning("chain unavailable: %s: %s", type(exc).__name__, exc)
        return problem(
            503,
            "the chain cannot be reached now; nothing was charged, try again shortly",
            "chain_unavailable",
            {"Retry-After": str(CHAIN_RETRY_AFTER_SECONDS)},
        )

    for error in ChainOutageErrors:
        app.add_exception_handler(error, chain_unavailable)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> ProblemResponse:
        # Logged by the server with its traceback; the client learns nothing internal.
        return problem(500, "internal error", "internal_error")
