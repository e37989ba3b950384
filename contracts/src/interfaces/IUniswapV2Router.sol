// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The part of Uniswap V2's Router02 the treasury's buyback uses.
interface IUniswapV2Router {
    /// @notice The factory whose pairs the router swaps through.
    function factory() external view returns (address);

    /// @notice Swaps exactly `amountIn` of `path[0]` for at least `amountOutMin` of `path[path.length - 1]`.
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);

    /// @notice What `amountIn` of `path[0]` buys along `path` at the current reserves, fee included.
    function getAmountsOut(uint256 amountIn, address[] calldata path)
        external
        view
        returns (uint256[] memory amounts);
}
