"""schemathesis against the live app: every answer is declared in the OpenAPI (status,
content type, headers, body schema) and none is a server error, payment header included.

Bounded by ``max_examples`` per operation so the whole run takes seconds, not minutes.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.live_server import LiveServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


REAL = {"name": "scribe", "skill": "summarize"}
"""Path names that exist, so the payment header and the chain reads are reached too."""

MAX_EXAMPLES = 40
"""Cases per operation and mode (positive: fits the schema; negative: does not)."""


def _explore(
    operation: Any,
    mode: GenerationMode,
    pinned: dict[str, str],
    calls: dict[str, int],
    statuses: set[tuple[str, int]],
) -> None:
    """Up to MAX_EXAMPLES generated calls of ``operation``, each checked against the OpenAPI."""
    label = f"{operation.label} {mode.value}" + (" (real names)" if pinned else "")

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned or None))
    def call(case: Any) -> None:
        calls[label] = calls.get(label, 0) + 1
        response = case.call_and_validate(checks=CHECKS, timeout=30)
        statuses.add((operation.label, response.status_code))

    try:
        call()
    except Unsatisfiable:
        # No invalid request exists when every input is any string (path names).
        assert mode is GenerationMode.NEGATIVE, label


def test_the_live_app_keeps_its_openapi_promises(live: LiveServer) -> None:
    api = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    calls: dict[str, int] = {}
    statuses: set[tuple[str, int]] = set()
    operations = 0
    for found in api.get_all_operations():
        operation = found.ok()  # type: ignore[union-attr]
        operations += 1
        real = {k: v for k, v in REAL.items() if f"{{{k}}}" in operation.path}
        for mode in GenerationMode:
            _explore(operation, mode, {}, calls, statuses)
        if real:
            _explore(operation, GenerationMode.POSITIVE, real, calls, statuses)
    print("schemathesis cases:", calls, "statuses:", sorted(statuses))
    hire = "POST /agents/{name}/skills/{skill}"
    assert calls[f"{hire} positive"] >= 10
    assert calls[f"{hire} negative"] >= 10
    assert operations >= 7  # /health, /agents, /agents/{name}, hire, tasks, history, treasury
    assert sum(label.endswith("positive") for label in calls) == operations, calls
    assert (hire, 402) in statuses  # garbage PAYMENT-SIGNATURE values were refused, not 500


def test_the_openapi_declares_the_payment_headers_and_every_answer(live: LiveServer) -> None:
    import httpx

    document = httpx.get(f"{live.url}/openapi.json", timeout=10).json()
    hire = document["paths"]["/agents/{name}/skills/{skill}"]["post"]
    assert {"PAYMENT-SIGNATURE"} <= {p["name"] for p in hire["parameters"] if p["in"] == "header"}
    answers = hire["responses"]
    assert {"200", "202", "402", "404", "409", "413", "422", "502", "503"} <= set(answers)
    assert "PAYMENT-REQUIRED" in answers["402"]["headers"]
    assert "PAYMENT-RESPONSE" in answers["200"]["headers"]
    treasury = document["paths"]["/agents/{name}/treasury"]["get"]["responses"]
    assert {"200", "404", "422", "503"} <= set(treasury)
    for path in document["paths"].values():
        for operation in path.values():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "402":
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/Problem"), (status, ref)
