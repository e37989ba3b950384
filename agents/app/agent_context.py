"""What every per-agent command starts from: the settings, the manifest, the chain, the
agent's addresses and the signer it names. Commands wire; the rules live in ``dao`` and
``treasury``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from eth_account.signers.local import LocalAccount

from agents.core.errors import UnknownAgentError
from agents.core.settings import Settings
from contracts.accounts import load_signer
from contracts.client import Chain
from contracts.manifest import AgentAddresses, Manifest
from contracts.session import connect, is_local
from dao.governance import AgentGovernance
from treasury.ledger import payment_decimals

__all__ = ["AgentContext", "open_agent"]


@dataclass
class AgentContext:
    """One launched agent on the chain the settings name."""

    name: str
    settings: Settings
    manifest: Manifest
    chain: Chain
    addresses: AgentAddresses

    @cached_property
    def payment_decimals(self) -> int:
        """Decimals of the token the agent's treasury is paid in, asked of the token."""
        return payment_decimals(
            self.chain, self.chain.contract("AgentTreasury", self.addresses.treasury)
        )

    @cached_property
    def symbol(self) -> str:
        """The agent token's symbol (``SCRIBE``)."""
        token = self.chain.contract("AgentToken", self.addresses.token)
        return str(token.functions.symbol().call())

    @cached_property
    def governance(self) -> AgentGovernance:
        """The agent's governance steps, bound to its contracts."""
        return AgentGovernance.of(
            self.chain,
            self.name,
            self.addresses,
            payment_decimals=self.payment_decimals,
            start_block=self.manifest.start_block,
        )

    def signer(self, reference: str | None) -> LocalAccount:
        """``--from``: a dev account index (local chains) or a keystore file (password from
        ``AGENTDAO_KEYSTORE_PASSWORD``); None is the deployer."""
        if reference is None:
            return self.chain.signer
        password = os.environ.get("AGENTDAO_KEYSTORE_PASSWORD")
        return load_signer(reference, local=is_local(self.chain), password=password)


@contextmanager
def open_agent(name: str) -> Iterator[AgentContext]:
    """The launched agent ``name``, connected for the duration of the block.

    Raises:
        UnknownAgentError: no launched agent of that name (or none launched at all).
        ChainUnreachableError: the chain does not answer.
    """
    settings = Settings.load()
    manifest = Manifest.load(settings.manifest_path)
    if manifest is None:
        raise UnknownAgentError(name, ())
    addresses = manifest.agent(name)
    with connect(settings) as chain:
        yield AgentContext(name, settings, manifest, chain, addresses)
