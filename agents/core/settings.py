"""Runtime settings: where state lives and which chain to use.

One ``Settings`` object, read from ``AGENTDAO_*`` environment variables (and a
``.env`` file if present). Nothing here is governed: what an agent *does* lives
on chain in its AgentConfig; these settings only say where the operator runs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.core.errors import ConfigFileError

__all__ = ["Settings"]

LOCAL_CHAIN_ID = 31337


class Settings(BaseSettings):
    """Where agentdao keeps its state and how it reaches the chain."""

    model_config = SettingsConfigDict(env_prefix="AGENTDAO_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".agentdao"))
    """State directory: database, chain state, deployment manifest."""

    agents_file: Path = Field(default=Path("agents.yaml"))
    """The operator's description of the agents to launch."""

    rpc_url: str | None = None
    """JSON-RPC URL of an external chain. Unset: run the embedded anvil chain."""

    chain_host: str = "127.0.0.1"
    """Interface the embedded chain listens on."""

    chain_port: int = Field(default=8545, ge=0, le=65535)
    """Port of the embedded chain; 0 picks a free one."""

    deployer_key: SecretStr | None = None
    """Private key that deploys and pays gas. Required with ``rpc_url``;
    the embedded chain uses its dev account 0. Never logged."""

    database_url: str | None = None
    """SQLAlchemy URL. Unset: SQLite under ``home``. PostgreSQL works too."""

    confirmations: int = Field(default=0, ge=0)
    """Blocks a chain event must be buried under before the runtime acts on it."""

    api_host: str = "127.0.0.1"
    """Interface the HTTP API listens on."""

    api_port: int = Field(default=8000, ge=0, le=65535)
    """Port of the HTTP API."""

    public_url: str | None = None
    """The API's address as customers reach it (``https://agents.example.org``), named in
    every 402's ``resource.url``. Unset: ``http://{api_host}:{api_port}``. The request's
    Host header is never used: a client controls it."""

    facilitator_url: str | None = None
    """URL of a remote x402 facilitator. Unset: verify and settle in-process, paying
    gas from the deployer key (the embedded chain's dev account 0)."""

    payment_timeout: int = Field(default=300, ge=30)
    """Seconds a customer's payment authorization stays valid (x402 ``maxTimeoutSeconds``)."""

    withdraw_delay: int = Field(default=900, ge=900, le=2_592_000)
    """Seconds a customer's prepaid channel (x402 ``batch-settlement``) waits between
    asking to withdraw its deposit and getting it back: the runtime's window to claim
    the vouchers it holds. The scheme allows 15 minutes to 30 days."""

    deposit_calls: int = Field(default=100, ge=1, le=1_000_000)
    """The smallest deposit a prepaid channel is asked for, in calls of the skill: every
    deposit is a transaction, so a larger one spreads its gas over more calls."""

    claim_seconds: float = Field(default=30.0, gt=0)
    """How often the runtime claims the vouchers its agents hold and settles the money
    into their treasuries (one transaction for up to 64 channels, and one settle)."""

    config_sync_seconds: float = Field(default=1.0, gt=0)
    """How often the runtime polls the chain for new AgentConfig versions (one cheap
    ``eth_blockNumber`` call when nothing happened)."""

    @classmethod
    def load(cls) -> Settings:
        """Read the settings from the environment.

        Raises:
            ConfigFileError: a variable holds a value that cannot be used.
        """
        try:
            return cls()
        except ValueError as exc:
            raise ConfigFileError(f"settings: {exc}") from exc

    @property
    def embedded_chain(self) -> bool:
        """True when agentdao runs its own local chain."""
        return self.rpc_url is None

    @property
    def public_base_url(self) -> str:
        """The API's public address without a trailing slash (see ``public_url``)."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def manifest_path(self) -> Path:
        """The deployment manifest, ``deployments.json``."""
        return self.home / "deployments.json"

    @property
    def chain_state_path(self) -> Path:
        """Where the embedded chain persists its state between runs."""
        return self.home / "chain" / "anvil-state.json"

    @property
    def resolved_database_url(self) -> str:
        """The database to use: the configured URL or SQLite under ``home``."""
        return self.database_url or f"sqlite:///{(self.home / 'agentdao.db').resolve()}"

    def as_environment(self) -> dict[str, str]:
        """These settings as ``AGENTDAO_*`` variables (what :meth:`load` reads back): how a
        process hands its settings to the worker processes it starts."""
        variables = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            variables[f"AGENTDAO_{name.upper()}"] = str(value)
        return variables

    @model_validator(mode="after")
    def _external_chain_needs_a_key(self) -> Settings:
        if self.rpc_url is not None and self.deployer_key is None:
            raise ValueError("AGENTDAO_RPC_URL is set, so AGENTDAO_DEPLOYER_KEY must be set too")
        return self
