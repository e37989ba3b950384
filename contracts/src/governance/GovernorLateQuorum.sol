// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";

/**
 * @dev Extension of {Governor} that keeps a proposal open for at least {lateQuorumVoteExtension} after the vote
 * that made it reach quorum, so a large voter cannot swing it in the last seconds unanswered. The rule is the
 * one of OpenZeppelin's GovernorPreventLateQuorum: if the vote that reaches quorum is cast less than the
 * extension before the deadline, the deadline moves to that vote's time plus the extension (once; quorum
 * reached cannot be lost).
 *
 * It costs a vote almost nothing: only a vote cast inside the last {lateQuorumVoteExtension} of the voting
 * period can reach quorum late, so only such a vote looks at the quorum and may write; any other vote adds two
 * storage reads. (GovernorPreventLateQuorum checks quorum after every vote and writes a slot for every
 * proposal when it first reaches quorum.)
 */
abstract contract GovernorLateQuorum is Governor {
    uint48 private _voteExtension;

    mapping(uint256 proposalId => uint48) private _extendedDeadlines;

    /**
     * @dev A vote reached quorum late and moved the proposal's deadline to `extendedDeadline`.
     */
    event ProposalExtended(uint256 indexed proposalId, uint64 extendedDeadline);

    /**
     * @dev The vote extension changed.
     */
    event LateQuorumVoteExtensionSet(uint64 oldVoteExtension, uint64 newVoteExtension);

    /**
     * @dev The vote extension `extension` is above `maxExtension` (the voting period).
     */
    error GovernorLateQuorumExtensionTooLarge(uint256 extension, uint256 maxExtension);

    /**
     * @dev Sets the initial vote extension, in the governor's clock units.
     */
    constructor(uint48 initialVoteExtension) {
        _setLateQuorumVoteExtension(initialVoteExtension);
    }

    /**
     * @dev The proposal's deadline, later than the one set at creation if quorum was reached late.
     */
    function proposalDeadline(uint256 proposalId) public view virtual override returns (uint256) {
        uint256 deadline = super.proposalDeadline(proposalId);
        uint256 extended = _extendedDeadlines[proposalId];
        return extended > deadline ? extended : deadline;
    }

    /**
     * @dev Time that must remain open after the vote that reaches quorum.
     */
    function lateQuorumVoteExtension() public view virtual returns (uint48) {
        return _voteExtension;
    }

    /**
     * @dev Changes the vote extension. Governance only.
     *
     * Emits a {LateQuorumVoteExtensionSet} event.
     */
    function setLateQuorumVoteExtension(uint48 newVoteExtension) public virtual onlyGovernance {
        _setLateQuorumVoteExtension(newVoteExtension);
    }

    /**
     * @dev Counts the vote and, if it is cast inside the last {lateQuorumVoteExtension} of the voting period
     * and makes the proposal reach quorum, extends the deadline. See {Governor-_castVote}.
     *
     * May emit a {ProposalExtended} event.
     */
    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal virtual override returns (uint256 votedWeight) {
        uint48 now_ = clock();
        uint48 extendedDeadline = now_ + _voteExtension;
        // an earlier vote leaves at least the extension open whatever it does to quorum
        if (extendedDeadline <= proposalDeadline(proposalId)) {
            return super._castVote(proposalId, account, support, reason, params);
        }
        bool reachedBefore = _quorumReached(proposalId);
        votedWeight = super._castVote(proposalId, account, support, reason, params);
        if (!reachedBefore && _quorumReached(proposalId)) {
            _extendedDeadlines[proposalId] = extendedDeadline;
            emit ProposalExtended(proposalId, extendedDeadline);
        }
    }

    /**
     * @dev Upper bound of the vote extension: the voting period, as in GovernorPreventLateQuorum.
     */
    function _maxLateQuorumVoteExtension() internal view virtual returns (uint256) {
        return votingPeriod();
    }

    /**
     * @dev Changes the vote extension, bounded by {_maxLateQuorumVoteExtension}.
     *
     * Emits a {LateQuorumVoteExtensionSet} event.
     */
    function _setLateQuorumVoteExtension(uint48 newVoteExtension) internal virtual {
        uint256 maxExtension = _maxLateQuorumVoteExtension();
        if (newVoteExtension > maxExtension) {
            revert GovernorLateQuorumExtensionTooLarge(newVoteExtension, maxExtension);
        }
        uint48 old = _voteExtension;
        _voteExtension = newVoteExtension;
        emit LateQuorumVoteExtensionSet(old, newVoteExtension);
    }
}
