"""Print the gas of earnings on a real anvil: distribute vs a push-payment loop, claim, buyback.

Run: ``.venv/bin/python -m benchmarks.earnings [--stakers 1,100,1000]``.

Launches the sample agents.yaml on a fresh anvil (Uniswap V2 and scribe's pool
included), then for each staker count: stakes 1-100 SCRIBE for that many
distinct accounts, pays income, and measures ``AgentTreasury.distribute()``
(which notifies AgentStake's O(1) accumulator) against ``PushPayout.payAll``
(contracts/test/gas/PushPayout.sol: one loop paying every staker its pro-rata
share) for the same stakers in the same run. Each figure is the second of two
runs (warm storage: recipients already hold the token), the steady state a
scheduled job sees. Then a staker's claim and the keeper's buyback-and-burn.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from pydantic import SecretStr
from web3 import Web3
from web3.contract import Contract

from agents.app.database import open_database
from agents.core.money import TOKEN_DECIMALS, USDC_DECIMALS
from agents.core.settings import Settings
from agents.core.spec import load_agents_file
from agents.runtime.launch import launch
from contracts.accounts import dev_account
from contracts.build import ROOT, forge_binary
from contracts.chain import EmbeddedChain
from contracts.client import Chain
from contracts.manifest import AgentAddresses

USDC = 10**USDC_DECIMALS  # the local MockUSDC
TOKEN = 10**TOKEN_DECIMALS
PUSH_ARTIFACT = ROOT / "contracts" / "out" / "PushPayout.sol" / "PushPayout.json"


def _push_payout(chain: Chain) -> Contract:
    if not PUSH_ARTIFACT.is_file():
        subprocess.run([forge_binary(), "build"], cwd=ROOT, check=True, capture_output=True)
    data = json.loads(PUSH_ARTIFACT.read_text())
    factory = chain.w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"]["object"])
    receipt = chain.send(factory.constructor(), what="deploy PushPayout")
    address = receipt["contractAddress"]
    assert address is not None
    push: Contract = chain.w3.eth.contract(address=address, abi=data["abi"])
    return push


def _send_many(chain: Chain, signer: LocalAccount, calls: list[Any], gas: int) -> None:
    """Sign with consecutive nonces and send without waiting on each: anvil mines in order."""
    nonce = chain.w3.eth.get_transaction_count(signer.address, "pending")
    last = None
    for offset, call in enumerate(calls):
        tx = call.build_transaction(
            {"from": signer.address, "nonce": nonce + offset, "gas": gas, "chainId": chain.chain_id}
        )
        last = chain.w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
    if last is not None:
        receipt = chain.w3.eth.wait_for_transaction_receipt(last, timeout=600)
        assert receipt["status"] == 1, "a staking transaction reverted"


def _add_stakers(chain: Chain, scribe: AgentAddresses, accounts: list[str]) -> None:
    funder = dev_account(0)
    token = chain.contract("AgentToken", scribe.token)
    stake = chain.contract("AgentStake", scribe.stake)
    amounts = [(1 + i % 100) * TOKEN for i in range(len(accounts))]
    chain.send(token.functions.approve(scribe.stake, sum(amounts)), funder)
    calls = [stake.functions.stakeFor(a, n) for a, n in zip(accounts, amounts, strict=True)]
    _send_many(chain, funder, calls, gas=400_000)


def _gas(chain: Chain, call: Any, signer: LocalAccount | None = None) -> int:
    return int(chain.send(call, signer)["gasUsed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stakers", default="1,100,1000", help="comma-separated staker counts")
    counts = [int(n) for n in parser.parse_args().stakers.split(",")]

    with tempfile.TemporaryDirectory() as home, EmbeddedChain(state_path=None, port=0) as node:
        chain = Chain(node.rpc_url, dev_account(0))
        # a push loop to 1,000 stakers needs more than anvil's default 30M block
        chain.w3.provider.make_request("evm_setBlockGasLimit", [hex(300_000_000)])  # type: ignore[arg-type]
        settings = Settings(
            home=Path(home),
            rpc_url=node.rpc_url,
            deployer_key=SecretStr(Web3.to_hex(dev_account(0).key)),
        )
        agents_file = load_agents_file(ROOT / "agents.yaml")
        engine = open_database(settings)
        manifest = launch(settings, agents_file, chain, engine, report=lambda _: None).manifest
        scribe = manifest.agents["scribe"]
        assert manifest.payment_token is not None
        usdc = chain.contract("MockUSDC", manifest.payment_token)
        treasury = chain.contract("AgentTreasury", scribe.treasury)
        stake = chain.contract("AgentStake", scribe.stake)
        push = _push_payout(chain)
        chain.send(usdc.functions.mint(push.address, 10**15))

        print(f"anvil {node.rpc_url}; scribe split 50/20/10/20; income 100 USDC per run")
        print(f"{'stakers':>8}  {'distribute()':>13}  {'push loop':>12}  {'push/distribute':>15}")
        stakers: list[str] = []
        for count in counts:
            new = [
                str(Web3.to_checksum_address(Web3.keccak(text=f"staker-{i}")[:20]))
                for i in range(len(stakers), count)
            ]
            _add_stakers(chain, scribe, new)
            stakers += new
            assert stake.functions.totalSupply().call() > 0
            for _ in range(2):  # the second run is the steady state
                chain.send(usdc.functions.transfer(scribe.treasury, 100 * USDC), dev_account(5))
                distribute = _gas(chain, treasury.functions.distribute())
                loop = _gas(
                    chain,
                    push.functions.payAll(manifest.payment_token, scribe.stake, stakers, 50 * USDC),
                )
            print(f"{count:>8,}  {distribute:>13,}  {loop:>12,}  {loop / distribute:>14.1f}x")

        holder = dev_account(1)
        token = chain.contract("AgentToken", scribe.token)
        chain.send(token.functions.approve(scribe.stake, 1000 * TOKEN), holder)
        chain.send(stake.functions.stake(1000 * TOKEN), holder)
        chain.send(usdc.functions.transfer(scribe.treasury, 100 * USDC), dev_account(5))
        chain.send(treasury.functions.distribute())
        claim = _gas(chain, stake.functions.claim(), holder)
        fund = treasury.functions.buybackBalance().call()
        deadline = chain.w3.eth.get_block("latest")["timestamp"] + 120
        buyback = _gas(chain, treasury.functions.buyback(fund, 1, deadline))
        print(f"\nclaim():    {claim:,} gas (a staker's first claim)")
        print(
            f"buyback():  {buyback:,} gas (keeper swaps {fund / USDC:g} USDC on Uniswap V2 "
            "and burns what arrived)"
        )


if __name__ == "__main__":
    main()
