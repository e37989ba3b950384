"""Every error answer has one shape: ``{"error": <sentence>, "reason": <code>, ...}``;
the 402 names this service's public URL, never the caller's Host header."""

from __future__ import annotations

import httpx
import pytest
from x402.http import decode_payment_required_header
from x402.schemas import PaymentRequired

from agents.core.settings import Settings
from tests.support.live_server import LiveServer

HIRE = "/agents/scribe/skills/summarize"
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "reason"),
    [
        ("GET", "/nowhere", {}, 404, "not_found"),
        ("GET", "/agents/nobody", {}, 404, "unknown_agent"),
        ("GET", "/tasks/nope", {}, 404, "unknown_task"),
        ("GET", "/agents/nobody/config/history", {}, 404, "unknown_agent"),
        ("GET", "/agents/nobody/treasury", {}, 404, "unknown_agent"),
        ("DELETE", "/agents", {}, 405, "method_not_allowed"),
        ("POST", "/agents/nobody/skills/x", {"json": {"input": "x"}}, 404, "unknown_agent"),
        ("POST", "/agents/scribe/skills/dance", {"json": {"input": "x"}}, 404, "unknown_skill"),
        ("POST", HIRE, {"content": b"not json", "headers": JSON}, 422, "invalid_body"),
        ("POST", HIRE, {"json": {"input": ""}}, 422, "invalid_body"),
        ("POST", HIRE, {"json": {"input": "x"}}, 402, "payment_required"),
        (
            "POST",
            HIRE,
            {"json": {"input": "x"}, "headers": {"PAYMENT-SIGNATURE": "garbage"}},
            402,
            "malformed_payment",
        ),
    ],
)
def test_every_error_body_has_the_one_shape(
    live: LiveServer, method: str, path: str, kwargs: dict[str, object], status: int, reason: str
) -> None:
    response = httpx.request(method, f"{live.url}{path}", timeout=30, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str)
    assert body["error"]
    assert body["reason"] == reason
    assert "detail" not in body


def test_the_402_names_the_public_url_not_the_host_header(live: LiveServer) -> None:
    response = httpx.post(
        f"{live.url}{HIRE}",
        json={"input": "x"},
        headers={"Host": "evil.example"},
        timeout=30,
    )
    assert response.status_code == 402
    required = decode_payment_required_header(response.headers["PAYMENT-REQUIRED"])
    assert isinstance(required, PaymentRequired)
    expected = f"http://127.0.0.1:{live.settings.api_port}{HIRE}"
    assert required.resource is not None
    assert required.resource.url == expected
    assert response.json()["resource"]["url"] == expected


def test_the_public_url_defaults_to_the_api_address_and_can_be_set() -> None:
    assert Settings(api_host="0.0.0.0", api_port=8123).public_base_url == "http://0.0.0.0:8123"
    configured = Settings(public_url="https://agents.example.org/")
    assert configured.public_base_url == "https://agents.example.org"
