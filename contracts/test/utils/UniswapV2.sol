// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {IUniswapV2Router} from "../../src/interfaces/IUniswapV2Router.sol";

interface IUniswapV2Factory {
    function createPair(address tokenA, address tokenB) external returns (address pair);
    function getPair(address tokenA, address tokenB) external view returns (address pair);
}

interface IUniswapV2RouterFull is IUniswapV2Router {
    function addLiquidity(
        address tokenA,
        address tokenB,
        uint256 amountADesired,
        uint256 amountBDesired,
        uint256 amountAMin,
        uint256 amountBMin,
        address to,
        uint256 deadline
    ) external returns (uint256 amountA, uint256 amountB, uint256 liquidity);
}

/// @notice Deploys the real Uniswap V2 (WETH9, factory, Router02) from the npm packages' build artifacts,
/// the same bytecode launch deploys on the embedded chain.
library UniswapV2 {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    struct Dex {
        address weth;
        IUniswapV2Factory factory;
        IUniswapV2RouterFull router;
    }

    function deploy() internal returns (Dex memory dex) {
        dex.weth = _create(_code("v2-periphery/build/WETH9.json"), "");
        dex.factory =
            IUniswapV2Factory(_create(_code("v2-core/build/UniswapV2Factory.json"), abi.encode(address(0))));
        dex.router = IUniswapV2RouterFull(
            _create(_code("v2-periphery/build/UniswapV2Router02.json"), abi.encode(dex.factory, dex.weth))
        );
    }

    function _code(string memory artifact) private view returns (bytes memory) {
        string memory json = VM.readFile(string.concat("node_modules/@uniswap/", artifact));
        return VM.parseJsonBytes(json, ".bytecode");
    }

    function _create(bytes memory code, bytes memory args) private returns (address deployed) {
        bytes memory init = abi.encodePacked(code, args);
        assembly {
            deployed := create(0, add(init, 0x20), mload(init))
        }
        require(deployed != address(0), "UniswapV2: deploy failed");
    }
}
