// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Stands in for a governor (`timelock()`) or an owned config, treasury or stake (`owner()`) in registry
/// tests: it reports whatever timelock it was built with.
contract AgentPartMock {
    address public immutable timelock;
    address public immutable owner;

    constructor(address timelock_) {
        timelock = timelock_;
        owner = timelock_;
    }
}

/// @notice Stands in for a stake in registry tests: owned by the timelock it was built with, staking `token`.
contract StakePartMock {
    address public immutable owner;
    address public immutable token;

    constructor(address timelock_, address token_) {
        owner = timelock_;
        token = token_;
    }
}
