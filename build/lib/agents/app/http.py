"""The HTTP API: discover agents, hire them with x402, look tasks up.

``POST /agents/{name}/skills/{skill}`` speaks x402 v2: without a payment it answers
402 with the requirements in the ``PAYMENT-REQUIRED`` header (and the body); with a
``PAYMENT-SIGNATURE`` it runs the task, settles, and answers with the result, a
receipt and the ``PAYMENT-RESPONSE`` header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from x402.http import (
    PAYMENT_REQUIRED_HEADER,
    PAYMENT_RESPONSE_HEADER,
    PAYMENT_SIGNATURE_HEADER,
    encode_payment_required_header,
    encode_payment_response_header,
)
from x402.schemas import SettleResponse

from agents.app import governance_api, treasury_api
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

__all__ = ["create_app"]

AgentName = Annotated[str, Path(description="The agent's name, as launched")]


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
    addresses: dict[str, str]
    rejected_configs: list[RejectedConfigOut]


class HireRequest(BaseModel):
    """The task for the agent."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1, max_length=100_000)


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


class Problem(BaseModel):
    """An error answer."""

    error: str
    reason: str | None = None
    task_id: str | None = None


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
        split_bps={
            "stakers": live.split.stakers_bps,
            "operator": live.split.operator_bps,
            "buyback": live.split.buyback_bps,
            "reserve": live.split.reserve_bps,
        },
        hire_budget=live.hire_budget,
        network=runtime.payments.network,
        payment_token=token.address,
        payment_token_symbol=token.symbol,
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


def _problem(status: int, error: str, **extra: Any) -> JSONResponse:
    return JSONResponse(Problem(error=error, **extra).model_dump(exclude_none=True), status)


def _paid(runtime: Runtime, task: Task) -> JSONResponse:
    receipt = Receipt.of(task)
    assert task.result is not None
    settlement = SettleResponse(
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


def create_app(runtime: Runtime) -> FastAPI:
    """The API over ``runtime``. Its lifespan starts the runtime (recovery, jobs) and
    stops it after the server finished the requests in flight."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        scheduler = start_scheduler(runtime)
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
            await runtime.stop()

    app = FastAPI(
        title="agentdao",
        summary="AI agents owned by their token holders; hire them with x402.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(governance_api.router)
    app.dependency_overrides[governance_api.get_engine] = lambda: runtime.tasks.engine
    app.include_router(treasury_api.router)
    reader = treasury_api.TreasuryReader(runtime.chain, runtime.manifest)
    app.dependency_overrides[treasury_api.get_reader] = lambda: reader

    @app.exception_handler(HTTPException)
    async def http_problem(_: Request, exc: HTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail))

    def served_or_404(name: str) -> ServedAgent:
        try:
            return runtime.agent(name)
        except UnknownAgentError as exc:
            raise HTTPException(404, exc.message) from exc

    @app.get("/agents", response_model=list[AgentSummary])
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

    @app.get("/agents/{name}", response_model=AgentOut, responses={404: {"model": Problem}})
    def get_agent(name: AgentName) -> AgentOut:
        """An agent's live config (read from chain), prices, addresses and payment terms."""
        return _agent_out(runtime, served_or_404(name))

    @app.post(
        "/agents/{name}/skills/{skill}",
        response_model=HireResult,
        responses={
            402: {"model": Problem, "description": "Payment required, or the payment was refused"},
            404: {"model": Problem, "description": "Unknown agent or skill"},
            409: {"model": Problem, "description": "The payment is paying for a task in flight"},
            502: {"model": Problem, "description": "The model failed; nothing was charged"},
            503: {"model": Problem, "description": "The agent is paused"},
        },
    )
    async def hire_skill(
        name: AgentName, skill: str, body: HireRequest, request: Request
    ) -> JSONResponse:
        """Hire the agent for one task, paid with x402 (header ``PAYMENT-SIGNATURE``)."""
        try:
            offer = quote(runtime, name, skill)
        except (UnknownAgentError, UnknownSkillError) as exc:
            return _problem(404, exc.message)
        except AgentPausedError as exc:
            return _problem(503, exc.message)
        header = request.headers.get(PAYMENT_SIGNATURE_HEADER)
        if not header:
            return _payment_required(runtime, offer, request, "payment required", None)
        try:
            payment = runtime.payments.decode(header)
            task = await hire(runtime, offer, body.input, payment)
        except PaymentRejectedError as exc:
            return _payment_required(runtime, offer, request, exc.message, exc.reason)
        except PaymentInUseError as exc:
            return _problem(409, exc.message, reason="in_flight", task_id=exc.task_id)
        except TaskFailedError as exc:
            return _problem(502, exc.message, reason="task_failed", task_id=exc.task_id)
        except SettlementPendingError as exc:
            # Not 402: an x402 client would pay again while this payment may still land.
            return _problem(202, exc.message, reason="settlement_pending", task_id=exc.task_id)
        except SettlementError as exc:
            return _problem(402, exc.message, reason="settlement_failed", task_id=exc.task_id)
        return _paid(runtime, task)

    @app.get("/tasks/{task_id}", response_model=TaskOut, responses={404: {"model": Problem}})
    def get_task(task_id: str) -> TaskOut:
        """A task: its state, result (once succeeded), and settlement."""
        task = runtime.task(task_id)
        if task is None:
            raise HTTPException(404, f"no task {task_id}")
        return _task_out(task)

    return app


def _payment_required(
    runtime: Runtime, offer: Quote, request: Request, error: str, reason: str | None
) -> JSONResponse:
    required = runtime.payments.payment_required(
        offer.requirements,
        str(request.url),
        f"{offer.agent.name}/{offer.skill.name}: {offer.skill.instructions}",
        error,
    )
    document = required.model_dump(mode="json", by_alias=True, exclude_none=True)
    return JSONResponse(
        document | {"reason": reason or "payment_required"},
        402,
        headers={
            PAYMENT_REQUIRED_HEADER: encode_payment_required_header(required),
            "Cache-Control": "no-store",
        },
    )
