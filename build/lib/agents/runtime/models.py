"""Chat models by `provider:model` string, as an agent's live config names them.

`offline:*` is the built-in offline model. Every other provider goes through
LangChain's `init_chat_model`, so any provider it knows works once its integration
package is installed (`openai:gpt-4o-mini`, `anthropic:claude-...`, ...). OpenAI and
OpenAI-compatible servers take their key, base URL, timeout and retries from
`ModelSettings`; other providers read their own environment variables.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from typing import Any, Final

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.core.errors import ModelConfigurationError, UnknownModelError
from agents.core.model_ref import parse_model_string
from agents.runtime.offline_model import OFFLINE_PROVIDER, OfflineChatModel

__all__ = [
    "ModelSettings",
    "build_chat_model",
    "clear_model_cache",
    "parse_model_string",
    "supported_providers",
    "validate_model_string",
]

MAX_TEMPERATURE: Final = 2.0
"""The widest range providers accept (OpenAI's); narrower ones reject at call time."""

_MODEL_CACHE_SIZE: Final = 32
# Used when LangChain's private provider table moves: the providers we ship with.
_FALLBACK_PROVIDER_MODULES: Final = {"openai": "langchain_openai"}


class ModelSettings(BaseSettings):
    """Operator settings for reaching model providers (env prefix `AGENTDAO_`).

    Frozen, so a settings object can key the model cache.
    """

    model_config = SettingsConfigDict(
        env_prefix="AGENTDAO_", env_file=".env", extra="ignore", frozen=True
    )

    openai_api_key: SecretStr | None = None
    """Key for `openai:*` models. Unset: the OpenAI client reads `OPENAI_API_KEY`."""

    openai_base_url: str | None = None
    """Base URL of an OpenAI-compatible server (`http://host:port/v1`). Unset: OpenAI's
    default (or `OPENAI_BASE_URL`)."""

    request_timeout: float = Field(default=60.0, gt=0)
    """Seconds before one model request is abandoned (OpenAI-compatible models)."""

    max_retries: int = Field(default=2, ge=0)
    """Retries after a failed request (OpenAI-compatible models)."""


@functools.cache
def supported_providers() -> frozenset[str]:
    """Providers this install can run: `offline`, and every `init_chat_model` provider
    whose integration package is importable. Imports nothing and opens no connection."""
    return frozenset(
        {OFFLINE_PROVIDER} | {p for p, module in _provider_modules().items() if _importable(module)}
    )


def validate_model_string(model: str) -> None:
    """Check that this install can run `model`, without building a client.

    The runtime calls this on a governance-set model before adopting it. It does not
    check credentials or that the provider knows the model name.

    Raises:
        UnknownModelError: malformed, unknown provider, or integration not installed.
    """
    provider, _ = parse_model_string(model)
    if provider in supported_providers():
        return
    modules = _provider_modules()
    if provider in modules:
        package = modules[provider].split(".", maxsplit=1)[0].replace("_", "-")
        raise UnknownModelError(model, f"provider {provider!r} needs `pip install {package}`")
    known = ", ".join(sorted(supported_providers()))
    raise UnknownModelError(model, f"unknown provider {provider!r} (this install runs: {known})")


def build_chat_model(model: str, temperature: float, settings: ModelSettings) -> BaseChatModel:
    """The chat model for a live config's `model` and `temperature`.

    Models are cached (LRU, keyed by model, temperature and settings), so calling this
    per task is cheap and the HTTP clients are reused. Building opens no connection.

    Args:
        model: `provider:model`, e.g. `offline:echo-1` or `openai:gpt-4o-mini`.
        temperature: Sampling temperature, 0 to 2 (the offline model ignores it).
        settings: Credentials and limits for the provider.

    Raises:
        UnknownModelError: see `validate_model_string`.
        ModelConfigurationError: temperature out of range, or the provider refused its
            configuration (e.g. no API key).
    """
    validate_model_string(model)
    if not (math.isfinite(temperature) and 0.0 <= temperature <= MAX_TEMPERATURE):
        raise ModelConfigurationError(
            model, f"temperature must be between 0 and {MAX_TEMPERATURE}, got {temperature}"
        )
    provider, name = parse_model_string(model)
    # +0.0 folds -0.0 into 0.0 and ints into floats, so equal settings share a model.
    return _build_cached(provider, name, float(temperature) + 0.0, settings)


def clear_model_cache() -> None:
    """Forget every built model (e.g. after credentials change)."""
    _build_cached.cache_clear()


@functools.lru_cache(maxsize=_MODEL_CACHE_SIZE)
def _build_cached(
    provider: str, name: str, temperature: float, settings: ModelSettings
) -> BaseChatModel:
    model = f"{provider}:{name}"
    if provider == OFFLINE_PROVIDER:
        return OfflineChatModel(model_name=model, temperature=temperature)
    options: dict[str, Any] = {"temperature": temperature}
    if provider == "openai":
        options.update(timeout=settings.request_timeout, max_retries=settings.max_retries)
        if settings.openai_base_url is not None:
            options["base_url"] = settings.openai_base_url
        if settings.openai_api_key is not None:
            options["api_key"] = settings.openai_api_key
    try:
        # **options of Any makes mypy pick no single overload; this one is the str case.
        chat_model: BaseChatModel = init_chat_model(name, model_provider=provider, **options)
    except Exception as exc:  # each provider raises its own kind; all mean "misconfigured"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelConfigurationError(model, reason) from exc
    return chat_model


@functools.cache
def _provider_modules() -> dict[str, str]:
    """Provider -> module holding its chat model, from LangChain's own table."""
    # Private in LangChain 1.x; fall back rather than break if it moves.
    try:
        from langchain.chat_models import base

        return {provider: entry[0] for provider, entry in base._BUILTIN_PROVIDERS.items()}
    except (ImportError, AttributeError, TypeError, IndexError):
        return dict(_FALLBACK_PROVIDER_MODULES)


def _importable(module: str) -> bool:
    # find_spec on the top-level package only: a dotted name would import its parent.
    try:
        return importlib.util.find_spec(module.split(".", maxsplit=1)[0]) is not None
    except (ImportError, ValueError):
        return False
