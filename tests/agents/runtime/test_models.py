"""Chat models by `provider:model` string: parsing, validation, building, caching."""

from __future__ import annotations

import importlib.util
import math

import pytest
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agents.core.errors import AgentDaoError, ModelConfigurationError, UnknownModelError
from agents.runtime.models import (
    ModelSettings,
    build_chat_model,
    clear_model_cache,
    parse_model_string,
    supported_providers,
    validate_model_string,
)
from agents.runtime.offline_model import OfflineChatModel
from tests.support.openai_server import OpenAIChatServer, expected_content

# A provider LangChain knows whose integration this project does not install.
NOT_INSTALLED_PROVIDER, NOT_INSTALLED_MODULE = "ibm", "langchain_ibm"


@pytest.fixture(autouse=True)
def _fresh_model_cache() -> None:
    clear_model_cache()


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("offline:echo-1", ("offline", "echo-1")),
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("OpenAI:gpt-4o", ("openai", "gpt-4o")),
        ("azure-openai:gpt-4o", ("azure_openai", "gpt-4o")),
        ("openai:ft:gpt-4o-mini:acme::abc123", ("openai", "ft:gpt-4o-mini:acme::abc123")),
    ],
)
def test_parse_model_string(model: str, expected: tuple[str, str]) -> None:
    assert parse_model_string(model) == expected


@pytest.mark.parametrize(
    "model",
    [
        "",
        "gpt-4o",
        ":gpt-4o",
        "openai:",
        " openai:gpt-4o",
        "openai: gpt-4o",
        "openai:gpt-4o ",
        "open ai:gpt-4o",
        "1openai:x",
        "openai:gpt\n4o",
    ],
)
def test_malformed_model_strings_are_refused(model: str) -> None:
    with pytest.raises(UnknownModelError) as caught:
        validate_model_string(model)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, AgentDaoError)
    assert caught.value.model == model


def test_offline_and_openai_are_supported() -> None:
    assert {"offline", "openai"} <= supported_providers()
    validate_model_string("offline:echo-1")
    validate_model_string("openai:gpt-4o-mini")


def test_unknown_provider_is_refused_with_the_list_of_runnable_ones() -> None:
    with pytest.raises(UnknownModelError, match=r"unknown provider 'nosuch'.*offline.*openai"):
        validate_model_string("nosuch:model-1")


def test_known_provider_without_its_package_names_the_package() -> None:
    if importlib.util.find_spec(NOT_INSTALLED_MODULE) is not None:
        pytest.skip(f"{NOT_INSTALLED_MODULE} is installed here")
    assert NOT_INSTALLED_PROVIDER not in supported_providers()
    with pytest.raises(UnknownModelError, match=r"pip install langchain-ibm"):
        validate_model_string(f"{NOT_INSTALLED_PROVIDER}:granite-3")


def test_offline_models_are_built_without_settings_of_any_kind() -> None:
    model = build_chat_model("offline:echo-1", 0.7, ModelSettings(_env_file=None))

    assert isinstance(model, OfflineChatModel)
    assert model.model_name == "offline:echo-1"
    assert model.temperature == 0.7
    assert model.invoke("hi").text.startswith("[offline:echo-1]")


def test_any_offline_model_name_is_accepted() -> None:
    model = build_chat_model("offline:echo-9", 0.0, ModelSettings(_env_file=None))
    assert isinstance(model, OfflineChatModel)
    assert model.model_name == "offline:echo-9"


def test_models_are_cached_per_model_and_temperature() -> None:
    settings = ModelSettings(_env_file=None)
    first = build_chat_model("offline:echo-1", 0.5, settings)

    assert build_chat_model("offline:echo-1", 0.5, settings) is first
    assert build_chat_model("offline:echo-1", 0.5, ModelSettings(_env_file=None)) is first
    assert build_chat_model("offline:echo-1", 0.6, settings) is not first
    assert build_chat_model("offline:echo-2", 0.5, settings) is not first
    assert build_chat_model("offline:echo-1", 1, settings) is build_chat_model(
        "offline:echo-1", 1.0, settings
    )
    clear_model_cache()
    assert build_chat_model("offline:echo-1", 0.5, settings) is not first


@pytest.mark.parametrize("temperature", [-0.1, 2.01, math.nan, math.inf])
def test_temperature_out_of_range_is_refused(temperature: float) -> None:
    with pytest.raises(ModelConfigurationError, match="temperature must be between 0 and 2"):
        build_chat_model("offline:echo-1", temperature, ModelSettings(_env_file=None))


def test_unknown_model_is_refused_when_building() -> None:
    with pytest.raises(UnknownModelError):
        build_chat_model("nosuch:model", 0.0, ModelSettings(_env_file=None))


def test_openai_models_take_key_url_timeout_and_retries_from_settings() -> None:
    settings = ModelSettings(
        _env_file=None,
        openai_api_key="sk-from-settings",
        openai_base_url="http://127.0.0.1:9/v1",
        request_timeout=7.5,
        max_retries=4,
    )
    model = build_chat_model("openai:gpt-4o-mini", 0.3, settings)

    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4o-mini"
    assert model.temperature == 0.3
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == "sk-from-settings"
    assert model.request_timeout == 7.5
    assert model.max_retries == 4


def test_openai_without_any_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AGENTDAO_OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelConfigurationError, match=r"'openai:gpt-4o-mini'.*(?i:api.?key)"):
        build_chat_model("openai:gpt-4o-mini", 0.0, ModelSettings(_env_file=None))


def test_openai_falls_back_to_the_clients_own_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-openai-env")
    monkeypatch.delenv("AGENTDAO_OPENAI_API_KEY", raising=False)
    model = build_chat_model("openai:gpt-4o-mini", 0.0, ModelSettings(_env_file=None))
    assert isinstance(model, ChatOpenAI)
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == "sk-from-openai-env"


def test_settings_are_read_from_agentdao_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDAO_OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("AGENTDAO_OPENAI_BASE_URL", "http://127.0.0.1:1234/v1")
    monkeypatch.setenv("AGENTDAO_REQUEST_TIMEOUT", "12")
    monkeypatch.setenv("AGENTDAO_MAX_RETRIES", "0")
    settings = ModelSettings(_env_file=None)

    assert settings.openai_api_key == SecretStr("sk-env")
    assert "sk-env" not in repr(settings)
    assert settings.openai_base_url == "http://127.0.0.1:1234/v1"
    assert settings.request_timeout == 12.0
    assert settings.max_retries == 0


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REQUEST_TIMEOUT", "MAX_RETRIES"):
        monkeypatch.delenv(f"AGENTDAO_{name}", raising=False)
    settings = ModelSettings(_env_file=None)
    assert settings.openai_api_key is None
    assert settings.openai_base_url is None
    assert settings.request_timeout == 60.0
    assert settings.max_retries == 2


def test_built_openai_model_talks_to_an_openai_compatible_server(
    openai_server: OpenAIChatServer, openai_settings: ModelSettings
) -> None:
    model = build_chat_model("openai:gpt-4o-mini", 0.25, openai_settings)
    reply = model.invoke([("system", "Be terse."), ("human", "ping")])

    [request] = openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-local-test-key"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["temperature"] == 0.25
    assert reply.text == expected_content("gpt-4o-mini", request.body["messages"])
    assert reply.text.endswith("user=PING")
