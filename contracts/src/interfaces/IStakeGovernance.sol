// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What AgentStake asks of the governance its shares vote in.
interface IStakeGovernance {
    /// @notice Seconds an unstaked amount waits before it can be withdrawn: long enough that a stake counted
    /// at a proposal's snapshot cannot leave before that proposal's vote and timelock are over.
    function unstakeCooldown() external view returns (uint256);
}
