// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice The design AgentStake's accumulator avoids, for benchmarks/earnings.py: pay every staker its
/// pro-rata share of `amount` in one loop. Cost grows with the number of stakers.
contract PushPayout {
    using SafeERC20 for IERC20;

    function payAll(IERC20 rewardToken, IERC20 stake, address[] calldata stakers, uint256 amount) external {
        uint256 supply = stake.totalSupply();
        for (uint256 i; i < stakers.length; ++i) {
            uint256 share = (amount * stake.balanceOf(stakers[i])) / supply;
            if (share != 0) rewardToken.safeTransfer(stakers[i], share);
        }
    }
}
