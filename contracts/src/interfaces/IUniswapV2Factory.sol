// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The part of the Uniswap V2 factory the buyback's price floor reads.
interface IUniswapV2Factory {
    /// @notice The pair of `tokenA` and `tokenB` (either order), or address(0) if none was created.
    function getPair(address tokenA, address tokenB) external view returns (address pair);
}
