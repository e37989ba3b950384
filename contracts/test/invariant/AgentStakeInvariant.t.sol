// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {MockStakeGovernance} from "../mocks/MockStakeGovernance.sol";
import {StakeHandler} from "./handlers/StakeHandler.sol";

/// Honest stakers: the books of AgentStake, and each staker paid by stake × time.
contract AgentStakeInvariantTest is Test {
    uint256 internal constant ACTORS = 5;

    AgentToken internal token;
    MockUSDC internal usdc;
    AgentStake internal stake;
    StakeHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        address[] memory actors = new address[](ACTORS);
        uint256[] memory amounts = new uint256[](ACTORS);
        for (uint256 i; i < ACTORS; ++i) {
            actors[i] = makeAddr(string.concat("actor", vm.toString(i)));
            // Uneven holdings, from 1e6 wei to 1e24, to exercise rounding on small and large stakes.
            amounts[i] = 10 ** (6 + 4 * i);
        }
        token = new AgentToken("Agent", "AGT", actors, amounts);
        usdc = new MockUSDC();
        stake = new AgentStake(
            IERC20(address(token)),
            IERC20(address(usdc)),
            "Staked Agent",
            "sAGT",
            makeAddr("timelock"),
            7 days
        );
        handler = new StakeHandler(stake, token, usdc, actors);
        stake.bind(new MockStakeGovernance(5 days), address(handler));
        usdc.transferOwnership(address(handler));
        for (uint256 i; i < ACTORS; ++i) {
            vm.prank(actors[i]);
            token.approve(address(stake), type(uint256).max);
        }
        targetContract(address(handler));
    }

    /// The contract never owes more than it was given: Σ claimed + claimable ≤ Σ notified.
    function invariant_claimedPlusClaimableWithinNotified() public view {
        address[] memory actors = handler.actors();
        uint256 total;
        for (uint256 i; i < actors.length; ++i) {
            total += handler.ghostClaimed(actors[i]) + stake.claimable(actors[i]);
        }
        assertLe(total, stake.totalNotified());
        assertEq(stake.totalNotified(), handler.ghostNotified());
        assertEq(stake.totalClaimed(), _sumClaimed(actors));
    }

    /// The reward tokens held cover what is owed.
    function invariant_solvent() public view {
        assertGe(usdc.balanceOf(address(stake)), stake.totalNotified() - stake.totalClaimed());
    }

    /// Each staker's reward matches its stake × time share, within one unit per integration segment.
    function invariant_rewardMatchesStakeTimeShare() public view {
        address[] memory actors = handler.actors();
        // claimable counts up to now; the ghost up to the last action: compare at the ghost's time
        uint256 tolerance = handler.ghostSegments() + handler.ghostCalls() + 2;
        for (uint256 i; i < actors.length; ++i) {
            uint256 actual = handler.ghostClaimed(actors[i]) + _claimableAtGhostTime(actors[i]);
            assertApproxEqAbs(actual, handler.ghostExpected(actors[i]), tolerance);
        }
    }

    /// Every share and every pending withdrawal is backed by one staked token.
    function invariant_stakeBalanceCoversSharesAndWithdrawals() public view {
        assertEq(token.balanceOf(address(stake)), stake.totalSupply() + stake.totalCoolingDown());
        address[] memory actors = handler.actors();
        uint256 staked;
        uint256 cooling;
        for (uint256 i; i < actors.length; ++i) {
            staked += stake.balanceOf(actors[i]);
            (uint256 amount,) = stake.pendingWithdrawal(actors[i]);
            cooling += amount;
        }
        assertEq(stake.totalSupply(), staked);
        assertEq(stake.totalCoolingDown(), cooling);
    }

    /// Self-delegated stakers vote with exactly their stake; cooling-down tokens vote nothing.
    function invariant_votesEqualBalanceForSelfDelegated() public view {
        address[] memory actors = handler.actors();
        uint256 votes;
        for (uint256 i; i < actors.length; ++i) {
            if (stake.delegates(actors[i]) == actors[i]) {
                assertEq(stake.getVotes(actors[i]), stake.balanceOf(actors[i]));
            }
            votes += stake.getVotes(actors[i]);
        }
        assertEq(votes, stake.totalSupply());
    }

    function _claimableAtGhostTime(address account) internal view returns (uint256) {
        // invariants run right after a handler call, which integrated up to block.timestamp
        return stake.claimable(account);
    }

    function _sumClaimed(address[] memory actors) internal view returns (uint256 total) {
        for (uint256 i; i < actors.length; ++i) {
            total += handler.ghostClaimed(actors[i]);
        }
    }
}
