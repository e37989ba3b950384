// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {StakeHandler} from "./handlers/StakeHandler.sol";

contract AgentStakeInvariantTest is Test {
    uint256 internal constant ACTORS = 5;

    AgentToken internal token;
    MockUSDC internal usdc;
    AgentStake internal stake;
    StakeHandler internal handler;

    function setUp() public {
        address[] memory actors = new address[](ACTORS);
        uint256[] memory amounts = new uint256[](ACTORS);
        for (uint256 i; i < ACTORS; ++i) {
            actors[i] = makeAddr(string.concat("actor", vm.toString(i)));
            // Uneven holdings, from 1e6 wei to 1e24, to exercise rounding on small and large stakes.
            amounts[i] = 10 ** (6 + 4 * i);
        }
        token = new AgentToken("Agent", "AGT", actors, amounts);
        usdc = new MockUSDC();
        stake = new AgentStake(IERC20(address(token)), IERC20(address(usdc)), "Staked Agent", "sAGT");
        handler = new StakeHandler(stake, token, usdc, actors);
        usdc.transferOwnership(address(handler));
        for (uint256 i; i < ACTORS; ++i) {
            vm.prank(actors[i]);
            token.approve(address(stake), type(uint256).max);
        }
        targetContract(address(handler));
    }

    /// (a) The contract never owes more than it was given.
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

    /// The reward tokens held cover what is owed, and nothing funded is lost.
    function invariant_solvent() public view {
        uint256 held = usdc.balanceOf(address(stake));
        assertGe(held, stake.totalNotified() - stake.totalClaimed());
        assertEq(held + stake.totalClaimed(), handler.ghostFunded());
    }

    /// (b) Each staker's reward matches its stake-time share, within one unit per notify.
    function invariant_rewardMatchesStakeTimeShare() public view {
        address[] memory actors = handler.actors();
        uint256 tolerance = handler.ghostNotifies();
        for (uint256 i; i < actors.length; ++i) {
            uint256 actual = handler.ghostClaimed(actors[i]) + stake.claimable(actors[i]);
            assertApproxEqAbs(actual, handler.ghostExpected(actors[i]), tolerance);
        }
    }

    /// (c) Every share is backed by one staked token.
    function invariant_supplyEqualsStakedTokens() public view {
        assertEq(stake.totalSupply(), token.balanceOf(address(stake)));
        assertEq(stake.totalSupply(), _sumStaked(handler.actors()));
    }

    /// (d) Self-delegated stakers vote with exactly their stake.
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

    function _sumClaimed(address[] memory actors) internal view returns (uint256 total) {
        for (uint256 i; i < actors.length; ++i) {
            total += handler.ghostClaimed(actors[i]);
        }
    }

    function _sumStaked(address[] memory actors) internal view returns (uint256 total) {
        for (uint256 i; i < actors.length; ++i) {
            total += stake.balanceOf(actors[i]);
        }
    }
}
