"""The HTTP API: discover agents, hire them with x402, look tasks up.

``POST /agents/{name}/skills/{skill}`` speaks x402 v2: without a payment it answers
402 with the requirements in the ``PAYMENT-REQUIRED`` header (and the body); with a
``PAYMENT-SIGNATURE`` it runs the task, settles, and answers with the result, a
receipt and the ``PAYMENT-RESPONSE`` header.

Every error answer has one shape (:mod:`agents.app.problems`); bodies are bounded in
size and nesting before they are parsed (:mod:`agents.app.limits`).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote as url_quote

from fastapi import FastAPI, Header, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from x402.http import (
    PAYMENT_REQUIRED_HEADER,
    PAYMENT_RESPONSE_HEADER,
    PAYMENT_SIGNATURE_HEADER,
    encode_payment_required_header,
    encode_payment_response_header,
)
from x402.schemas import PaymentPayload, SettleResponse

from agents.app import governance_api, problems, treasury_api, web
from agents.app.limits import BodyLimit, GuardedRoute, restore_recursion_limit
from agents.app.loop_lag import LoopLagMonitor
from agents.app.problems import HTTPProblem, Problem, answers, problem
from agents.app.scheduler import start_scheduler
from agents.core.errors import (
    AgentPausedError,
    PaymentInUseError,
    PaymentRejectedError,
    SettlementError,
    SettlementPendingError,
    TaskFailedError,
    UnknownAgentError,
    UnknownSkillError,
)
from agents.runtime.hiring import Quote, Receipt, hire, quote
from agents.runtime.runtime import Runtime, ServedAgent
from agents.runtime.tasks import Task, TaskState
from agents.runtime.vouchers import hire_by_voucher

__all__ = ["WORKER_THREADS", "create_app"]

WORKER_THREADS = 32
"""Threads for the blocking work of hires and jobs (database, RPC, settlement receipts)."""

AgentName = Annotated[str, Path(description="The agent's name, as launched", examples=["scribe"])]
SkillName = Annotated[str, Path(description="One of the agent's skills", examples=["summarize"])]
PaymentSignature = Annotated[
    str | None,
    Header(
        alias=PAYMENT_SIGNATURE_HEADER,
        description="x402 v2 payment: base64 of a PaymentPayload (an EIP-3009 authorization). "
        "Without it the answer is 402 with the price.",
        # Shapes a hostile client sends: the OpenAPI's examples feed schemathesis too.
        examples=["not base64", "W10=", "bnVsbA==", "eyJ4NDAyVmVyc2lvbiI6Mn0="],
    ),
]


class SkillOut(BaseModel):
    """A skill for sale."""

    name: str
    instructions: str
    price_units: int = Field(description="Price in payment-token units (USDC: millionths)")
    price: Decimal = Field(description="Price in the payment token (USDC: dollars)")


class RejectedConfigOut(BaseModel):
    """A governed config version the runtime refused to run."""

    version: int
    config_hash: str
    reason: str
    at: datetime


class AgentSummary(BaseModel):
    """An agent in the directory."""

    name: str
    config_version: int
    paused: bool
    skills: list[SkillOut]


class AgentOut(AgentSummary):
    """An agent with its live config, addresses and payment terms."""

    config_hash: str
    system_prompt: str
    model: str
    temperature: Decimal
    split_bps: dict[str, int]
    hire_budget: int
    network: str
    payment_token: str
    payment_token_symbol: str
    payment_token_decimals: int
    """Prices here are decimal amounts; a payment's ``amount`` is in units of this scale."""
    addresses: dict[str, str]
    rejected_configs: list[RejectedConfigOut]


class HireRequest(BaseModel):
    """The task for the agent."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1, max_length=100_000)

    @field_validator("input")
    @classmethod
    def _encodable(cls, value: str) -> str:
        # JSON may spell a lone UTF-16 surrogate ("\\ud800"); no database or model takes it.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the input holds a lone UTF-16 surrogate, which is not text") from None
        return value


class HireResult(BaseModel):
    """The answer to a paid call."""

    result: str
    receipt: Receipt


class TaskOut(BaseModel):
    """A task as customers may see it (the payment blobs stay inside)."""

    id: str
    agent: str
    skill: str
    state: TaskState
    charged: bool
    input: str
    result: str | None
    """Released once the payment settled: a result is never given away unpaid."""
    error: str | None
    model: str | None
    payer: str
    amount: int
    config_version: int
    config_hash: str
    settlement_tx: str | None
    created_at: datetime
    updated_at: datetime


class PaymentRequiredOut(BaseModel):
    """A 402: x402's PaymentRequired document (also in the ``PAYMENT-REQUIRED`` header)
    plus ``reason``, the code of why the payment was refused (``payment_required`` when
    none was sent)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    x402_version: int = Field(alias="x402Version")
    error: str
    reason: str
    resource: dict[str, Any] | None = None
    accepts: list[dict[str, Any]]


def _skills(runtime: Runtime, served: ServedAgent) -> list[SkillOut]:
    token = runtime.payments.token
    return [
        SkillOut(
            name=s.name,
            instructions=s.instructions,
            price_units=s.price,
            price=token.dollars(s.price),
        )
        for s in served.live.skills
    ]


def _agent_out(runtime: Runtime, served: ServedAgent) -> AgentOut:
    live, token = served.live, runtime.payments.token
    return AgentOut(
        name=served.name,
        config_version=live.version,
        config_hash=live.config_hash,
        paused=live.paused,
        skills=_skills(runtime, served),
        system_prompt=live.system_prompt,
        model=live.model,
        temperature=live.temperature,
        split_bps=live.split.by_share(),
        hire_budget=live.hire_budget,
        network=runtime.payments.network,
        payment_token=token.address,
        payment_token_symbol=token.symbol,
        payment_token_decimals=token.decimals,
        addresses=served.addresses.model_dump(),
        rejected_configs=[
            RejectedConfigOut(
                version=r.version, config_hash=r.config_hash, reason=r.reason, at=r.at
            )
            for r in runtime.rejected(served.name)
        ],
    )


def _task_out(task: Task) -> TaskOut:
    released = task.result if task.state is TaskState.SETTLED else None
    return TaskOut.model_validate(task.model_dump() | {"charged": task.charged, "result": released})


def _paid(runtime: Runtime, task: Task, settlement: SettleResponse | None = None) -> JSONResponse:
    """200 with the result and its receipt; ``PAYMENT-RESPONSE`` is x402's settlement
    answer (for a voucher, the scheme's own: the channel's new state for the client)."""
    receipt = Receipt.of(task)
    assert task.result is not None
    settlement = settlement or SettleResponse(
        success=True,
        transaction=receipt.settlement_tx,
        network=runtime.payments.network,
        payer=receipt.payer,
        amount=str(receipt.amount),
    )
    body = HireResult(result=task.result, receipt=receipt)
    return JSONResponse(
        body.model_dump(mode="json"),
        200,
        headers={PAYMENT_RESPONSE_HEADER: encode_payment_response_header(settlement)},
    )


class Health(BaseModel):
    """``GET /health``: serving, and how late the event loop runs."""

    status: str
    agents: int
    """Agents this runtime serves."""
    loop_lag_samples: int
    loop_lag_max_ms: float
    """The longest the loop was late (ms) among the samples kept."""
    loop_lag_p99_ms: float


def create_app(runtime: Runtime) -> FastAPI:
    """The API over ``runtime``. Its lifespan starts the runtime (recovery, jobs) and
    stops it after the server finished the requests in flight."""

    loop_lag = LoopLagMonitor()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Blocking DB and RPC work runs in threads; asyncio's default pool (cpus + 4) let
        # a few settlements waiting on receipts queue every other hire behind them.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="agentdao")
        )
        loop_lag.start()
        await runtime.start()
        jobs = start_scheduler(runtime)
        # What startup built (ABIs, models, imported modules) lives as long as the process:
        # out of the collector's sight, a full collection under load stops the loop for
        # milliseconds, not a tenth of a second.
        gc.freeze()
        try:
            yield
        finally:
            await jobs.stop()
            await runtime.stop()
            await loop_lag.stop()

    app = FastAPI(
        title="agentdao",
        summary="AI agents owned by their token holders; hire them with x402.",
        version="0.1.0",
        lifespan=lifespan,
    )
    restore_recursion_limit()  # web3 (so py_ecc) is imported by now
    app.router.route_class = GuardedRoute
    app.add_middleware(BodyLimit)
    problems.install(app)
    app.state.runtime = runtime
    app.state.loop_lag = loop_lag
    app.include_router(governance_api.router)
    app.dependency_overrides[governance_api.get_engine] = lambda: runtime.tasks.engine
    app.include_router(treasury_api.router)
    reader = treasury_api.TreasuryReader(runtime.chain, runtime.manifest)
    app.dependency_overrides[treasury_api.get_reader] = lambda: reader
    web.install(app)  # the dashboard at / and the API it reads

    def served_or_404(name: str) -> ServedAgent:
        try:
            return runtime.agent(name)
        except UnknownAgentError as exc:
            raise HTTPProblem(404, exc.message, "unknown_agent") from exc

    @app.get("/health", response_model=Health, responses=answers())
    def health() -> Health:
        """The runtime is serving; how late its event loop runs (a blocking call on the loop
        shows here first), over the last two minutes of samples."""
        figures = loop_lag.figures()
        return Health(
            status="ok",
            agents=len(runtime.agents),
            loop_lag_samples=figures.samples,
            loop_lag_max_ms=figures.max_ms,
            loop_lag_p99_ms=figures.p99_ms,
        )

    @app.get("/agents", response_model=list[AgentSummary], responses=answers())
    def list_agents() -> list[AgentSummary]:
        """Every agent this runtime serves, with its skills and prices."""
        return [
            AgentSummary(
                name=s.name,
                config_version=s.live.version,
                paused=s.live.paused,
                skills=_skills(runtime, s),
            )
            for s in runtime.agents.values()
        ]

    @app.get("/agents/{name}", response_model=AgentOut, responses=answers(s404="Unknown agent"))
    def get_agent(name: AgentName) -> AgentOut:
        """An agent's live config (read from chain), prices, addresses and payment terms."""
        return _agent_out(runtime, served_or_404(name))

    @app.post(
        "/agents/{name}/skills/{skill}",
        response_model=HireResult,
        responses=_HIRE_ANSWERS,
    )
    async def hire_skill(
        name: AgentName, skill: SkillName, body: HireRequest, payment: PaymentSignature = None
    ) -> JSONResponse:
        """Hire the agent for one task, paid with x402 (header ``PAYMENT-SIGNATURE``)."""
        try:
            # quote reads the chain's clock (cached for a second): never on the loop, or a
            # node that hangs freezes every route (a review saw /health wait 8 s)
            offer = await asyncio.to_thread(quote, runtime, name, skill)
        except UnknownAgentError as exc:
            return problem(404, exc.message, "unknown_agent")
        except UnknownSkillError as exc:
            return problem(404, exc.message, "unknown_skill")
        except AgentPausedError as exc:
            return problem(503, exc.message, "paused")
        if not payment:
            return _payment_required(runtime, offer, "payment required", None)
        paid: PaymentPayload | None = None
        try:
            paid = _decoded(runtime, payment)
            by_voucher = offer.by_voucher
            if by_voucher is not None and paid.accepted.scheme == by_voucher.scheme:
                hired = await hire_by_voucher(
                    runtime, offer.agent, offer.skill, by_voucher, body.input, paid
                )
                return _paid(runtime, hired.task, hired.settlement)
            task = await hire(runtime, offer, body.input, paid)
        except PaymentRejectedError as exc:
            return _payment_required(runtime, offer, exc.message, exc.reason, payment=paid)
        except PaymentInUseError as exc:
            return problem(409, exc.message, "in_flight", task_id=exc.task_id)
        except TaskFailedError as exc:
            return problem(502, exc.message, "task_failed", task_id=exc.task_id)
        except SettlementPendingError as exc:
            # Not 402: an x402 client would pay again while this payment may still land.
            return problem(202, exc.message, "settlement_pending", task_id=exc.task_id)
        except SettlementError as exc:
            return _payment_required(
                runtime, offer, exc.message, "settlement_failed", task_id=exc.task_id
            )
        return _paid(runtime, task)

    @app.get("/tasks/{task_id}", response_model=TaskOut, responses=answers(s404="Unknown task"))
    def get_task(task_id: str) -> TaskOut:
        """A task: its state, result (once settled), and settlement."""
        task = runtime.task(task_id)
        if task is None:
            raise HTTPProblem(404, f"no task {task_id}", "unknown_task")
        return _task_out(task)

    return app


_PAYMENT_REQUIRED = {
    PAYMENT_REQUIRED_HEADER: {
        "description": "base64 of x402's PaymentRequired document: what to pay, to whom",
        "schema": {"type": "string"},
        "required": True,
    }
}
_PAYMENT_RESPONSE = {
    PAYMENT_RESPONSE_HEADER: {
        "description": "base64 of x402's SettleResponse: the settlement transaction",
        "schema": {"type": "string"},
        "required": True,
    }
}


_HIRE_ANSWERS: dict[int | str, dict[str, Any]] = {
    **answers(
        s404="Unknown agent or skill",
        s503="The agent is paused (reason `paused`), or the chain cannot be reached now "
        "(reason `chain_unavailable`, with Retry-After); nothing was charged",
    ),
    200: {"description": "The result and its receipt", "headers": _PAYMENT_RESPONSE},
    202: {
        "model": Problem,
        "description": "The result exists; its payment is not settled yet (reason "
        "`settlement_pending`): send the same payment again or poll the task",
    },
    402: {
        "model": PaymentRequiredOut,
        "description": "Payment required, or the payment was refused (see `reason`)",
        "headers": _PAYMENT_REQUIRED,
    },
    409: {"model": Problem, "description": "The payment is paying for a task in flight"},
    502: {"model": Problem, "description": "The model failed; nothing was charged"},
}
"""What ``POST /agents/{name}/skills/{skill}`` may answer, for the OpenAPI."""


def _decoded(runtime: Runtime, header: str) -> PaymentPayload:
    """The header's payment; any shape the decoder did not foresee is a 402, not a 500."""
    try:
        return runtime.payments.decode(header)
    except PaymentRejectedError:
        raise
    except Exception as exc:  # a pure decode of client bytes: whatever breaks is their header
        raise PaymentRejectedError("malformed_payment", "cannot decode the header") from exc


def _resource_url(runtime: Runtime, offer: Quote) -> str:
    """The skill's URL under the configured public address (never the Host header)."""
    agent, skill = (url_quote(n, safe="") for n in (offer.agent.name, offer.skill.name))
    return f"{runtime.settings.public_base_url}/agents/{agent}/skills/{skill}"


def _payment_required(
    runtime: Runtime,
    offer: Quote,
    error: str,
    reason: str | None,
    payment: PaymentPayload | None = None,
    **extra: Any,
) -> JSONResponse:
    required = runtime.payments.payment_required(
        offer.accepts,
        _resource_url(runtime, offer),
        f"{offer.agent.name}/{offer.skill.name}: {offer.skill.instructions}",
        error,
        payment,
    )
    document = required.model_dump(mode="json", by_alias=True, exclude_none=True)
    return JSONResponse(
        document | {"reason": reason or "payment_required"} | extra,
        402,
        headers={
            PAYMENT_REQUIRED_HEADER: encode_payment_required_header(required),
            "Cache-Control": "no-store",
        },
    )
