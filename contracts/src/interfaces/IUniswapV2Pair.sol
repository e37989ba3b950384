// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The part of a Uniswap V2 pair the buyback's price floor reads (Uniswap V2's published pair
/// interface: reserves, the order of the two tokens and the cumulative prices).
interface IUniswapV2Pair {
    /// @notice The lower-sorted of the pair's two tokens.
    function token0() external view returns (address);

    /// @notice The reserves as of the pair's last update and that update's timestamp modulo 2**32.
    function getReserves()
        external
        view
        returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);

    /// @notice Σ (reserve1 / reserve0 as UQ112x112) × seconds, up to the pair's last update; wraps by design.
    function price0CumulativeLast() external view returns (uint256);

    /// @notice Σ (reserve0 / reserve1 as UQ112x112) × seconds, up to the pair's last update; wraps by design.
    function price1CumulativeLast() external view returns (uint256);
}
