"""Accounts that sign: the local chain's dev accounts, keystores and raw keys."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from agents.core.errors import AgentDaoError
from contracts.chain import DEV_MNEMONIC

__all__ = ["DEV_ACCOUNTS", "AccountError", "dev_account", "load_signer", "resolve_address"]

DEV_ACCOUNTS = 10
"""How many well-known accounts the embedded chain funds."""


class AccountError(AgentDaoError, ValueError):
    """An account reference that cannot be used here."""


@cache
def dev_account(index: int) -> LocalAccount:
    """The ``index``-th well-known account of the local chain (public keys; local use only)."""
    if not 0 <= index < DEV_ACCOUNTS:
        raise AccountError(f"dev:{index} does not exist; dev accounts are dev:0 to dev:9")
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(
        DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}"
    )
    return account


def resolve_address(holder: str, *, local: bool) -> str:
    """Turn ``dev:N`` or ``0x…`` into a checksummed address.

    Raises:
        AccountError: ``dev:N`` on a chain that is not local, or a bad address.
    """
    if holder.startswith("dev:"):
        if not local:
            raise AccountError(f"{holder} names a local dev account, but this chain is not local")
        return str(dev_account(int(holder.removeprefix("dev:"))).address)
    if not Web3.is_address(holder):
        raise AccountError(f"{holder!r} is not an address")
    return str(Web3.to_checksum_address(holder))


def load_signer(reference: str, *, local: bool, password: str | None = None) -> LocalAccount:
    """The account behind ``--from``: a dev account index, ``dev:N``, or a keystore file.

    Raises:
        AccountError: unknown reference, wrong password, or a dev account off a local chain.
    """
    if reference.isdigit() or reference.startswith("dev:"):
        if not local:
            raise AccountError("dev accounts exist only on the embedded chain; use a keystore")
        return dev_account(int(reference.removeprefix("dev:")))
    path = Path(reference)
    if not path.is_file():
        raise AccountError(f"--from {reference}: not a dev account index nor a keystore file")
    if password is None:
        raise AccountError(f"keystore {path} needs a password (AGENTDAO_KEYSTORE_PASSWORD)")
    try:
        key = Account.decrypt(json.loads(path.read_text()), password)
    except ValueError as exc:
        raise AccountError(f"cannot unlock keystore {path}: {exc}") from exc
    signer: LocalAccount = Account.from_key(key)
    return signer
