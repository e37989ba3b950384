// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {AgentStake} from "../src/AgentStake.sol";
import {AgentToken} from "../src/AgentToken.sol";
import {MockUSDC} from "../src/MockUSDC.sol";

contract AgentStakeTest is Test {
    event Staked(address indexed account, uint256 amount);
    event Unstaked(address indexed account, uint256 amount);
    event RewardNotified(uint256 amount, uint256 rewardPerToken);
    event RewardClaimed(address indexed account, uint256 amount);
    event DelegateChanged(
        address indexed delegator, address indexed fromDelegate, address indexed toDelegate
    );

    uint256 internal constant SUPPLY = 1_000_000e18;

    AgentToken internal token;
    MockUSDC internal usdc;
    AgentStake internal stake;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public {
        address[] memory holders = new address[](3);
        (holders[0], holders[1], holders[2]) = (alice, bob, carol);
        uint256[] memory amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (SUPPLY / 2, SUPPLY / 4, SUPPLY / 4);
        token = new AgentToken("Agent", "AGT", holders, amounts);
        usdc = new MockUSDC();
        stake = new AgentStake(IERC20(address(token)), IERC20(address(usdc)), "Staked Agent", "sAGT");
        for (uint256 i; i < 3; ++i) {
            vm.prank(holders[i]);
            token.approve(address(stake), type(uint256).max);
        }
    }

    function _stake(address account, uint256 amount) internal {
        vm.prank(account);
        stake.stake(amount);
    }

    function _pay(uint256 amount) internal returns (uint256) {
        usdc.mint(address(stake), amount);
        return stake.notify();
    }

    // ---------------------------------------------------------------- constructor and metadata

    function test_constructor() public view {
        assertEq(address(stake.token()), address(token));
        assertEq(address(stake.rewardToken()), address(usdc));
        assertEq(stake.name(), "Staked Agent");
        assertEq(stake.symbol(), "sAGT");
        assertEq(stake.decimals(), 18);
        assertEq(stake.PRECISION(), 1e36);
        assertEq(stake.totalSupply(), 0);
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        new AgentStake(IERC20(address(0)), IERC20(address(usdc)), "s", "s");
    }

    function test_constructor_revertsOnZeroRewardToken() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        new AgentStake(IERC20(address(token)), IERC20(address(0)), "s", "s");
    }

    function test_constructor_revertsOnSameToken() public {
        vm.expectRevert(AgentStake.AgentStakeSameToken.selector);
        new AgentStake(IERC20(address(token)), IERC20(address(token)), "s", "s");
    }

    function test_clock_isTimestamp() public {
        vm.warp(1_700_000_000);
        assertEq(stake.clock(), 1_700_000_000);
        assertEq(stake.CLOCK_MODE(), "mode=timestamp");
    }

    // ---------------------------------------------------------------- stake

    function test_stake() public {
        vm.expectEmit(address(stake));
        emit Staked(alice, 100e18);
        _stake(alice, 100e18);
        assertEq(stake.balanceOf(alice), 100e18);
        assertEq(stake.totalSupply(), 100e18);
        assertEq(token.balanceOf(address(stake)), 100e18);
        assertEq(token.balanceOf(alice), SUPPLY / 2 - 100e18);
    }

    function test_stake_delegatesToSelfOnFirstStake() public {
        vm.expectEmit(address(stake));
        emit DelegateChanged(alice, address(0), alice);
        _stake(alice, 100e18);
        assertEq(stake.delegates(alice), alice);
        assertEq(stake.getVotes(alice), 100e18);
    }

    function test_stake_keepsExistingDelegate() public {
        vm.prank(alice);
        stake.delegate(bob);
        _stake(alice, 100e18);
        assertEq(stake.delegates(alice), bob);
        assertEq(stake.getVotes(bob), 100e18);
        assertEq(stake.getVotes(alice), 0);
    }

    function test_stake_votesCheckpointedByTimestamp() public {
        vm.warp(1000);
        _stake(alice, 100e18);
        vm.warp(2000);
        _stake(alice, 50e18);
        vm.warp(3000);
        assertEq(stake.getPastVotes(alice, 999), 0);
        assertEq(stake.getPastVotes(alice, 1000), 100e18);
        assertEq(stake.getPastVotes(alice, 2000), 150e18);
        assertEq(stake.getPastTotalSupply(1500), 100e18);
    }

    function test_stake_revertsOnZeroAmount() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAmount.selector);
        _stake(alice, 0);
    }

    function test_stake_revertsWithoutAllowance() public {
        vm.prank(alice);
        token.approve(address(stake), 1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(stake), 1, 2)
        );
        _stake(alice, 2);
    }

    function test_stake_revertsBeyondBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, SUPPLY / 2, SUPPLY)
        );
        _stake(alice, SUPPLY);
    }

    function testFuzz_stake(uint256 amount) public {
        amount = bound(amount, 1, SUPPLY / 2);
        _stake(alice, amount);
        assertEq(stake.balanceOf(alice), amount);
        assertEq(stake.getVotes(alice), amount);
        assertEq(token.balanceOf(address(stake)), amount);
    }

    // ---------------------------------------------------------------- stakeFor

    function test_stakeFor() public {
        address dave = makeAddr("dave");
        vm.expectEmit(address(stake));
        emit Staked(dave, 10e18);
        vm.prank(alice);
        stake.stakeFor(dave, 10e18);
        assertEq(stake.balanceOf(dave), 10e18);
        assertEq(stake.balanceOf(alice), 0);
        assertEq(stake.delegates(dave), dave);
        assertEq(stake.getVotes(dave), 10e18);
        assertEq(token.balanceOf(alice), SUPPLY / 2 - 10e18);
    }

    function test_stakeFor_revertsOnZeroAccount() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        vm.prank(alice);
        stake.stakeFor(address(0), 1);
    }

    function test_stakeFor_revertsOnZeroAmount() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAmount.selector);
        vm.prank(alice);
        stake.stakeFor(bob, 0);
    }

    function testFuzz_stakeFor(address account, uint256 amount) public {
        vm.assume(account != address(0));
        amount = bound(amount, 1, SUPPLY / 2);
        vm.prank(alice);
        stake.stakeFor(account, amount);
        assertEq(stake.balanceOf(account), amount);
        assertEq(stake.getVotes(stake.delegates(account)), amount);
    }

    // ---------------------------------------------------------------- unstake

    function test_unstake() public {
        _stake(alice, 100e18);
        vm.roll(block.number + 1);
        vm.expectEmit(address(stake));
        emit Unstaked(alice, 40e18);
        vm.prank(alice);
        stake.unstake(40e18);
        assertEq(stake.balanceOf(alice), 60e18);
        assertEq(stake.getVotes(alice), 60e18);
        assertEq(token.balanceOf(address(stake)), 60e18);
        assertEq(token.balanceOf(alice), SUPPLY / 2 - 60e18);
    }

    function test_unstake_keepsAccruedRewards() public {
        _stake(alice, 100e18);
        _pay(1_000e6);
        vm.roll(block.number + 1);
        vm.prank(alice);
        stake.unstake(100e18);
        assertEq(stake.claimable(alice), 1_000e6);
        _stake(bob, 1e18);
        _pay(500e6); // alice no longer earns
        assertEq(stake.claimable(alice), 1_000e6);
        vm.prank(alice);
        assertEq(stake.claim(), 1_000e6);
    }

    function test_unstake_revertsOnZeroAmount() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAmount.selector);
        vm.prank(alice);
        stake.unstake(0);
    }

    function test_unstake_revertsBeyondStake() public {
        _stake(alice, 100e18);
        vm.roll(block.number + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 100e18, 100e18 + 1)
        );
        vm.prank(alice);
        stake.unstake(100e18 + 1);
    }

    function testFuzz_unstake(uint256 staked, uint256 unstaked) public {
        staked = bound(staked, 1, SUPPLY / 2);
        unstaked = bound(unstaked, 1, staked);
        _stake(alice, staked);
        vm.roll(block.number + 1);
        vm.prank(alice);
        stake.unstake(unstaked);
        assertEq(stake.balanceOf(alice), staked - unstaked);
        assertEq(stake.getVotes(alice), staked - unstaked);
        assertEq(token.balanceOf(alice), SUPPLY / 2 - staked + unstaked);
    }

    function test_unstake_ofWhatWasStakedThisBlock_reverts() public {
        _stake(alice, 100e18);
        vm.roll(block.number + 1);
        _stake(alice, 30e18); // a flash loan's stake: it cannot leave in this block
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeStakedThisBlock.selector, 100e18));
        vm.prank(alice);
        stake.unstake(100e18 + 1);
        vm.prank(alice);
        stake.unstake(100e18); // what was staked before stays free to leave
        vm.roll(block.number + 1);
        vm.prank(alice);
        stake.unstake(30e18);
        assertEq(stake.balanceOf(alice), 0);
    }

    function test_flashStake_cannotCollectADistribution() public {
        _stake(alice, 100e18);
        vm.roll(block.number + 1);
        _stake(bob, 900e18); // borrowed, to be repaid in the same transaction
        _pay(1_000e6);
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeStakedThisBlock.selector, 0));
        vm.prank(bob);
        stake.unstake(900e18);
    }

    function test_stakeForDust_doesNotLockAnOlderStake() public {
        _stake(alice, 100e18);
        vm.roll(block.number + 1);
        vm.prank(bob);
        stake.stakeFor(alice, 1); // a griefer's gift
        vm.prank(alice);
        stake.unstake(100e18);
        assertEq(stake.balanceOf(alice), 1);
    }

    // ---------------------------------------------------------------- non-transferable

    function test_transfer_reverts() public {
        _stake(alice, 100e18);
        vm.expectRevert(AgentStake.AgentStakeNonTransferable.selector);
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        stake.transfer(bob, 1);
    }

    function test_transferFrom_reverts() public {
        _stake(alice, 100e18);
        vm.prank(alice);
        stake.approve(bob, 1);
        vm.expectRevert(AgentStake.AgentStakeNonTransferable.selector);
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        stake.transferFrom(alice, bob, 1);
    }

    function testFuzz_transfer_reverts(address to, uint256 amount) public {
        vm.assume(to != address(0));
        _stake(alice, 100e18);
        amount = bound(amount, 0, 100e18);
        vm.expectRevert(AgentStake.AgentStakeNonTransferable.selector);
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        stake.transfer(to, amount);
    }

    // ---------------------------------------------------------------- notify

    function test_notify() public {
        _stake(alice, 300e18);
        _stake(bob, 100e18);
        usdc.mint(address(stake), 1_000e6);
        uint256 perToken = (1_000e6 * uint256(1e36)) / 400e18;
        vm.expectEmit(address(stake));
        emit RewardNotified(1_000e6, perToken);
        vm.prank(carol); // permissionless
        assertEq(stake.notify(), 1_000e6);
        assertEq(stake.rewardPerToken(), perToken);
        assertEq(stake.totalNotified(), 1_000e6);
        assertEq(stake.claimable(alice), 750e6);
        assertEq(stake.claimable(bob), 250e6);
    }

    function test_notify_countsOnlyNewBalance() public {
        _stake(alice, 100e18);
        assertEq(_pay(100e6), 100e6);
        assertEq(stake.notify(), 0);
        assertEq(_pay(50e6), 50e6);
        assertEq(stake.totalNotified(), 150e6);
        vm.prank(alice);
        stake.claim();
        assertEq(stake.notify(), 0); // claimed tokens left, nothing new arrived
        assertEq(_pay(7e6), 7e6);
        assertEq(stake.claimable(alice), 7e6);
    }

    function test_notify_withoutStakersLeavesRewardForLater() public {
        usdc.mint(address(stake), 100e6);
        assertEq(stake.notify(), 0);
        assertEq(stake.totalNotified(), 0);
        assertEq(stake.rewardPerToken(), 0);
        _stake(bob, 10e18);
        assertEq(stake.notify(), 100e6);
        assertEq(stake.claimable(bob), 100e6);
    }

    function test_notify_lateStakerEarnsOnlyLaterRewards() public {
        _stake(alice, 100e18);
        _pay(100e6);
        _stake(bob, 100e18);
        _pay(100e6);
        assertEq(stake.claimable(alice), 150e6);
        assertEq(stake.claimable(bob), 50e6);
    }

    function test_notify_returnsZeroWhenNothingArrived() public {
        _stake(alice, 100e18);
        assertEq(stake.notify(), 0);
        assertEq(stake.rewardPerToken(), 0);
    }

    function testFuzz_notify_splitsProRata(uint256 a, uint256 b, uint256 reward) public {
        a = bound(a, 1, SUPPLY / 4);
        b = bound(b, 1, SUPPLY / 4);
        reward = bound(reward, 0, 1e30);
        _stake(alice, a);
        _stake(bob, b);
        assertEq(_pay(reward), reward);
        assertApproxEqAbs(stake.claimable(alice), (reward * a) / (a + b), 1);
        assertApproxEqAbs(stake.claimable(bob), (reward * b) / (a + b), 1);
        assertLe(stake.claimable(alice) + stake.claimable(bob), reward);
    }

    // ---------------------------------------------------------------- claim

    function test_claim() public {
        _stake(alice, 100e18);
        _pay(100e6);
        vm.expectEmit(address(stake));
        emit RewardClaimed(alice, 100e6);
        vm.prank(alice);
        assertEq(stake.claim(), 100e6);
        assertEq(usdc.balanceOf(alice), 100e6);
        assertEq(stake.claimable(alice), 0);
        assertEq(stake.totalClaimed(), 100e6);
        assertEq(usdc.balanceOf(address(stake)), 0);
    }

    function test_claim_returnsZeroWhenNothingOwed() public {
        vm.recordLogs();
        vm.prank(alice);
        assertEq(stake.claim(), 0);
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(stake.totalClaimed(), 0);
    }

    function test_claim_twicePaysOnce() public {
        _stake(alice, 100e18);
        _pay(100e6);
        vm.startPrank(alice);
        stake.claim();
        assertEq(stake.claim(), 0);
        vm.stopPrank();
        assertEq(usdc.balanceOf(alice), 100e6);
    }

    function testFuzz_claim(uint256 amount, uint256 reward) public {
        amount = bound(amount, 1, SUPPLY / 2);
        reward = bound(reward, 0, 1e30);
        _stake(alice, amount);
        _pay(reward);
        vm.prank(alice);
        uint256 paid = stake.claim();
        assertApproxEqAbs(paid, reward, 1);
        assertLe(paid, reward);
        assertEq(usdc.balanceOf(alice), paid);
        assertEq(stake.totalClaimed(), paid);
    }

    // ---------------------------------------------------------------- views

    function test_claimable_zeroForStranger() public {
        assertEq(stake.claimable(makeAddr("stranger")), 0);
    }

    function test_totals_startAtZero() public view {
        assertEq(stake.totalNotified(), 0);
        assertEq(stake.totalClaimed(), 0);
        assertEq(stake.rewardPerToken(), 0);
    }
}
