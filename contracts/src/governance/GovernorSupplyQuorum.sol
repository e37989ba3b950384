// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {
    GovernorVotesQuorumFraction
} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @dev Extension of {Governor} whose quorum is a fraction of a token's total supply (the agent's token, not
 * the staked supply the votes come from), fixed per proposal when it is created.
 *
 * Measured on the staked supply, a quorum shrinks when few stake and grows with an attacker's own stake, so a
 * small holder could pass a proposal alone. The total supply of the underlying token is a base a voter cannot
 * shrink; fixing it at creation keeps a burn (buyback) or a numerator change from moving a vote in flight.
 *
 * The fraction's numerator is the one {GovernorVotesQuorumFraction} manages ({updateQuorumNumerator}).
 * The counting module must compare the votes with {proposalQuorum}: see {_quorumReached} in the composing
 * governor.
 */
abstract contract GovernorSupplyQuorum is GovernorVotesQuorumFraction {
    IERC20 private immutable _quorumToken;

    mapping(uint256 proposalId => uint256) private _proposalQuorums;

    /**
     * @dev The quorum token is the zero address.
     */
    error GovernorSupplyQuorumZeroToken();

    /**
     * @dev Sets the token whose total supply the quorum is a fraction of.
     */
    constructor(IERC20 quorumToken_) {
        if (address(quorumToken_) == address(0)) revert GovernorSupplyQuorumZeroToken();
        _quorumToken = quorumToken_;
    }

    /**
     * @dev The token whose total supply the quorum is a fraction of.
     */
    function quorumToken() public view virtual returns (IERC20) {
        return _quorumToken;
    }

    /**
     * @dev The quorum a proposal created now would get: the current numerator of the current total supply.
     * `timepoint` is ignored: past proposals keep theirs in {proposalQuorum}.
     */
    function quorum(
        uint256 /* timepoint */
    )
        public
        view
        virtual
        override
        returns (uint256)
    {
        return (_quorumToken.totalSupply() * quorumNumerator()) / quorumDenominator();
    }

    /**
     * @dev The quorum fixed when `proposalId` was created (0 for an unknown proposal).
     */
    function proposalQuorum(uint256 proposalId) public view virtual returns (uint256) {
        return _proposalQuorums[proposalId];
    }

    /**
     * @dev Records the proposal's quorum at creation. See {Governor-_propose}.
     */
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal virtual override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        _proposalQuorums[proposalId] = quorum(clock());
    }
}
