"""Open the chain the settings name: an external RPC, or the embedded anvil."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eth_account import Account
from eth_account.signers.local import LocalAccount

from agents.core.errors import ChainUnreachableError
from agents.core.settings import LOCAL_CHAIN_ID, Settings
from contracts.accounts import dev_account
from contracts.chain import EmbeddedChain, wait_for_rpc
from contracts.client import Chain

__all__ = ["connect", "deployer_of", "is_local"]


def is_local(chain: Chain) -> bool:
    """True on the embedded (or any local anvil) chain, where dev accounts and MockUSDC exist."""
    return chain.chain_id == LOCAL_CHAIN_ID


def deployer_of(settings: Settings) -> LocalAccount:
    """The account that deploys and pays gas: the configured key, else dev account 0."""
    if settings.deployer_key is not None:
        signer: LocalAccount = Account.from_key(settings.deployer_key.get_secret_value())
        return signer
    return dev_account(0)


@contextmanager
def connect(settings: Settings) -> Iterator[Chain]:
    """Yield a :class:`Chain` for the settings' chain.

    With the embedded chain, reuse a node already answering on the configured
    port (an ``agentdao up`` in another terminal), else start one for the
    duration of the block.

    Raises:
        ChainUnreachableError: the external RPC does not answer.
    """
    if settings.rpc_url is not None:
        wait_for_rpc(settings.rpc_url, timeout=5.0)
        yield Chain(settings.rpc_url, deployer_of(settings))
        return
    embedded = EmbeddedChain(settings.chain_state_path, settings.chain_host, settings.chain_port)
    try:
        wait_for_rpc(embedded.rpc_url, timeout=0.3)
        started = False
    except ChainUnreachableError:
        embedded.start()
        started = True
    try:
        yield Chain(embedded.rpc_url, deployer_of(settings))
    finally:
        if started:
            embedded.stop()
