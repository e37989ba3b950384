// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AgentDeployment} from "../utils/AgentDeployment.sol";
import {RenterHandler} from "./handlers/RenterHandler.sol";

/// A renter borrowing votes against honest holders: it can never repay before the vote it voted in ends.
contract VoteRentalInvariantTest is AgentDeployment {
    RenterHandler internal handler;
    address internal lender = makeAddr("lender");
    address internal renter = makeAddr("renter");

    function setUp() public {
        vm.warp(1_700_000_000);
        address[] memory holders = new address[](4);
        uint256[] memory amounts = new uint256[](4);
        (holders[0], amounts[0]) = (lender, 400_000e18);
        for (uint256 i = 1; i < 4; ++i) {
            (holders[i], amounts[i]) = (makeAddr(string.concat("holder", vm.toString(i))), 200_000e18);
        }
        _deployAgent(holders, amounts);
        address[] memory honest = new address[](3);
        (honest[0], honest[1], honest[2]) = (holders[1], holders[2], holders[3]);
        _stakeAll(honest);
        usdc.mint(address(treasury), 100_000e6);
        treasury.distribute(); // a 10,000 USDC reserve to drain
        vm.warp(block.timestamp + 1);
        handler = new RenterHandler(governor, stake, token, treasury, lender, renter, honest);
        targetContract(address(handler));
    }

    /// The renter never repays before the vote it voted in ends, nor before the timelock after it.
    function invariant_renterNeverRepaysBeforeTheVoteEnds() public view {
        assertEq(handler.ghostRepaidBeforeVoteEnded(), 0);
        assertEq(handler.ghostRepaidBeforeTimelock(), 0);
    }

    /// Votes come only from shares: cooling-down tokens vote nothing.
    function invariant_renterVotesOnlyWithShares() public view {
        assertEq(stake.getVotes(renter), stake.balanceOf(renter));
        assertEq(token.balanceOf(address(stake)), stake.totalSupply() + stake.totalCoolingDown());
    }

    /// The runs did rent: proposals voted in with borrowed weight, repayments tried.
    function afterInvariant() public view {
        assertGt(handler.ghostProposalsVoted(), 0, "the renter never voted");
        assertGt(handler.ghostRepayAttempts(), 0, "the renter never tried to repay");
    }
}
