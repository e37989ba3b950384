// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title AgentTimelock
/// @notice OpenZeppelin's TimelockController under the agent's name, so the build emits an artifact for it.
/// It owns AgentConfig and AgentTreasury; the governor is its only proposer and canceller.
contract AgentTimelock is TimelockController {
    /// @param minDelay Seconds between queue and execute.
    /// @param proposers Granted the proposer and canceller roles (the governor).
    /// @param executors Granted the executor role (address(0) opens it to anyone).
    /// @param admin Optional admin for setup, renounced at the end of launch (address(0) for none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
