// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {
    GovernorCountingSimple
} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {
    GovernorVotesQuorumFraction
} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {
    GovernorTimelockControl
} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {
    GovernorPreventLateQuorum
} from "@openzeppelin/contracts/governance/extensions/GovernorPreventLateQuorum.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

/// @title AgentGovernor
/// @notice The agent's DAO: stakers in AgentStake propose and vote (timestamp clock), and passed proposals
/// run through the agent's timelock, which owns AgentConfig and AgentTreasury.
contract AgentGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorPreventLateQuorum
{
    /// @notice A zero threshold would let anyone spam proposals; refused at construction and on change.
    error AgentGovernorZeroProposalThreshold();
    error AgentGovernorZeroQuorum();

    /// @param stake The AgentStake whose checkpointed shares are the votes.
    /// @param timelock_ The agent's timelock; this governor must be its proposer and canceller.
    /// @param name_ The governor's name (EIP-712 domain).
    /// @param votingDelay_ Seconds between proposal and voting start.
    /// @param votingPeriod_ Seconds of voting.
    /// @param proposalThreshold_ Votes needed to propose; must be > 0.
    /// @param quorumPercent Percent of the total stake at the snapshot that must vote for or abstain.
    /// @param lateQuorumExtension Seconds voting stays open after a quorum reached late.
    constructor(
        IVotes stake,
        TimelockController timelock_,
        string memory name_,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumPercent,
        uint48 lateQuorumExtension
    )
        Governor(name_)
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(stake)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock_)
        GovernorPreventLateQuorum(lateQuorumExtension)
    {}

    /// @inheritdoc Governor
    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    /// @inheritdoc Governor
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @inheritdoc Governor
    function proposalDeadline(uint256 proposalId)
        public
        view
        override(Governor, GovernorPreventLateQuorum)
        returns (uint256)
    {
        return super.proposalDeadline(proposalId);
    }

    /// @inheritdoc GovernorSettings
    function _setProposalThreshold(uint256 newProposalThreshold) internal override {
        if (newProposalThreshold == 0) revert AgentGovernorZeroProposalThreshold();
        super._setProposalThreshold(newProposalThreshold);
    }

    /// @inheritdoc GovernorVotesQuorumFraction
    /// @dev A zero quorum would let one vote above the threshold pass anything.
    function _updateQuorumNumerator(uint256 newQuorumNumerator) internal override {
        if (newQuorumNumerator == 0) revert AgentGovernorZeroQuorum();
        super._updateQuorumNumerator(newQuorumNumerator);
    }

    /// @inheritdoc Governor
    function _tallyUpdated(uint256 proposalId) internal override(Governor, GovernorPreventLateQuorum) {
        super._tallyUpdated(proposalId);
    }

    /// @inheritdoc Governor
    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    /// @inheritdoc Governor
    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    /// @inheritdoc Governor
    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    /// @inheritdoc Governor
    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
