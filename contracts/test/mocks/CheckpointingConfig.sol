// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AgentConfig} from "../../src/AgentConfig.sol";

interface ISplitCheckpointLike {
    function distribute() external returns (uint256);
}

/// @notice Stands in for AgentConfig's issue-8 behaviour the treasury depends on: a split change first
/// asks the treasury to distribute what is pending, under the split it was earned under.
contract CheckpointingConfig {
    AgentConfig.Split private _split = AgentConfig.Split(6_000, 2_000, 1_000, 1_000);
    address public guardian;
    address public treasury;

    constructor(address guardian_) {
        guardian = guardian_;
    }

    function bindTreasury(address treasury_) external {
        treasury = treasury_;
    }

    function split() external view returns (AgentConfig.Split memory) {
        return _split;
    }

    function setSplit(AgentConfig.Split calldata newSplit) external {
        if (treasury != address(0)) ISplitCheckpointLike(treasury).distribute();
        _split = newSplit;
    }
}
