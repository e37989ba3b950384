"""HTTP for holders and operators who sign with their own wallet: proposals, a holder's
position, revenue by hire, tasks, and every governance or staking step as unsigned
transactions.

``POST /agents/{name}/transactions/<step>`` checks the step as the CLI would (the
rules live in :mod:`dao.governance` and :mod:`treasury.wallet`) and answers the
calls to sign, in order; it never signs, sends or holds a key. The dashboard signs
them with the visitor's wallet (or, on the embedded chain, a dev account).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3

from agents.app.limits import GuardedRoute
from agents.app.problems import HTTPProblem, answers
from agents.core.errors import InvalidAmountError, UnknownAgentError
from agents.core.money import TOKEN_DECIMALS, parse_amount, to_decimal
from agents.runtime.revenue import revenue_over_time
from agents.runtime.runtime import Runtime
from agents.runtime.tasks import Task, TaskState
from contracts.manifest import AgentAddresses
from contracts.unsigned import UnsignedTx
from dao.errors import (
    AlreadyVotedError,
    ConfigChangeError,
    DuplicateProposalError,
    NotEnoughVotesError,
    ProposalNotFoundError,
    ProposalStateError,
)
from dao.governance import AgentGovernance, next_wait, parse_support
from treasury import wallet
from treasury.errors import TreasuryError

__all__ = ["RuntimeDep", "get_runtime", "governance_of", "router"]

router = APIRouter(tags=["holders"], route_class=GuardedRoute)


def get_runtime(request: Request) -> Runtime:
    """The runtime the app serves (``app.state.runtime``)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

Address = Annotated[
    str,
    Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="An account", examples=[f"0x{'70' * 20}"]),
]
Tokens = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,30}(\.[0-9]{1,18})?$",
        description="Whole agent tokens, decimals allowed",
        examples=["1000"],
    ),
]
ProposalRef = Annotated[
    str,
    Field(
        pattern=r"^([0-9]{6,80}|0x[0-9a-fA-F]{1,64})$",
        description="Proposal id (decimal, 0x-hex, or a unique prefix of 6+ digits)",
    ),
]


# ---------------------------------------------------------------- answers


class TaskRow(BaseModel):
    """A task as the operator sees it (no input, no result: those belong to the payer)."""

    id: str
    agent: str
    skill: str
    state: TaskState
    scheme: str
    charged: bool
    payer: str
    amount_units: int
    config_version: int
    settlement_tx: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskRow:
        """Shape a stored task."""
        created, updated = (
            t if t.tzinfo else t.replace(tzinfo=UTC) for t in (task.created_at, task.updated_at)
        )
        return cls(
            id=task.id,
            agent=task.agent,
            skill=task.skill,
            state=task.state,
            scheme=task.scheme,
            charged=task.charged,
            payer=task.payer,
            amount_units=task.amount,
            config_version=task.config_version,
            settlement_tx=task.settlement_tx,
            error=task.error,
            created_at=created,
            updated_at=updated,
        )


class ProposalOut(BaseModel):
    """A proposal with where it stands; votes in whole tokens, times by the chain's clock."""

    id: str
    proposer: str
    description: str
    state: str
    votes_for: Decimal
    votes_against: Decimal
    votes_abstain: Decimal
    quorum: Decimal
    quorum_reached: bool
    voting_opens: datetime
    voting_closes: datetime
    executable_at: datetime | None
    """When a queued proposal may execute; null until queued."""
    waits_until: datetime | None
    """What its next step waits for on the clock (voting opens, closes, timelock ends)."""
    changes: list[str]
    """What it changes, in words, against the config it was made for."""
    tx: str


class ProposalsOut(BaseModel):
    """An agent's proposals, newest first."""

    agent: str
    now: datetime
    """The chain's clock: deadlines are in its time, which a local chain may move."""
    proposal_threshold: Decimal
    """Staked tokens a proposer needs."""
    proposals: list[ProposalOut]


class HolderOut(BaseModel):
    """One account in one agent: tokens, stake, votes and earnings."""

    agent: str
    account: str
    tokens: Decimal
    staked: Decimal
    votes: Decimal
    claimable: Decimal
    """Dollars the stake earned, claimable now."""
    cooling_down: Decimal
    withdrawable_at: datetime | None
    payment_balance: Decimal
    """Dollars in the wallet."""


class RevenuePointOut(BaseModel):
    at: datetime
    income: Decimal
    hires: int
    cumulative: Decimal


class RevenueOut(BaseModel):
    """An agent's revenue by settled hire, over time (before any distribution)."""

    agent: str
    total: Decimal
    hires: int
    points: list[RevenuePointOut]


class TxOut(BaseModel):
    """A transaction to sign and send as is."""

    to: str
    data: str
    what: str

    @classmethod
    def of(cls, tx: UnsignedTx) -> TxOut:
        return cls(to=tx.to, data=tx.data, what=tx.what)


class Prepared(BaseModel):
    """The transactions of one step, to send in order, each after the last one landed."""

    transactions: list[TxOut]
    changes: list[str] = Field(default_factory=list)
    """For a proposal: what it changes, in words (the diff to show before signing)."""
    proposal_id: str | None = None


# ---------------------------------------------------------------- requests


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StakeRequest(_Body):
    account: Address
    tokens: Tokens


class UnstakeRequest(_Body):
    account: Address
    tokens: Tokens | None = None
    """Default: everything staked."""


class AccountRequest(_Body):
    account: Address


class ProposeRequest(_Body):
    proposer: Address
    description: str = Field(min_length=1, max_length=4000)
    changes: dict[
        Annotated[str, Field(pattern=r"^[^=\s]{1,100}$")], Annotated[str, Field(max_length=8192)]
    ] = Field(
        min_length=1,
        max_length=16,
        description="The CLI's --set keys and values: price.<skill>, system_prompt, model, "
        "temperature, split.<share>, hire_budget, ... (no @file values)",
        examples=[{"price.summarize": "0.07"}],
    )


class VoteRequest(_Body):
    proposal: ProposalRef
    voter: Address
    support: Literal["for", "against", "abstain"]
    reason: str = Field(default="", max_length=1000)


class ProposalRequest(_Body):
    proposal: ProposalRef


# ---------------------------------------------------------------- wiring


def governance_of(runtime: Runtime, name: str) -> AgentGovernance:
    """The agent's governance on the runtime's chain.

    Raises:
        HTTPProblem: 404 for an unknown agent.
    """
    return AgentGovernance.of(
        runtime.chain,
        name,
        _addresses(runtime, name),
        payment_decimals=runtime.payments.token.decimals,
        start_block=runtime.manifest.start_block,
    )


def _addresses(runtime: Runtime, name: str) -> AgentAddresses:
    try:
        return runtime.manifest.agent(name)
    except UnknownAgentError as exc:
        raise HTTPProblem(404, exc.message, "unknown_agent") from exc


@contextmanager
def _refusals() -> Iterator[None]:
    """Domain refusals as answers in the one error shape."""
    try:
        yield
    except UnknownAgentError as exc:
        raise HTTPProblem(404, exc.message, "unknown_agent") from exc
    except ProposalNotFoundError as exc:
        raise HTTPProblem(404, exc.message, "unknown_proposal") from exc
    except (ConfigChangeError, InvalidAmountError) as exc:
        raise HTTPProblem(422, exc.message, "invalid_change") from exc
    except NotEnoughVotesError as exc:
        raise HTTPProblem(409, exc.message, "not_enough_votes") from exc
    except AlreadyVotedError as exc:
        raise HTTPProblem(409, exc.message, "already_voted") from exc
    except DuplicateProposalError as exc:
        raise HTTPProblem(409, exc.message, "duplicate_proposal") from exc
    except ProposalStateError as exc:
        raise HTTPProblem(409, exc.message, "proposal_state") from exc
    except TreasuryError as exc:
        raise HTTPProblem(409, exc.message, "not_allowed") from exc


def _tokens(units: int) -> Decimal:
    return to_decimal(units, TOKEN_DECIMALS)


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


_READ = answers(
    s404="Unknown agent",
    s503="The chain cannot be reached now (reason `chain_unavailable`, with Retry-After)",
)
_STEP = answers(
    s404="Unknown agent (`unknown_agent`) or proposal (`unknown_proposal`)",
    s409="The step is not allowed now, and the answer says why: `not_enough_votes`, "
    "`already_voted`, `duplicate_proposal`, `proposal_state`, `not_allowed`",
    s422="Malformed request, or a change or amount that cannot be used (`invalid_change`)",
    s503="The chain cannot be reached now (reason `chain_unavailable`, with Retry-After)",
)


# ---------------------------------------------------------------- reading


@router.get("/tasks", response_model=list[TaskRow], responses=answers())
def list_tasks(
    runtime: RuntimeDep,
    agent: Annotated[str | None, Query(max_length=200, description="Only this agent's")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TaskRow]:
    """The runtime's tasks, newest first, with state and settlement."""
    return [TaskRow.of(t) for t in runtime.tasks.list(agent, limit)]


@router.get("/agents/{name}/proposals", response_model=ProposalsOut, responses=_READ)
def list_proposals(name: str, runtime: RuntimeDep) -> ProposalsOut:
    """Every proposal of the agent, newest first: state, tallies, quorum, times by the
    chain's clock, and what it changes in words."""
    governance = governance_of(runtime, name)
    found = []
    now = governance.now()
    for proposal in reversed(governance.proposals()):
        status = governance.status(proposal)
        now = status.now
        wait = next_wait(status)
        found.append(
            ProposalOut(
                id=str(proposal.id),
                proposer=proposal.proposer,
                description=proposal.description,
                state=status.state_name,
                votes_for=_tokens(status.votes_for),
                votes_against=_tokens(status.votes_against),
                votes_abstain=_tokens(status.votes_abstain),
                quorum=_tokens(status.quorum),
                quorum_reached=status.quorum_reached,
                voting_opens=_at(status.snapshot),
                voting_closes=_at(status.deadline),
                executable_at=_at(status.eta) if status.eta else None,
                waits_until=_at(wait) if wait is not None else None,
                changes=governance.describe(proposal),
                tx=proposal.tx_hash,
            )
        )
    threshold = int(governance.governor.functions.proposalThreshold().call())
    return ProposalsOut(
        agent=name, now=_at(now), proposal_threshold=_tokens(threshold), proposals=found
    )


@router.get("/agents/{name}/holders/{account}", response_model=HolderOut, responses=_READ)
def get_holder(
    name: str,
    account: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="An account")],
    runtime: RuntimeDep,
) -> HolderOut:
    """Where ``account`` stands in the agent: tokens, stake, votes, earnings, cooldown."""
    governance = governance_of(runtime, name)
    checksummed = Web3.to_checksum_address(account)
    held = wallet.position(runtime.chain, _addresses(runtime, name), checksummed)
    dollars = runtime.payments.token.dollars
    return HolderOut(
        agent=name,
        account=checksummed,
        tokens=_tokens(held.tokens),
        staked=_tokens(held.staked),
        votes=_tokens(governance.voting_power(checksummed)),
        claimable=dollars(held.claimable),
        cooling_down=_tokens(held.cooling_down),
        withdrawable_at=_at(held.withdrawable_at) if held.withdrawable_at else None,
        payment_balance=dollars(held.payment_balance),
    )


@router.get("/agents/{name}/revenue", response_model=RevenueOut, responses=_READ)
def get_revenue(name: str, runtime: RuntimeDep) -> RevenueOut:
    """The agent's revenue from settled hires over time (at most 48 points): each hire
    counts when its payment settled, before any distribution."""
    _addresses(runtime, name)
    dollars = runtime.payments.token.dollars
    points, total, hires = [], 0, 0
    for bucket in revenue_over_time(runtime.tasks.engine, name):
        total += bucket.income
        hires += bucket.hires
        points.append(
            RevenuePointOut(
                at=bucket.start,
                income=dollars(bucket.income),
                hires=bucket.hires,
                cumulative=dollars(total),
            )
        )
    return RevenueOut(agent=name, total=dollars(total), hires=hires, points=points)


# ---------------------------------------------------------------- steps to sign


def _checksummed(address: str) -> str:
    return str(Web3.to_checksum_address(address))


@router.post("/agents/{name}/transactions/stake", response_model=Prepared, responses=_STEP)
def prepare_stake(name: str, body: StakeRequest, runtime: RuntimeDep) -> Prepared:
    """Stake: an approval when the allowance is short, then the stake."""
    with _refusals():
        amount = parse_amount(body.tokens, TOKEN_DECIMALS)
        txs = wallet.stake_txs(
            runtime.chain, _addresses(runtime, name), _checksummed(body.account), amount
        )
    return Prepared(transactions=[TxOut.of(t) for t in txs])


@router.post("/agents/{name}/transactions/unstake", response_model=Prepared, responses=_STEP)
def prepare_unstake(name: str, body: UnstakeRequest, runtime: RuntimeDep) -> Prepared:
    """Unstake some or all: votes and earnings stop, the tokens cool down."""
    with _refusals():
        amount = None if body.tokens is None else parse_amount(body.tokens, TOKEN_DECIMALS)
        tx = wallet.unstake_tx(
            runtime.chain, _addresses(runtime, name), _checksummed(body.account), amount
        )
    return Prepared(transactions=[TxOut.of(tx)])


@router.post("/agents/{name}/transactions/withdraw", response_model=Prepared, responses=_STEP)
def prepare_withdraw(name: str, body: AccountRequest, runtime: RuntimeDep) -> Prepared:
    """Withdraw unstaked tokens after their cooldown."""
    with _refusals():
        tx = wallet.withdraw_tx(
            runtime.chain, _addresses(runtime, name), _checksummed(body.account)
        )
    return Prepared(transactions=[TxOut.of(tx)])


@router.post("/agents/{name}/transactions/claim", response_model=Prepared, responses=_STEP)
def prepare_claim(name: str, body: AccountRequest, runtime: RuntimeDep) -> Prepared:
    """Claim what the stake earned."""
    with _refusals():
        tx = wallet.claim_tx(runtime.chain, _addresses(runtime, name), _checksummed(body.account))
    return Prepared(transactions=[TxOut.of(tx)])


@router.post("/agents/{name}/transactions/propose", response_model=Prepared, responses=_STEP)
def prepare_propose(name: str, body: ProposeRequest, runtime: RuntimeDep) -> Prepared:
    """A config change as a proposal: what it changes in words (the diff to show before
    signing) and the ``propose`` transaction. Checked as ``agentdao propose`` checks it:
    values, price band, split summing to 100 %, the proposer's votes."""
    governance = governance_of(runtime, name)
    with _refusals():
        calls = governance.plan([f"{k}={v}" for k, v in body.changes.items()], files=False)
        changes = governance.describe_calls(calls)
        pid, tx = governance.prepare_propose(calls, body.description, _checksummed(body.proposer))
    return Prepared(transactions=[TxOut.of(tx)], changes=changes, proposal_id=str(pid))


@router.post("/agents/{name}/transactions/vote", response_model=Prepared, responses=_STEP)
def prepare_vote(name: str, body: VoteRequest, runtime: RuntimeDep) -> Prepared:
    """A vote with the voter's stake at the proposal's snapshot."""
    governance = governance_of(runtime, name)
    with _refusals():
        tx = governance.prepare_vote(
            body.proposal, parse_support(body.support), _checksummed(body.voter), body.reason
        )
    return Prepared(transactions=[TxOut.of(tx)])


@router.post("/agents/{name}/transactions/queue", response_model=Prepared, responses=_STEP)
def prepare_queue(name: str, body: ProposalRequest, runtime: RuntimeDep) -> Prepared:
    """Queue a succeeded proposal in the timelock (anyone may)."""
    governance = governance_of(runtime, name)
    with _refusals():
        tx = governance.prepare_queue(body.proposal)
    return Prepared(transactions=[TxOut.of(tx)])


@router.post("/agents/{name}/transactions/execute", response_model=Prepared, responses=_STEP)
def prepare_execute(name: str, body: ProposalRequest, runtime: RuntimeDep) -> Prepared:
    """Execute a queued proposal after its timelock delay (anyone may)."""
    governance = governance_of(runtime, name)
    with _refusals():
        tx = governance.prepare_execute(body.proposal)
    return Prepared(transactions=[TxOut.of(tx)])
