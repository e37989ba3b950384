"""The chain sync: AgentConfig ``ConfigUpdated`` and ``PauseChanged`` events -> config
history + live config.

One :class:`ConfigSync` watches every agent of a deployment. Each poll reads new
events from a cursor kept in the database, in bounded block ranges, only from
blocks buried under ``confirmations`` blocks. For every new version it asks the
sink (the runtime's ``apply_config``) to adopt it, then stores a
:class:`~dao.history.ConfigVersion` row and moves the cursor, both in one database
transaction.

Guarantees:

- **Idempotent.** A version already stored with the same transaction is skipped;
  reading a range twice stores and applies nothing new.
- **Reorg-safe.** Besides the confirmation depth, the cursor keeps the hash of its
  block; when that block changed, the sync rewinds ``rewind_blocks``, forgets the
  versions above, hands the sink the last accepted version left, and reads again.
- **Survives RPC outages.** Every RPC call is retried with exponential backoff (the
  shared :class:`~contracts.logs.LogScanner`, which also bounds each range); if
  the node stays down the poll raises :class:`ChainUnreachableError` having lost
  nothing: the next poll resumes from the cursor.
- **One proposal, one step.** When a transaction writes several versions (a proposal
  with several changes), all are stored but only the last is handed to the sink; the
  others are marked superseded, so the runtime never serves half a proposal.
- **At least once.** The sink runs before the commit, so a crash in between hands
  the same version again on restart; sinks must treat a version they already hold
  as a no-op.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, delete, select
from web3 import Web3
from web3.contract import Contract
from web3.types import LogReceipt

from agents.core.errors import ChainUnreachableError
from agents.core.live_config import CONFIG_ABI_TYPE, LiveConfig
from agents.core.settings import Settings
from contracts import artifacts
from contracts.logs import LogScanner, RetryPolicy, ScanPolicy
from contracts.manifest import AgentAddresses, Manifest
from dao.describe import as_tuple, diff_configs
from dao.history import ConfigVersion, VersionStatus

__all__ = [
    "AppliedVersion",
    "ConfigSink",
    "ConfigSync",
    "RetryPolicy",
    "SyncCursor",
    "WatchedAgent",
]

log = logging.getLogger(__name__)

ConfigSink = Callable[[str, LiveConfig], str | None]
"""``(agent name, new config) -> None`` when adopted, else the reason it was refused.
``Runtime.apply_config`` has this shape."""

CONFIG_UPDATED_TOPIC = HexBytes(
    Web3.keccak(text=f"ConfigUpdated(uint64,bytes32,{CONFIG_ABI_TYPE})")
)
PAUSE_CHANGED_TOPIC = HexBytes(Web3.keccak(text="PauseChanged(uint64,bytes32,bool)"))
PROPOSAL_EXECUTED_TOPIC = HexBytes(Web3.keccak(text="ProposalExecuted(uint256)"))

T = TypeVar("T")


class SyncCursor(SQLModel, table=True):
    """How far the sync has read one agent's AgentConfig on one chain."""

    __tablename__ = "sync_cursor"

    chain_id: int = Field(primary_key=True)
    contract: str = Field(primary_key=True)
    """The AgentConfig address (checksummed)."""
    agent: str
    block_number: int
    """The last block fully processed (-1: none yet)."""
    block_hash: str
    """That block's hash, to notice a reorg under the cursor ("" when none)."""
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class WatchedAgent:
    """An agent the sync follows: its name and the contracts it reads."""

    name: str
    config: str
    governor: str


@dataclass(frozen=True)
class AppliedVersion:
    """A version one poll handed to the sink (or took back after a reorg)."""

    agent: str
    version: int
    config_hash: str
    status: VersionStatus
    reason: str | None
    block_number: int
    tx_hash: str


class ConfigSync:
    """Follows every agent's AgentConfig and feeds new versions to a sink.

    Args:
        rpc_url: JSON-RPC endpoint to read (read only: no key needed).
        engine: The runtime's database (``open_database``); holds cursor and history.
        agents: Agent name -> addresses (a manifest's ``agents``), or watched agents.
        sink: Adopts a new config or returns why not; see :data:`ConfigSink`.
        confirmations: Blocks an event must be buried under (0 on anvil).
        start_block: Where reading starts for an agent with no cursor yet.
        max_block_range: Most blocks one ``eth_getLogs`` covers.
        rewind_blocks: How far back a detected reorg rewinds the cursor.
        retry: Backoff for failing RPC calls.
        timeout: Seconds before one RPC request is abandoned.
    """

    def __init__(
        self,
        rpc_url: str,
        engine: Engine,
        agents: Mapping[str, AgentAddresses] | Iterable[WatchedAgent],
        sink: ConfigSink,
        *,
        confirmations: int = 0,
        start_block: int = 0,
        max_block_range: int = 2000,
        rewind_blocks: int = 64,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
    ) -> None:
        if isinstance(agents, Mapping):
            watched = [WatchedAgent(n, a.config, a.governor) for n, a in agents.items()]
        else:
            watched = list(agents)
        self.rpc_url = rpc_url
        self.engine = engine
        self.sink = sink
        self.confirmations = confirmations
        self.start_block = start_block
        self.max_block_range = max_block_range
        self.rewind_blocks = rewind_blocks
        self.retry = retry or RetryPolicy()
        # web3's own retries would hide outages from our backoff and slow it down.
        self.w3 = Web3(
            Web3.HTTPProvider(
                rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
            )
        )
        config_abi = artifacts.load("AgentConfig").abi
        governor_abi = artifacts.load("AgentGovernor").abi
        self._agents: dict[str, WatchedAgent] = {}
        self._configs: dict[str, Contract] = {}
        self._governors: dict[str, Contract] = {}
        for agent in watched:
            address = Web3.to_checksum_address(agent.config)
            self._agents[address] = agent
            self._configs[address] = self.w3.eth.contract(address=address, abi=config_abi)
            self._governors[agent.name] = self.w3.eth.contract(
                address=Web3.to_checksum_address(agent.governor), abi=governor_abi
            )
        self._scanner = LogScanner(self.w3, ScanPolicy(max_block_range, self.retry))
        self._chain_id: int | None = None
        self._synced_to: int | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: Engine,
        sink: ConfigSink,
        *,
        rpc_url: str | None = None,
        manifest: Manifest | None = None,
    ) -> ConfigSync:
        """A sync of every agent in the deployment manifest, with the settings'
        confirmation depth. ``rpc_url`` defaults to the configured or embedded chain."""
        manifest = manifest or Manifest.load(settings.manifest_path)
        agents = manifest.agents if manifest else {}
        url = rpc_url or settings.rpc_url or f"http://{settings.chain_host}:{settings.chain_port}"
        start = manifest.start_block if manifest else 0
        return cls(
            url, engine, agents, sink, confirmations=settings.confirmations, start_block=start
        )

    # ------------------------------------------------------------------ polling

    def poll_once(self) -> list[AppliedVersion]:
        """Read what is new since the cursor, apply it, and return what was applied.

        Costs one ``eth_blockNumber`` when no block arrived since the last poll.

        Raises:
            ChainUnreachableError: the node did not answer within the retry policy;
                the cursor stays at the last committed range.
        """
        safe_head = self._rpc(lambda: int(self.w3.eth.block_number)) - self.confirmations
        if safe_head < 0 or safe_head == self._synced_to:
            return []
        chain_id = self._chain()
        applied: list[AppliedVersion] = []
        for (number, block_hash), addresses in self._groups(chain_id).items():
            applied += self._sync_group(chain_id, addresses, number, block_hash, safe_head)
        self._synced_to = safe_head
        return applied

    def run(self, stop: threading.Event, interval: float) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set; log failures and go on."""
        while not stop.is_set():
            try:
                self.poll_once()
            except ChainUnreachableError as exc:
                log.warning("config sync: %s; retrying from the cursor", exc)
            stop.wait(interval)

    # ----------------------------------------------------------------- internals

    def _rpc(self, call: Callable[[], T]) -> T:
        return self._scanner.call(call)

    def _chain(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._rpc(lambda: int(self.w3.eth.chain_id))
        return self._chain_id

    def _groups(self, chain_id: int) -> dict[tuple[int, str], list[str]]:
        """Agents grouped by cursor, so agents at the same block share one getLogs."""
        with Session(self.engine) as session:
            cursors = {
                c.contract: c
                for c in session.exec(select(SyncCursor).where(SyncCursor.chain_id == chain_id))
            }
        groups: dict[tuple[int, str], list[str]] = defaultdict(list)
        for address in self._agents:
            cursor = cursors.get(address)
            key = (cursor.block_number, cursor.block_hash) if cursor else (self.start_block - 1, "")
            groups[key].append(address)
        return groups

    def _block_hash(self, number: int) -> str:
        block = self._rpc(lambda: self.w3.eth.get_block(number))
        return HexBytes(block["hash"]).to_0x_hex()

    def _sync_group(
        self, chain_id: int, addresses: list[str], cursor: int, cursor_hash: str, safe_head: int
    ) -> list[AppliedVersion]:
        applied: list[AppliedVersion] = []
        if cursor >= safe_head:
            return applied
        if cursor_hash and self._block_hash(cursor) != cursor_hash:
            cursor, undone = self._rewind(chain_id, addresses, cursor)
            applied += undone
        topics = [[CONFIG_UPDATED_TOPIC, PAUSE_CHANGED_TOPIC]]
        for start, end in self._scanner.ranges(cursor + 1, safe_head):
            end_hash = self._block_hash(end)  # before the logs: a later reorg is then noticed
            # one range at a time, each committed with its cursor: an outage loses nothing
            logs = self._scanner.logs(addresses, topics, start, end)
            applied += self._apply_range(chain_id, addresses, logs, end, end_hash)
        return applied

    def _apply_range(
        self,
        chain_id: int,
        addresses: list[str],
        logs: list[LogReceipt],
        end: int,
        end_hash: str,
    ) -> list[AppliedVersion]:
        applied: list[AppliedVersion] = []
        ordered = sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"]))
        with Session(self.engine) as session:
            last_of_tx = {(e["transactionHash"], e["address"]): e["logIndex"] for e in ordered}
            for entry in ordered:
                final = (
                    last_of_tx[(entry["transactionHash"], entry["address"])] == entry["logIndex"]
                )
                result = self._apply_log(session, chain_id, entry, final)
                if result is not None:
                    applied.append(result)
            for address in addresses:
                self._move_cursor(session, chain_id, address, end, end_hash)
            session.commit()  # versions and cursor together, or neither
        return applied

    def _apply_log(
        self, session: Session, chain_id: int, entry: LogReceipt, final: bool
    ) -> AppliedVersion | None:
        """Store one version; hand it to the sink if it is the last its transaction wrote
        (one proposal's changes land together)."""
        address = Web3.to_checksum_address(entry["address"])
        agent = self._agents[address]
        version, live = self._version_of(session, chain_id, agent, entry)
        tx_hash = HexBytes(entry["transactionHash"]).to_0x_hex()
        existing = session.exec(
            select(ConfigVersion).where(
                ConfigVersion.chain_id == chain_id,
                ConfigVersion.agent == agent.name,
                ConfigVersion.version == version,
            )
        ).first()
        if existing is not None and existing.tx_hash == tx_hash:
            return None  # already applied: re-reading a range changes nothing
        block = self._rpc(lambda: self.w3.eth.get_block(entry["blockNumber"]))
        if HexBytes(block["hash"]) != HexBytes(entry["blockHash"]):
            raise ChainUnreachableError(self.rpc_url, "the chain reorganised while reading")
        # Compare with the version before this transaction, so the applied version lists
        # every change its proposal made.
        previous = None
        for earlier in range(version - 1, 0, -1):
            previous = session.exec(
                select(ConfigVersion).where(
                    ConfigVersion.chain_id == chain_id,
                    ConfigVersion.agent == agent.name,
                    ConfigVersion.version == earlier,
                )
            ).first()
            if previous is None or previous.tx_hash != tx_hash:
                break
        before = previous.live_config if previous else None
        changes = diff_configs(before, live)
        if before is None and version > 1:
            changes = ["first version the sync saw (earlier versions not recorded)"]
        reason = self._offer(agent.name, live) if final else None
        if final:
            status = VersionStatus.REJECTED if reason else VersionStatus.ACCEPTED
        else:
            status = VersionStatus.SUPERSEDED
        fields: dict[str, Any] = {
            "config_hash": live.config_hash,
            "config_json": live.model_dump_json(),
            "changes_json": json.dumps(changes),
            "tx_hash": tx_hash,
            "block_number": int(entry["blockNumber"]),
            "block_hash": HexBytes(entry["blockHash"]).to_0x_hex(),
            "block_time": datetime.fromtimestamp(int(block["timestamp"]), UTC),
            "log_index": int(entry["logIndex"]),
            "proposal_id": self._proposal_of(agent, entry) if version > 1 else None,
            "status": status,
            "reason": reason,
            "recorded_at": datetime.now(UTC),
        }
        if existing is None:
            row = ConfigVersion(chain_id=chain_id, agent=agent.name, version=version, **fields)
        else:
            row = existing
            for name, value in fields.items():
                setattr(row, name, value)
        session.add(row)
        if reason:
            log.warning("%s: config v%d rejected: %s", agent.name, version, reason)
        elif final:
            log.info("%s: config v%d live (%s)", agent.name, version, "; ".join(changes))
        return AppliedVersion(
            agent.name, version, live.config_hash, row.status, reason, row.block_number, tx_hash
        )

    def _version_of(
        self, session: Session, chain_id: int, agent: WatchedAgent, entry: LogReceipt
    ) -> tuple[int, LiveConfig]:
        """The config one event describes. A content write carries all of it; a pause or
        resume only the flag, applied to the version before it (from the history, else
        read from the chain at that block: the content is the same)."""
        contract = self._configs[Web3.to_checksum_address(entry["address"])]
        if HexBytes(entry["topics"][0]) == CONFIG_UPDATED_TOPIC:
            event: Any = contract.events.ConfigUpdated().process_log(entry)
            args = event["args"]
            version = int(args["version"])
            previous = self._latest_before(session, chain_id, agent.name, version)
            paused = previous.paused if previous is not None else self._paused_at(contract, entry)
            live = LiveConfig.from_struct(version, as_tuple(args["config"]), paused)
        else:
            event = contract.events.PauseChanged().process_log(entry)
            args = event["args"]
            version = int(args["version"])
            previous = self._latest_before(session, chain_id, agent.name, version)
            if previous is None:
                block = int(entry["blockNumber"])
                struct = self._rpc(lambda: contract.functions.config().call(block_identifier=block))
                previous = LiveConfig.from_struct(version - 1, struct)
            live = previous.with_pause(version, bool(args["paused"]))
        if live.config_hash != HexBytes(args["configHash"]).to_0x_hex():
            # our reading of the event disagrees with the contract's own hash: never serve it
            raise ChainUnreachableError(
                self.rpc_url, f"{agent.name} v{version}: config hash mismatch"
            )
        return version, live

    @staticmethod
    def _latest_before(
        session: Session, chain_id: int, agent: str, version: int
    ) -> LiveConfig | None:
        row = session.exec(
            select(ConfigVersion)
            .where(
                ConfigVersion.chain_id == chain_id,
                ConfigVersion.agent == agent,
                ConfigVersion.version < version,
            )
            .order_by(col(ConfigVersion.version).desc())
        ).first()
        return row.live_config if row is not None else None

    def _paused_at(self, contract: Contract, entry: LogReceipt) -> bool:
        block = int(entry["blockNumber"])
        return bool(self._rpc(lambda: contract.functions.paused().call(block_identifier=block)))

    def _offer(self, agent: str, live: LiveConfig) -> str | None:
        try:
            return self.sink(agent, live)
        except Exception as exc:  # a sink bug must not wedge the sync on one version
            log.exception("%s: applying config v%d failed", agent, live.version)
            return f"the runtime failed to apply it: {type(exc).__name__}: {exc}"

    def _proposal_of(self, agent: WatchedAgent, entry: LogReceipt) -> str | None:
        receipt = self._rpc(lambda: self.w3.eth.get_transaction_receipt(entry["transactionHash"]))
        governor = self._governors[agent.name]
        for item in receipt["logs"]:
            if (
                Web3.to_checksum_address(item["address"]) == governor.address
                and item["topics"]
                and HexBytes(item["topics"][0]) == PROPOSAL_EXECUTED_TOPIC
            ):
                event: Any = governor.events.ProposalExecuted().process_log(item)
                return str(int(event["args"]["proposalId"]))
        return None

    def _move_cursor(
        self, session: Session, chain_id: int, address: str, number: int, block_hash: str
    ) -> None:
        cursor = session.get(SyncCursor, (chain_id, address))
        if cursor is None:
            cursor = SyncCursor(
                chain_id=chain_id,
                contract=address,
                agent=self._agents[address].name,
                block_number=number,
                block_hash=block_hash,
            )
        cursor.block_number = number
        cursor.block_hash = block_hash
        cursor.updated_at = datetime.now(UTC)
        session.add(cursor)

    def _rewind(
        self, chain_id: int, addresses: list[str], cursor: int
    ) -> tuple[int, list[AppliedVersion]]:
        """The cursor's block was replaced: step back and forget what may be gone."""
        target = max(self.start_block - 1, cursor - self.rewind_blocks)
        target_hash = self._block_hash(target) if target >= 0 else ""
        names = [self._agents[a].name for a in addresses]
        log.warning("config sync: reorg under block %d; rewinding to %d", cursor, target)
        undone: list[AppliedVersion] = []
        with Session(self.engine) as session:
            dropped = session.exec(
                select(ConfigVersion).where(
                    ConfigVersion.chain_id == chain_id,
                    col(ConfigVersion.agent).in_(names),
                    ConfigVersion.block_number > target,
                )
            ).all()
            touched = {row.agent for row in dropped}
            session.exec(
                delete(ConfigVersion).where(
                    col(ConfigVersion.chain_id) == chain_id,
                    col(ConfigVersion.agent).in_(names),
                    col(ConfigVersion.block_number) > target,
                )
            )
            for address in addresses:
                self._move_cursor(session, chain_id, address, target, target_hash)
            session.flush()
            for name in sorted(touched):
                survivor = session.exec(
                    select(ConfigVersion)
                    .where(
                        ConfigVersion.chain_id == chain_id,
                        ConfigVersion.agent == name,
                        ConfigVersion.status == VersionStatus.ACCEPTED,
                    )
                    .order_by(col(ConfigVersion.version).desc())
                ).first()
                if survivor is not None:
                    live = survivor.live_config
                    self._offer(name, live)
                    undone.append(
                        AppliedVersion(
                            name,
                            live.version,
                            live.config_hash,
                            VersionStatus.ACCEPTED,
                            None,
                            survivor.block_number,
                            survivor.tx_hash,
                        )
                    )
            session.commit()
        return target, undone
