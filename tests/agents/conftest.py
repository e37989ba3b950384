"""Fixtures for the agents package's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.runtime.models import ModelSettings, clear_model_cache
from tests.support.openai_server import OpenAIChatServer

LOCAL_API_KEY = "sk-local-test-key"


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIChatServer]:
    """A local server speaking OpenAI's chat-completions API, for the real client."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a proxy in the env must not intercept
    with OpenAIChatServer() as server:
        yield server


@pytest.fixture
def openai_settings(openai_server: OpenAIChatServer) -> Iterator[ModelSettings]:
    """Model settings pointing `openai:*` models at `openai_server`, without retries."""
    clear_model_cache()
    yield ModelSettings(
        openai_api_key=LOCAL_API_KEY,
        openai_base_url=openai_server.base_url,
        request_timeout=10,
        max_retries=0,
    )
    clear_model_cache()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (marked ``anyio``) run on asyncio, like uvicorn."""
    return "asyncio"
