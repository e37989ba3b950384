// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AgentStake} from "../src/AgentStake.sol";
import {AgentTreasury} from "../src/AgentTreasury.sol";
import {AgentDeployment} from "./utils/AgentDeployment.sol";

/// @notice A review found that a legitimate proposal shortening the voting period, the late-quorum extension
/// and the timelock delay made every proposal created before it rentable again: the cooldown was read from
/// today's settings while the older proposal kept its longer vote. The governor now remembers the latest end
/// of any proposal made ({AgentGovernor.votesLockedUntil}) and the cooldown reaches it.
contract GovernorCooldownShorteningAttackTest is AgentDeployment {
    address internal lender = makeAddr("lender");
    address internal apathetic = makeAddr("apathetic");
    address internal small = makeAddr("small");
    address internal attacker = makeAddr("attacker");
    address internal dao = makeAddr("dao"); // honest staker that passes the "faster governance" change
    uint256 internal constant LOAN = 250_000e18;
    uint256 internal constant RESERVE = 10_000e6;

    function setUp() public {
        vm.warp(1_700_000_000);
        address[] memory holders = new address[](4);
        (holders[0], holders[1], holders[2], holders[3]) = (lender, apathetic, small, dao);
        uint256[] memory amounts = new uint256[](4);
        (amounts[0], amounts[1], amounts[2], amounts[3]) = (LOAN, 649_000e18, 1_000e18, 100_000e18);
        _deployAgent(holders, amounts);
        address[] memory stakers = new address[](2);
        (stakers[0], stakers[1]) = (small, dao);
        _stakeAll(stakers);
        usdc.mint(address(treasury), RESERVE * 10);
        treasury.distribute();
        vm.warp(block.timestamp + 1);
    }

    address[] internal lt;
    uint256[] internal lv;
    bytes[] internal lc;

    function _proposeFasterGovernance() internal returns (uint256 id) {
        lt = new address[](3);
        (lt[0], lt[1], lt[2]) = (address(governor), address(governor), address(timelock));
        lv = new uint256[](3);
        lc = new bytes[](3);
        lc[0] = abi.encodeWithSignature("setVotingPeriod(uint32)", uint32(1 days));
        lc[1] = abi.encodeWithSignature("setLateQuorumVoteExtension(uint48)", uint48(1 hours));
        lc[2] = abi.encodeWithSignature("updateDelay(uint256)", uint256(1 days));
        vm.prank(dao);
        id = governor.propose(lt, lv, lc, "faster governance");
        vm.warp(governor.proposalSnapshot(id) + 1);
        vm.prank(dao);
        governor.castVote(id, 1);
        vm.warp(governor.proposalDeadline(id) + 1);
        governor.queue(lt, lv, lc, keccak256("faster governance"));
    }

    function test_Attack_ShorterSettingsCannotFreeALoanDuringAnOlderVote() public {
        // a legitimate "faster governance" proposal passes and waits in the timelock
        _proposeFasterGovernance();
        vm.warp(block.timestamp + TIMELOCK_DELAY - 60);
        // the attacker borrows, stakes and proposes the drain under the shipped settings (3 day vote)
        vm.prank(lender);
        token.transfer(attacker, LOAN);
        vm.startPrank(attacker);
        token.approve(address(stake), LOAN);
        stake.stake(LOAN);
        vm.warp(block.timestamp + 1);
        address[] memory t = new address[](1);
        t[0] = address(treasury);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeCall(AgentTreasury.spendReserve, (attacker, RESERVE));
        uint256 id = governor.propose(t, v, c, "drain");
        vm.stopPrank();

        // the shorter settings execute: today's cooldown shrinks, but not below the drain's own end
        vm.warp(block.timestamp + 61);
        governor.execute(lt, lv, lc, keccak256("faster governance"));
        assertEq(governor.votingPeriod(), 1 days);

        vm.warp(governor.proposalSnapshot(id) + 1);
        vm.prank(attacker);
        uint48 readyAt = stake.unstake(LOAN);
        uint256 deadline = governor.proposalDeadline(id);
        assertGe(readyAt, deadline + 1 hours, "the loan stays locked past the vote (and its extension)");
        assertEq(readyAt, governor.votesLockedUntil());

        // the attacker cannot repay the loan while the vote is open
        vm.warp(deadline);
        vm.prank(attacker);
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeCoolingDown.selector, readyAt));
        stake.withdraw();
        assertEq(token.balanceOf(attacker), 0);
        assertEq(token.balanceOf(lender), 0, "the lender is not repaid before the vote ends");
    }

    /// @notice The lock is a high-water mark: once every proposal made has ended, the cooldown is today's.
    function test_CooldownFallsBackToTodaysSettingsOnceOlderVotesAreOver() public {
        _proposeFasterGovernance();
        vm.warp(block.timestamp + TIMELOCK_DELAY + 1);
        governor.execute(lt, lv, lc, keccak256("faster governance"));
        vm.warp(governor.votesLockedUntil() + 1);
        assertEq(stake.cooldown(), VOTING_DELAY + 1 days + 1 hours + 1 days);
    }
}
