"""A holder's steps as transactions for their own wallet: the same checks as staking's,
and calls that do what they say once the holder sends them."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3

from agents.core.money import TOKEN_DECIMALS
from contracts.accounts import dev_account
from contracts.client import Chain
from contracts.manifest import AgentAddresses
from contracts.unsigned import UnsignedTx
from tests.conftest import Deployment
from treasury import wallet
from treasury.errors import TreasuryError

TOKEN = 10**TOKEN_DECIMALS
HOLDER = dev_account(2)  # 250,000 SCRIBE at launch


def send(chain: Chain, tx: UnsignedTx, signer: LocalAccount) -> None:
    """What the holder's wallet does with an unsigned transaction."""
    signed = signer.sign_transaction(
        {
            "to": Web3.to_checksum_address(tx.to),
            "data": HexStr(tx.data),
            "gas": 500_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
            "nonce": chain.w3.eth.get_transaction_count(signer.address),
            "chainId": chain.chain_id,
        }
    )
    receipt = chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_raw_transaction(signed.raw_transaction)
    )
    assert receipt["status"] == 1, tx.what


@pytest.fixture
def scribe(deployment: Deployment, chain: Chain) -> AgentAddresses:
    return deployment.result.manifest.agents["scribe"]


def test_a_stake_is_an_approval_and_a_stake_then_only_a_stake(
    chain: Chain, scribe: AgentAddresses
) -> None:
    first = wallet.stake_txs(chain, scribe, HOLDER.address, 1000 * TOKEN)
    assert [t.what for t in first] == [
        "let the stake take 1,000 tokens",
        "stake 1,000 tokens",
    ]
    for tx in first:
        send(chain, tx, HOLDER)
    held = wallet.position(chain, scribe, HOLDER.address)
    assert (held.staked, held.tokens) == (1000 * TOKEN, 249_000 * TOKEN)
    assert held.payment_balance > 0

    send(chain, wallet.unstake_tx(chain, scribe, HOLDER.address, 400 * TOKEN), HOLDER)
    held = wallet.position(chain, scribe, HOLDER.address)
    assert (held.staked, held.cooling_down) == (600 * TOKEN, 400 * TOKEN)
    assert held.withdrawable_at > 0
    with pytest.raises(TreasuryError, match="cooling down"):
        wallet.withdraw_tx(chain, scribe, HOLDER.address)


def test_what_staking_refuses_is_refused_before_anything_is_signed(
    chain: Chain, scribe: AgentAddresses
) -> None:
    with pytest.raises(TreasuryError, match="above zero"):
        wallet.stake_txs(chain, scribe, HOLDER.address, 0)
    with pytest.raises(TreasuryError, match="holds 250,000 tokens"):
        wallet.stake_txs(chain, scribe, HOLDER.address, 250_001 * TOKEN)
    with pytest.raises(TreasuryError, match="stakes 0 tokens"):
        wallet.unstake_tx(chain, scribe, HOLDER.address)
    with pytest.raises(TreasuryError, match="nothing to claim"):
        wallet.claim_tx(chain, scribe, HOLDER.address)
    with pytest.raises(TreasuryError, match="nothing unstaked"):
        wallet.withdraw_tx(chain, scribe, HOLDER.address)
