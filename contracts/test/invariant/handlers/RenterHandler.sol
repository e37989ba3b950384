// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {AgentGovernor} from "../../../src/AgentGovernor.sol";
import {AgentStake} from "../../../src/AgentStake.sol";
import {AgentToken} from "../../../src/AgentToken.sol";
import {AgentTreasury} from "../../../src/AgentTreasury.sol";

/// An adversary that rents votes: borrows tokens from a lender, stakes them, proposes to drain the reserve,
/// votes with the snapshot weight, unstakes and tries to repay as early as it can. Every call moves the rental
/// one step on, so each run goes through whole rentals; honest holders sometimes vote against.
contract RenterHandler is CommonBase, StdCheats, StdUtils {
    enum Phase {
        Idle,
        Proposed,
        Voted,
        Unstaked
    }

    AgentGovernor public immutable governor;
    AgentStake public immutable stake;
    AgentToken public immutable token;
    AgentTreasury public immutable treasury;
    address public immutable lender;
    address public immutable renter;
    address[] internal _holders;

    Phase public phase;
    uint256 public loan;
    uint256 public proposalId;
    uint256 internal _round;

    /// Proposals the renter voted in with a non-zero weight.
    uint256 public ghostProposalsVoted;
    /// Attempts to repay, and repayments that succeeded.
    uint256 public ghostRepayAttempts;
    uint256 public ghostRepaid;
    /// Repayments made while the proposal the renter voted in was still open (must stay 0).
    uint256 public ghostRepaidBeforeVoteEnded;
    /// Repayments made before the vote's end plus the timelock delay (must stay 0).
    uint256 public ghostRepaidBeforeTimelock;

    constructor(
        AgentGovernor governor_,
        AgentStake stake_,
        AgentToken token_,
        AgentTreasury treasury_,
        address lender_,
        address renter_,
        address[] memory holders_
    ) {
        governor = governor_;
        stake = stake_;
        token = token_;
        treasury = treasury_;
        lender = lender_;
        renter = renter_;
        _holders = holders_;
    }

    /// Moves the rental on by one step; `seed` picks the loan, the wait and the honest votes.
    function step(uint256 seed) external {
        if (phase == Phase.Idle) {
            // propose and vote in one step, so that time passing elsewhere cannot skip the vote
            _borrowStakePropose(seed);
            if (phase == Phase.Proposed) _vote(seed);
        } else if (phase == Phase.Proposed) {
            _vote(seed);
        } else if (phase == Phase.Voted) {
            _unstake();
        } else {
            _tryRepay(seed);
        }
    }

    /// Time passes on its own too, so repayments are tried at many points of the vote.
    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 2 days));
    }

    /// An honest holder votes on the live proposal.
    function honestVote(uint256 holderSeed, uint8 support) external {
        if (proposalId == 0) return;
        vm.prank(_holders[holderSeed % _holders.length]);
        try governor.castVote(proposalId, support % 3) {} catch {}
    }

    function _borrowStakePropose(uint256 seed) internal {
        uint256 available = token.balanceOf(lender);
        if (available < governor.proposalThreshold()) return;
        loan = bound(seed, governor.proposalThreshold(), available);
        vm.prank(lender);
        require(token.transfer(renter, loan));
        vm.startPrank(renter);
        token.approve(address(stake), loan);
        stake.stake(loan);
        vm.warp(block.timestamp + 1); // the threshold reads the previous second
        address[] memory t = new address[](1);
        t[0] = address(treasury);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeCall(AgentTreasury.spendReserve, (renter, treasury.reserveBalance()));
        proposalId = governor.propose(t, v, c, string.concat("drain #", vm.toString(_round++)));
        vm.stopPrank();
        phase = Phase.Proposed;
    }

    function _vote(uint256 seed) internal {
        uint256 snapshot = governor.proposalSnapshot(proposalId);
        if (block.timestamp <= snapshot) vm.warp(snapshot + 1 + (seed % 1 hours));
        if (governor.state(proposalId) != IGovernor.ProposalState.Active) {
            phase = Phase.Voted; // too late to vote: leave anyway
            return;
        }
        vm.prank(renter);
        if (governor.castVote(proposalId, 1) != 0) ghostProposalsVoted++;
        phase = Phase.Voted;
    }

    function _unstake() internal {
        uint256 staked = stake.balanceOf(renter);
        if (staked != 0) {
            vm.prank(renter);
            stake.unstake(staked);
        }
        phase = Phase.Unstaked;
    }

    /// Tries to get the tokens back and repay now; the lender counts when it was repaid.
    function _tryRepay(uint256 seed) internal {
        ghostRepayAttempts++;
        // sometimes wait a random part of the cooldown first
        if (seed % 2 == 0) vm.warp(block.timestamp + bound(seed >> 8, 0, stake.cooldown()));
        vm.startPrank(renter);
        try stake.withdraw() {} catch {}
        uint256 held = token.balanceOf(renter);
        if (held >= loan) {
            require(token.transfer(lender, loan));
            uint256 deadline = governor.proposalDeadline(proposalId);
            if (block.timestamp <= deadline) ghostRepaidBeforeVoteEnded++;
            if (block.timestamp <= deadline + 2 days) ghostRepaidBeforeTimelock++;
            ghostRepaid++;
            phase = Phase.Idle;
        }
        vm.stopPrank();
    }
}
