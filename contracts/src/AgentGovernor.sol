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
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentStake} from "./AgentStake.sol";
import {GovernorLateQuorum} from "./governance/GovernorLateQuorum.sol";
import {GovernorSupplyQuorum} from "./governance/GovernorSupplyQuorum.sol";
import {IStakeGovernance} from "./interfaces/IStakeGovernance.sol";

/// @title AgentGovernor
/// @notice The agent's DAO: stakers in AgentStake propose and vote (timestamp clock), and passed proposals
/// run through the agent's timelock, which owns AgentConfig and AgentTreasury.
/// @dev Votes cannot be rented: AgentStake holds unstaked tokens for {unstakeCooldown}, longer than any vote
/// a stake can count in plus the timelock delay, and the quorum is a share of the agent token's total supply
/// fixed at proposal creation ({GovernorSupplyQuorum}), which no staker can shrink.
contract AgentGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorSupplyQuorum,
    GovernorTimelockControl,
    GovernorLateQuorum,
    IStakeGovernance
{
    uint48 private _votesLockedUntil;

    /// @notice A zero threshold would let anyone spam proposals; refused at construction and on change.
    error AgentGovernorZeroProposalThreshold();
    error AgentGovernorZeroQuorum();

    /// @param stake The AgentStake whose checkpointed shares are the votes.
    /// @param timelock_ The agent's timelock; this governor must be its proposer and canceller.
    /// @param name_ The governor's name (EIP-712 domain).
    /// @param votingDelay_ Seconds between proposal and voting start.
    /// @param votingPeriod_ Seconds of voting.
    /// @param proposalThreshold_ Votes needed to propose; must be > 0.
    /// @param quorumPercent Percent of the agent token's total supply at proposal creation that must vote for
    /// or abstain.
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
        GovernorSupplyQuorum(IERC20(AgentStake(address(stake)).token()))
        GovernorTimelockControl(timelock_)
        GovernorLateQuorum(lateQuorumExtension)
    {}

    /// @inheritdoc IStakeGovernance
    /// @dev A stake counted at a snapshot is unstaked at or after it, so it stays until at least the latest
    /// possible end of that vote (delay + period + late-quorum extension after creation) plus the timelock
    /// delay, measured from the snapshot itself. Proposals made under longer settings than today's keep
    /// their own end: the cooldown also reaches {votesLockedUntil}, so shortening the settings by proposal
    /// cannot free a loan while an older vote is open.
    function unstakeCooldown() external view returns (uint256 cooldown) {
        cooldown = votingDelay() + votingPeriod() + lateQuorumVoteExtension()
            + TimelockController(payable(timelock())).getMinDelay();
        uint256 lockedUntil = _votesLockedUntil;
        if (lockedUntil > block.timestamp && lockedUntil - block.timestamp > cooldown) {
            cooldown = lockedUntil - block.timestamp;
        }
    }

    /// @notice The latest moment any proposal made so far could still be voted on or wait in the timelock
    /// (its deadline, plus the late-quorum extension and the timelock delay in force when it was made).
    function votesLockedUntil() external view returns (uint256) {
        return _votesLockedUntil;
    }

    /// @inheritdoc GovernorVotes
    /// @dev AgentStake's clock is the block timestamp; reading it here saves an external call per state read.
    function clock() public view override(Governor, GovernorVotes) returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @inheritdoc GovernorVotes
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override(Governor, GovernorVotes) returns (string memory) {
        return "mode=timestamp";
    }

    /// @inheritdoc Governor
    function quorum(uint256 timepoint)
        public
        view
        override(Governor, GovernorVotesQuorumFraction, GovernorSupplyQuorum)
        returns (uint256)
    {
        return super.quorum(timepoint);
    }

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
        override(Governor, GovernorLateQuorum)
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

    /// @inheritdoc GovernorCountingSimple
    /// @dev Against the quorum fixed at creation ({proposalQuorum}), not one recomputed at the snapshot.
    function _quorumReached(uint256 proposalId)
        internal
        view
        override(Governor, GovernorCountingSimple)
        returns (bool)
    {
        (, uint256 forVotes, uint256 abstainVotes) = proposalVotes(proposalId);
        return proposalQuorum(proposalId) <= forVotes + abstainVotes;
    }

    /// @inheritdoc Governor
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override(Governor, GovernorSupplyQuorum) returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        uint256 end = proposalDeadline(proposalId) + lateQuorumVoteExtension()
            + TimelockController(payable(timelock())).getMinDelay();
        if (end > _votesLockedUntil) _votesLockedUntil = SafeCast.toUint48(end);
    }

    /// @inheritdoc Governor
    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal override(Governor, GovernorLateQuorum) returns (uint256) {
        return super._castVote(proposalId, account, support, reason, params);
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
