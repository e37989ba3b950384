// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title AgentTimelock
/// @notice OpenZeppelin's TimelockController, owner of the agent's AgentConfig and AgentTreasury. The governor
/// is its proposer and canceller; the guardian is a canceller too, to stop an attack in the timelock window.
/// @dev One addition: a queued operation that only undoes the guardian's powers (removes the guardian, revokes
/// a guardian's canceller role, resumes a paused agent or treasury) is a remedy, and only a proposer may cancel
/// it. Otherwise a rogue or stolen guardian key could cancel its own removal forever and keep the treasury
/// frozen. A remedy bundled with anything else is an ordinary operation the guardian may cancel.
contract AgentTimelock is TimelockController {
    bytes4 private constant SET_GUARDIAN = bytes4(keccak256("setGuardian(address)"));
    bytes4 private constant SET_PAUSED = bytes4(keccak256("setPaused(bool)"));
    bytes4 private constant UNPAUSE = bytes4(keccak256("unpause()"));
    bytes4 private constant REVOKE_ROLE = bytes4(keccak256("revokeRole(bytes32,address)"));

    mapping(bytes32 id => bool) private _remedies;

    /// @notice Emitted when a scheduled operation was recognised as a remedy the guardian cannot cancel.
    event RemedyScheduled(bytes32 indexed id);

    /// @notice Only a proposer may cancel operation `id`: it only undoes the guardian's powers.
    error AgentTimelockRemedyNotCancellable(bytes32 id);

    /// @param minDelay Seconds between queue and execute.
    /// @param proposers Granted the proposer and canceller roles (the governor).
    /// @param executors Granted the executor role (address(0) opens it to anyone).
    /// @param admin Optional admin for setup, renounced at the end of launch (address(0) for none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}

    /// @inheritdoc TimelockController
    function schedule(
        address target,
        uint256 value,
        bytes calldata data,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.schedule(target, value, data, predecessor, salt, delay);
        if (_isRemedy(target, value, data)) {
            _markRemedy(hashOperation(target, value, data, predecessor, salt));
        }
    }

    /// @inheritdoc TimelockController
    function scheduleBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.scheduleBatch(targets, values, payloads, predecessor, salt, delay);
        for (uint256 i; i < targets.length; ++i) {
            if (!_isRemedy(targets[i], values[i], payloads[i])) return;
        }
        _markRemedy(hashOperationBatch(targets, values, payloads, predecessor, salt));
    }

    /// @inheritdoc TimelockController
    /// @dev A remedy can be cancelled by a proposer only (the governor, whose own rules apply).
    function cancel(bytes32 id) public override {
        if (_remedies[id] && !hasRole(PROPOSER_ROLE, msg.sender)) {
            revert AgentTimelockRemedyNotCancellable(id);
        }
        super.cancel(id);
    }

    /// @notice Whether operation `id` only undoes the guardian's powers (and so the guardian cannot cancel it).
    function isRemedy(bytes32 id) external view returns (bool) {
        return _remedies[id];
    }

    function _markRemedy(bytes32 id) private {
        _remedies[id] = true;
        emit RemedyScheduled(id);
    }

    /// @dev removing the guardian, resuming, or revoking the canceller role of a non-proposer (a guardian)
    function _isRemedy(address target, uint256 value, bytes calldata data) private view returns (bool) {
        if (value != 0 || data.length < 4) return false;
        bytes4 selector = bytes4(data[:4]);
        if (selector == UNPAUSE) return data.length == 4;
        if (data.length == 36) {
            uint256 arg = abi.decode(data[4:], (uint256));
            if (selector == SET_GUARDIAN || selector == SET_PAUSED) return arg == 0;
            return false;
        }
        if (selector == REVOKE_ROLE && data.length == 68 && target == address(this)) {
            (bytes32 role, address account) = abi.decode(data[4:], (bytes32, address));
            return role == CANCELLER_ROLE && !hasRole(PROPOSER_ROLE, account);
        }
        return false;
    }
}
