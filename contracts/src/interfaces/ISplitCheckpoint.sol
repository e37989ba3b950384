// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ISplitCheckpoint
/// @notice What AgentConfig needs of the treasury: settle the income earned so far under the current
/// split, before governance changes it.
interface ISplitCheckpoint {
    /// @notice Splits every unit of pending income by the current split.
    /// @return income The amount split (0 when nothing was pending).
    function distribute() external returns (uint256 income);
}
