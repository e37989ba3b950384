// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStakeGovernance} from "../../src/interfaces/IStakeGovernance.sol";

/// A governor stand-in for AgentStake unit tests: the cooldown is whatever the test sets.
contract MockStakeGovernance is IStakeGovernance {
    uint256 public unstakeCooldown;

    constructor(uint256 cooldown_) {
        unstakeCooldown = cooldown_;
    }

    function setUnstakeCooldown(uint256 cooldown_) external {
        unstakeCooldown = cooldown_;
    }
}
