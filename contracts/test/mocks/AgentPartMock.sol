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
