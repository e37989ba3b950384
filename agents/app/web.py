"""The dashboard: the page at ``/`` (plain ES modules and CSS from ``agents/web/``, no
build step), what it needs to know about the deployment, and live updates.

Signing. The page never receives a private key and the runtime never signs for a
visitor. The page sends every transaction and signs every payment through an
EIP-1193 provider: the visitor's injected wallet (``window.ethereum``) on any chain,
or, on the embedded chain only (chain id 31337), ``POST /dashboard/chain``, a JSON-RPC
door to the local anvil node that passes a few methods through and lets anvil sign as
one of its well-known dev accounts (their keys are public; anvil holds them, not the
runtime). Off the local chain :func:`dashboard_config` offers no dev account, and the
door and the clock (``POST /dashboard/wait``) answer 403.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from agents.app import holders_api
from agents.app.holders_api import RuntimeDep, TaskRow, governance_of
from agents.app.limits import GuardedRoute
from agents.app.problems import HTTPProblem, answers
from agents.core.settings import LOCAL_CHAIN_ID
from agents.runtime.runtime import Runtime
from contracts.accounts import dev_account
from contracts.chain import advance_time
from dao.errors import GovernanceError, ProposalNotFoundError

__all__ = [
    "DEV_ACCOUNT_INDEXES",
    "PAGE_DIR",
    "DashboardConfig",
    "dashboard_config",
    "install",
    "router",
]

PAGE_DIR = Path(__file__).resolve().parent.parent / "web"
"""The page's files: ``index.html``, ES modules, CSS."""

DEV_ACCOUNT_INDEXES = range(1, 10)
"""Dev accounts the page may act as on the embedded chain. Not 0: the runtime sends
settlements and distributions from it, and a second sender would race its nonces."""

POLL_SECONDS = 1.0
"""How often an event stream looks for new tasks, config versions and blocks."""
STREAM_SECONDS = 15.0
"""An event stream ends after this long and the browser reconnects (``retry``) and reads
everything once (``ready``). A server that says when it stops (``app.state.stopping``,
set by :func:`agents.app.server.serve`) ends its streams within a poll; without it
(``--workers``) a stopping server waits at most this long for open pages."""

PASSED_THROUGH = frozenset(
    {
        "eth_chainId",
        "eth_blockNumber",
        "eth_getBlockByNumber",
        "eth_getTransactionReceipt",
        "eth_call",
        "eth_estimateGas",
        "eth_sendTransaction",
        "eth_signTypedData_v4",
    }
)
"""JSON-RPC methods the dev door passes to the local node; the two that sign only for
one of :data:`DEV_ACCOUNT_INDEXES`."""

router = APIRouter(tags=["dashboard"], route_class=GuardedRoute)


class DevAccount(BaseModel):
    """An anvil well-known account the page may act as (embedded chain only)."""

    index: int
    address: str


class DashboardConfig(BaseModel):
    """What the page needs before it draws: the chain, how it signs, the payment token."""

    chain_id: int
    network: str
    local: bool
    """The embedded chain: dev accounts and the clock button are offered."""
    signer: Literal["dev-accounts", "injected-wallet"]
    """How the page signs: as a dev account (embedded chain) or with the visitor's
    wallet (EIP-1193); a wallet works on the embedded chain too."""
    dev_accounts: list[DevAccount]
    """Empty unless ``local``."""
    payment_token: str
    payment_token_symbol: str
    payment_token_decimals: int
    agents: list[str]


def dashboard_config(runtime: Runtime) -> DashboardConfig:
    """The page's configuration for ``runtime``'s chain: dev accounts only on the
    embedded chain, never elsewhere."""
    local = runtime.chain.chain_id == LOCAL_CHAIN_ID
    token = runtime.payments.token
    return DashboardConfig(
        chain_id=runtime.chain.chain_id,
        network=runtime.payments.network,
        local=local,
        signer="dev-accounts" if local else "injected-wallet",
        dev_accounts=[
            DevAccount(index=i, address=dev_account(i).address) for i in DEV_ACCOUNT_INDEXES
        ]
        if local
        else [],
        payment_token=token.address,
        payment_token_symbol=token.symbol,
        payment_token_decimals=token.decimals,
        agents=sorted(runtime.agents),
    )


@router.get("/dashboard/config", response_model=DashboardConfig, responses=answers())
def get_config(runtime: RuntimeDep) -> DashboardConfig:
    """The chain the dashboard talks to and how it signs there."""
    return dashboard_config(runtime)


# ---------------------------------------------------------------- the page


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    """The dashboard."""
    return FileResponse(PAGE_DIR / "index.html", headers={"Cache-Control": "no-cache"})


# ---------------------------------------------------------------- live updates


class _Watch:
    """What changed since the last look: tasks (new or moved), served config versions,
    the chain's head. Blocking: call from a worker thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.tasks: dict[str, tuple[str, Any]] = {}
        self.versions: dict[str, int] = {}
        self.block = -1

    def look(self) -> list[ServerSentEvent]:
        events = []
        for task in reversed(self.runtime.tasks.list(limit=50)):
            mark = (task.state.value, task.updated_at)
            if self.tasks.get(task.id) != mark:
                self.tasks[task.id] = mark
                events.append(ServerSentEvent(event="task", data=TaskRow.of(task)))
        for name, served in self.runtime.agents.items():
            if self.versions.get(name) != served.live.version:
                self.versions[name] = served.live.version
                events.append(
                    ServerSentEvent(
                        event="config", data={"agent": name, "version": served.live.version}
                    )
                )
        block = int(self.runtime.chain.w3.eth.block_number)
        if block != self.block:
            self.block = block
            events.append(ServerSentEvent(event="block", data={"number": block}))
        return events


@router.get("/events", response_class=EventSourceResponse, include_in_schema=False)
async def events(request: Request, runtime: RuntimeDep) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: ``task`` (a task appeared or moved), ``config`` (an agent
    serves a new config version), ``block`` (the chain moved). The first look only
    primes the watch; ``ready`` tells the page to read everything once."""
    watch = _Watch(runtime)
    await asyncio.to_thread(watch.look)
    yield ServerSentEvent(event="ready", data={"block": watch.block}, retry=500)
    stopping: Callable[[], bool] = getattr(request.app.state, "stopping", lambda: False)
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    while loop.time() < ends and not stopping():
        await asyncio.sleep(POLL_SECONDS)
        try:
            found = await asyncio.to_thread(watch.look)
        except Exception:  # a chain or database hiccup: the page reconnects
            return
        for event in found:
            yield event


# ---------------------------------------------------------------- embedded chain only


class RpcRequest(BaseModel):
    """One JSON-RPC 2.0 call."""

    model_config = ConfigDict(extra="forbid")

    jsonrpc: Literal["2.0"] = "2.0"
    id: int | str = 1
    method: str = Field(max_length=64)
    params: list[Any] = Field(default_factory=list, max_length=4)


class WaitRequest(BaseModel):
    """Move the clock for a proposal's next step, or by a number of seconds."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = Field(default=None, max_length=200)
    proposal: str | None = Field(default=None, pattern=r"^([0-9]{6,80}|0x[0-9a-fA-F]{1,64})$")
    """With ``agent``: move past what this proposal waits for next."""
    seconds: int | None = Field(default=None, ge=1, le=30 * 86_400)
    """Else: move this many seconds and mine a block (a fresh stake counts as votes only
    from the next second's block on)."""


class WaitOut(BaseModel):
    now: int
    """The chain's clock after the move."""
    state: str | None
    """The proposal's state after the move (null when moved by seconds)."""


def _local_only(runtime: Runtime) -> None:
    if runtime.chain.chain_id != LOCAL_CHAIN_ID:
        raise HTTPProblem(
            403,
            "only the embedded chain lets the page act as a dev account or move the clock; "
            "sign with your wallet",
            "not_local",
        )


def _signing_account(call: RpcRequest) -> str | None:
    if call.method == "eth_sendTransaction" and call.params and isinstance(call.params[0], dict):
        return str(call.params[0].get("from", ""))
    if call.method == "eth_signTypedData_v4" and call.params:
        return str(call.params[0])
    return None


@router.post("/dashboard/chain", include_in_schema=False)
async def dev_chain(call: RpcRequest, runtime: RuntimeDep) -> JSONResponse:
    """Embedded chain only: pass one JSON-RPC call to the local node, which signs as one
    of the offered dev accounts. Answers 403 on any other chain."""
    _local_only(runtime)
    if call.method not in PASSED_THROUGH:
        raise HTTPProblem(403, f"{call.method} is not passed to the chain", "not_allowed")
    signer = _signing_account(call)
    offered = {dev_account(i).address.lower() for i in DEV_ACCOUNT_INDEXES}
    if call.method in ("eth_sendTransaction", "eth_signTypedData_v4") and (
        signer is None or signer.lower() not in offered
    ):
        raise HTTPProblem(403, "the page signs only as dev accounts 1 to 9", "not_allowed")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(runtime.chain.rpc_url, json=call.model_dump())
        return JSONResponse(answer.json())
    except (httpx.HTTPError, ValueError) as exc:
        raise HTTPProblem(
            503, "the embedded chain does not answer", "chain_unavailable", {"Retry-After": "5"}
        ) from exc


@router.post("/dashboard/wait", include_in_schema=False)
def dev_wait(body: WaitRequest, runtime: RuntimeDep) -> WaitOut:
    """Embedded chain only: the embedded chain's wait, as the CLI's ``--wait``. Move the
    clock past what a proposal waits for next (voting opens, voting closes, the timelock
    delay), or by ``seconds``."""
    _local_only(runtime)
    if body.agent is not None and body.proposal is not None:
        try:
            status = governance_of(runtime, body.agent).advance(body.proposal)
        except ProposalNotFoundError as exc:
            raise HTTPProblem(404, exc.message, "unknown_proposal") from exc
        except GovernanceError as exc:
            raise HTTPProblem(409, exc.message, "proposal_state") from exc
        return WaitOut(now=status.now, state=status.state_name)
    if body.seconds is None:
        raise HTTPProblem(422, "give agent and proposal, or seconds", "invalid_body")
    advance_time(runtime.chain.w3, body.seconds)
    now = int(runtime.chain.w3.eth.get_block("latest")["timestamp"])
    return WaitOut(now=now, state=None)


def install(app: FastAPI) -> None:
    """Serve the dashboard and its API from ``app`` (whose ``state.runtime`` is set)."""
    app.include_router(holders_api.router)
    app.include_router(router)
    app.mount("/web", StaticFiles(directory=PAGE_DIR), name="web")
