"""Uniswap V2 on the embedded chain: deployed from the npm packages' build artifacts.

``@uniswap/v2-core`` and ``@uniswap/v2-periphery`` ship compiled bytecode
(solc 0.5.16 / 0.6.6) in ``build/*.json``; launch deploys WETH9, the factory
and Router02 from it once per deployment, and seeds each agent's token/USDC
pool, so the treasury's buyback-and-burn trades on a real DEX. Local chains
only: on any other chain the operator names an existing router in agents.yaml.

Router02 computes pair addresses with a hard-coded init code hash
(``UniswapV2Library.pairFor``); :func:`check_init_code_hash` confirms that
hash is the keccak of the factory's pair bytecode before anything is deployed,
and :func:`seed_pool` confirms it again against the pair the factory created.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from agents.core.errors import DeploymentError
from contracts.client import Chain
from contracts.manifest import DexAddresses

__all__ = [
    "ROUTER_INIT_CODE_HASH",
    "DexArtifact",
    "Pool",
    "check_init_code_hash",
    "deploy_dex",
    "existing_dex",
    "factory",
    "load",
    "pair",
    "pair_address",
    "pool_of",
    "router",
    "seed_pool",
]

UNISWAP_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "@uniswap"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

ROUTER_INIT_CODE_HASH = "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
"""The pair init code hash Router02 1.1.0-beta.0 has compiled in (``UniswapV2Library``)."""

_BUILDS = {
    "WETH9": "v2-periphery/build/WETH9.json",
    "UniswapV2Factory": "v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "v2-core/build/UniswapV2Pair.json",
    "UniswapV2Router02": "v2-periphery/build/UniswapV2Router02.json",
}

Report = Callable[[str], None]


@dataclass(frozen=True)
class DexArtifact:
    """One Uniswap contract as its npm package built it."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


@cache
def load(name: str) -> DexArtifact:
    """The npm build artifact of ``WETH9``, ``UniswapV2Factory``, ``UniswapV2Pair`` or
    ``UniswapV2Router02``.

    Raises:
        DeploymentError: the npm packages are not installed (``npm install``).
    """
    path = UNISWAP_DIR / _BUILDS[name]
    if not path.is_file():
        raise DeploymentError(
            f"{path} is missing: run `npm install` (it installs @uniswap/v2-core and v2-periphery)"
        )
    data = json.loads(path.read_text())
    bytecode = data["bytecode"]
    return DexArtifact(
        name, data["abi"], bytecode if bytecode.startswith("0x") else "0x" + bytecode
    )


def check_init_code_hash() -> str:
    """The keccak of the pair bytecode, after checking Router02 has that hash compiled in.

    Raises:
        DeploymentError: the router would compute pair addresses the factory does not use.
    """
    pair_hash = Web3.keccak(hexstr=load("UniswapV2Pair").bytecode).hex().removeprefix("0x")
    if pair_hash != ROUTER_INIT_CODE_HASH or pair_hash not in load("UniswapV2Router02").bytecode:
        raise DeploymentError(
            f"Uniswap V2 pair init code hash {pair_hash} is not the one Router02 was built with "
            f"({ROUTER_INIT_CODE_HASH}); the router would route to the wrong pair addresses"
        )
    return pair_hash


def pair_address(factory_address: str, token_a: str, token_b: str) -> str:
    """The CREATE2 address of the ``token_a``/``token_b`` pair, as Router02 computes it."""
    token0, token1 = sorted((token_a, token_b), key=lambda a: int(a, 16))
    salt = Web3.solidity_keccak(["address", "address"], [token0, token1])
    digest = Web3.keccak(
        b"\xff"
        + bytes.fromhex(factory_address.removeprefix("0x"))
        + bytes(salt)
        + bytes.fromhex(ROUTER_INIT_CODE_HASH)
    )
    return str(Web3.to_checksum_address(digest[12:]))


def _bind(chain: Chain, name: str, address: str) -> Contract:
    return chain.w3.eth.contract(address=Web3.to_checksum_address(address), abi=load(name).abi)


def router(chain: Chain, address: str) -> Contract:
    """A bound UniswapV2Router02."""
    return _bind(chain, "UniswapV2Router02", address)


def factory(chain: Chain, address: str) -> Contract:
    """A bound UniswapV2Factory."""
    return _bind(chain, "UniswapV2Factory", address)


def pair(chain: Chain, address: str) -> Contract:
    """A bound UniswapV2Pair."""
    return _bind(chain, "UniswapV2Pair", address)


def _deploy(chain: Chain, name: str, *args: Any) -> str:
    artifact = load(name)
    constructor = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor(
        *args
    )
    receipt = chain.send(constructor, what=f"deploy {name}")
    address = receipt["contractAddress"]
    if address is None:
        raise DeploymentError(f"deploy {name}: no contract address in the receipt")
    return str(address)


def existing_dex(chain: Chain, router_address: str) -> DexAddresses:
    """The factory and WETH of a Uniswap V2 router already on the chain (named in agents.yaml).

    Raises:
        DeploymentError: no contract there, or not a Uniswap V2 router.
    """
    if not chain.has_code(router_address):
        raise DeploymentError(f"dex_router {router_address} holds no contract on this chain")
    bound = router(chain, router_address)
    try:
        uni_factory = bound.functions.factory().call()
        weth = bound.functions.WETH().call()
    except Exception as exc:  # any revert or decoding failure means the same thing here
        raise DeploymentError(f"dex_router {router_address} is not a Uniswap V2 router") from exc
    return DexAddresses(factory=uni_factory, router=bound.address, weth=weth)


def deploy_dex(chain: Chain, existing: DexAddresses | None, report: Report) -> DexAddresses:
    """Deploy WETH9, the factory and Router02, or return ``existing`` when the chain holds it.

    Raises:
        DeploymentError: npm artifacts missing or the init code hash check failed.
    """
    if existing is not None and all(
        chain.has_code(a) for a in (existing.factory, existing.router, existing.weth)
    ):
        report(f"uniswap   router {existing.router} (exists)")
        return existing
    check_init_code_hash()
    weth = _deploy(chain, "WETH9")
    # fee switch off for good: nobody may turn the protocol fee on
    uni_factory = _deploy(chain, "UniswapV2Factory", ZERO_ADDRESS)
    uni_router = _deploy(chain, "UniswapV2Router02", uni_factory, weth)
    report(f"uniswap   factory {uni_factory}, router {uni_router}, WETH9 {weth}")
    return DexAddresses(factory=uni_factory, router=uni_router, weth=weth)


@dataclass(frozen=True)
class Pool:
    """An agent token / payment token pool and its reserves (raw units)."""

    address: str
    token_reserve: int
    payment_reserve: int

    @property
    def exists(self) -> bool:
        return self.token_reserve > 0 and self.payment_reserve > 0


def pool_of(chain: Chain, dex: DexAddresses, token: str, payment_token: str) -> Pool:
    """The pool of ``token`` against ``payment_token`` (reserves 0 when it has none yet)."""
    address = factory(chain, dex.factory).functions.getPair(token, payment_token).call()
    if int(address, 16) == 0:
        return Pool(pair_address(dex.factory, token, payment_token), 0, 0)
    contract = pair(chain, address)
    reserve0, reserve1, _ = contract.functions.getReserves().call()
    if contract.functions.token0().call().lower() == token.lower():
        return Pool(str(address), reserve0, reserve1)
    return Pool(str(address), reserve1, reserve0)


def seed_pool(
    chain: Chain,
    dex: DexAddresses,
    *,
    token: str,
    payment_token: str,
    token_amount: int,
    payment_amount: int,
    provider: LocalAccount,
    report: Report,
) -> Pool:
    """Create the pool and add the first liquidity from ``provider``; nothing if it has liquidity.

    Raises:
        DeploymentError: the provider lacks the tokens, or the pair is not where Router02 looks.
    """
    pool = pool_of(chain, dex, token, payment_token)
    if pool.exists:
        return pool
    erc20 = chain.contract("AgentToken", token)
    usdc = chain.contract("MockUSDC", payment_token)
    for contract, amount, what in (
        (erc20, token_amount, "agent tokens"),
        (usdc, payment_amount, "USDC"),
    ):
        held = contract.functions.balanceOf(provider.address).call()
        if held < amount:
            raise DeploymentError(
                f"liquidity needs {amount} {what} (raw units) from {provider.address}, "
                f"which holds {held}"
            )
        chain.send(contract.functions.approve(dex.router, amount), provider)
    deadline = chain.w3.eth.get_block("latest")["timestamp"] + 600
    chain.send(
        router(chain, dex.router).functions.addLiquidity(
            token, payment_token, token_amount, payment_amount, 0, 0, provider.address, deadline
        ),
        provider,
    )
    pool = pool_of(chain, dex, token, payment_token)
    expected = pair_address(dex.factory, token, payment_token)
    if pool.address.lower() != expected.lower():
        raise DeploymentError(
            f"factory created the pair at {pool.address}, Router02 expects {expected}: "
            "init code hash mismatch"
        )
    return pool
