// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {AgentStake} from "../src/AgentStake.sol";
import {AgentToken} from "../src/AgentToken.sol";
import {MockUSDC} from "../src/MockUSDC.sol";
import {IStakeGovernance} from "../src/interfaces/IStakeGovernance.sol";
import {MockStakeGovernance} from "./mocks/MockStakeGovernance.sol";
import {MockERC20} from "./mocks/MockERC20.sol";

/// A contract that unstakes everything it holds, as a vault or a multisig module would.
contract StakingVault {
    AgentStake internal immutable stake;

    constructor(AgentStake stake_, IERC20 token) {
        stake = stake_;
        token.approve(address(stake_), type(uint256).max);
    }

    function deposit(uint256 amount) external {
        stake.stake(amount);
    }

    function exitAll() external returns (uint48) {
        return stake.unstake(stake.balanceOf(address(this)));
    }
}

contract AgentStakeTest is Test {
    event Staked(address indexed account, uint256 amount);
    event UnstakeRequested(address indexed account, uint256 amount, uint48 readyAt);
    event Withdrawn(address indexed account, uint256 amount);
    event RewardNotified(uint256 amount, uint256 rewardRate, uint48 periodFinish);
    event RewardClaimed(address indexed account, uint256 amount);
    event RewardDurationChanged(uint48 oldDuration, uint48 newDuration);
    event Swept(IERC20 indexed token, address indexed to, uint256 amount);
    event Bound(IStakeGovernance indexed governor, address indexed notifier);
    event DelegateChanged(
        address indexed delegator, address indexed fromDelegate, address indexed toDelegate
    );

    uint256 internal constant SUPPLY = 1_000_000e18;
    uint48 internal constant DURATION = 7 days;
    uint256 internal constant COOLDOWN = 1 hours + 3 days + 1 days + 2 days;

    AgentToken internal token;
    MockUSDC internal usdc;
    AgentStake internal stake;
    MockStakeGovernance internal gov;

    address internal owner = makeAddr("timelock");
    address internal notifier = makeAddr("treasury");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public {
        vm.warp(1_700_000_000);
        address[] memory holders = new address[](3);
        (holders[0], holders[1], holders[2]) = (alice, bob, carol);
        uint256[] memory amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (SUPPLY / 2, SUPPLY / 4, SUPPLY / 4);
        token = new AgentToken("Agent", "AGT", holders, amounts);
        usdc = new MockUSDC();
        stake = _newStake(IERC20(address(token)), IERC20(address(usdc)));
        gov = new MockStakeGovernance(COOLDOWN);
        stake.bind(gov, notifier);
        for (uint256 i; i < 3; ++i) {
            vm.prank(holders[i]);
            token.approve(address(stake), type(uint256).max);
        }
    }

    function _newStake(IERC20 t, IERC20 r) internal returns (AgentStake) {
        return new AgentStake(t, r, "Staked Agent", "sAGT", owner, DURATION);
    }

    function _stake(address account, uint256 amount) internal {
        vm.prank(account);
        stake.stake(amount);
    }

    function _unstake(address account, uint256 amount) internal returns (uint48) {
        vm.prank(account);
        return stake.unstake(amount);
    }

    /// The treasury's part of a distribution: transfer, then notify.
    function _pay(uint256 amount) internal {
        usdc.mint(address(stake), amount);
        vm.prank(notifier);
        stake.notify(amount);
    }

    function _claim(address account) internal returns (uint256) {
        vm.prank(account);
        return stake.claim();
    }

    // ---------------------------------------------------------------- constructor, bind, owner

    function test_constructor() public view {
        assertEq(address(stake.token()), address(token));
        assertEq(address(stake.rewardToken()), address(usdc));
        assertEq(stake.name(), "Staked Agent");
        assertEq(stake.symbol(), "sAGT");
        assertEq(stake.decimals(), 18);
        assertEq(stake.PRECISION(), 1e36);
        assertEq(stake.totalSupply(), 0);
        assertEq(stake.owner(), owner);
        assertEq(stake.rewardDuration(), DURATION);
        assertEq(address(stake.governor()), address(gov));
        assertEq(stake.notifier(), notifier);
        assertEq(stake.cooldown(), COOLDOWN);
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        _newStake(IERC20(address(0)), IERC20(address(usdc)));
    }

    function test_constructor_revertsOnZeroRewardToken() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        _newStake(IERC20(address(token)), IERC20(address(0)));
    }

    function test_constructor_revertsOnSameToken() public {
        vm.expectRevert(AgentStake.AgentStakeSameToken.selector);
        _newStake(IERC20(address(token)), IERC20(address(token)));
    }

    function test_constructor_revertsOnZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new AgentStake(IERC20(address(token)), IERC20(address(usdc)), "s", "s", address(0), DURATION);
    }

    function test_constructor_revertsOnDurationOutOfRange() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentStake.AgentStakeRewardDurationOutOfRange.selector, 1 hours - 1, 1 hours, 365 days
            )
        );
        new AgentStake(IERC20(address(token)), IERC20(address(usdc)), "s", "s", owner, 1 hours - 1);
    }

    function test_clock_isTimestamp() public {
        vm.warp(1_700_000_000);
        assertEq(stake.clock(), 1_700_000_000);
        assertEq(stake.CLOCK_MODE(), "mode=timestamp");
    }

    function test_bind() public {
        AgentStake s = _newStake(IERC20(address(token)), IERC20(address(usdc)));
        vm.expectEmit(address(s));
        emit Bound(gov, notifier);
        s.bind(gov, notifier);
        assertEq(address(s.governor()), address(gov));
        assertEq(s.notifier(), notifier);
    }

    function test_bind_onlyOnceByDeployer() public {
        AgentStake s = _newStake(IERC20(address(token)), IERC20(address(usdc)));
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeNotBinder.selector, alice));
        vm.prank(alice);
        s.bind(gov, notifier);
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        s.bind(IStakeGovernance(address(0)), notifier);
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        s.bind(gov, address(0));
        s.bind(gov, notifier);
        vm.expectRevert(AgentStake.AgentStakeAlreadyBound.selector);
        s.bind(gov, alice);
    }

    function test_unbound_unstakeAndNotifyRevert() public {
        AgentStake s = _newStake(IERC20(address(token)), IERC20(address(usdc)));
        vm.startPrank(alice);
        token.approve(address(s), 1e18);
        s.stake(1e18); // staking needs no binding
        vm.expectRevert(AgentStake.AgentStakeNotBound.selector);
        s.unstake(1e18);
        vm.expectRevert(AgentStake.AgentStakeNotBound.selector);
        s.notify(0);
        vm.stopPrank();
        vm.expectRevert(AgentStake.AgentStakeNotBound.selector);
        s.cooldown();
    }

    function test_renounceOwnership_reverts() public {
        vm.expectRevert(AgentStake.AgentStakeCannotRenounce.selector);
        vm.prank(owner);
        stake.renounceOwnership();
        assertEq(stake.owner(), owner);
    }

    function test_setRewardDuration() public {
        vm.expectEmit(address(stake));
        emit RewardDurationChanged(DURATION, 30 days);
        vm.prank(owner);
        stake.setRewardDuration(30 days);
        assertEq(stake.rewardDuration(), 30 days);
    }

    function test_setRewardDuration_onlyOwnerAndBounded() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        stake.setRewardDuration(30 days);
        vm.startPrank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentStake.AgentStakeRewardDurationOutOfRange.selector, 366 days, 1 hours, 365 days
            )
        );
        stake.setRewardDuration(366 days);
        vm.stopPrank();
    }

    function test_setRewardDuration_appliesFromNextNotify() public {
        _stake(alice, 100e18);
        _pay(700e6);
        uint48 finish = stake.periodFinish();
        vm.prank(owner);
        stake.setRewardDuration(1 days);
        assertEq(stake.periodFinish(), finish); // the running stream keeps its end
        vm.warp(block.timestamp + 1 days);
        assertApproxEqAbs(stake.claimable(alice), 100e6, 1);
        _pay(0); // what is left (600) now streams over one day
        assertEq(stake.periodFinish(), block.timestamp + 1 days);
        vm.warp(block.timestamp + 1 days);
        assertApproxEqAbs(stake.claimable(alice), 700e6, 2);
    }

    function testFuzz_setRewardDuration(uint48 duration) public {
        duration = uint48(bound(duration, 1 hours, 365 days));
        vm.prank(owner);
        stake.setRewardDuration(duration);
        _stake(alice, 1e18);
        _pay(1_000e6);
        assertEq(stake.periodFinish(), block.timestamp + duration);
        vm.warp(block.timestamp + duration);
        assertApproxEqAbs(stake.claimable(alice), 1_000e6, 1);
        assertLe(stake.claimable(alice), 1_000e6);
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

    // ---------------------------------------------------------------- unstake (request) and withdraw

    function test_unstake() public {
        _stake(alice, 100e18);
        uint48 expected = uint48(block.timestamp + COOLDOWN);
        vm.expectEmit(address(stake));
        emit UnstakeRequested(alice, 40e18, expected);
        assertEq(_unstake(alice, 40e18), expected);
        assertEq(stake.balanceOf(alice), 60e18);
        assertEq(stake.getVotes(alice), 60e18); // votes leave at once
        assertEq(stake.totalCoolingDown(), 40e18);
        (uint256 amount, uint48 readyAt) = stake.pendingWithdrawal(alice);
        assertEq(amount, 40e18);
        assertEq(readyAt, expected);
        assertEq(token.balanceOf(address(stake)), 100e18); // the tokens wait here
        assertEq(token.balanceOf(alice), SUPPLY / 2 - 100e18);
    }

    function test_withdraw_afterCooldown() public {
        _stake(alice, 100e18);
        uint48 readyAt = _unstake(alice, 40e18);
        vm.warp(readyAt - 1);
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeCoolingDown.selector, readyAt));
        vm.prank(alice);
        stake.withdraw();
        vm.warp(readyAt);
        vm.expectEmit(address(stake));
        emit Withdrawn(alice, 40e18);
        vm.prank(alice);
        assertEq(stake.withdraw(), 40e18);
        assertEq(token.balanceOf(alice), SUPPLY / 2 - 60e18);
        assertEq(stake.totalCoolingDown(), 0);
        (uint256 amount,) = stake.pendingWithdrawal(alice);
        assertEq(amount, 0);
        vm.expectRevert(AgentStake.AgentStakeNothingToWithdraw.selector);
        vm.prank(alice);
        stake.withdraw();
    }

    function test_unstake_again_addsAndKeepsTheLaterReadyAt() public {
        _stake(alice, 100e18);
        uint48 first = _unstake(alice, 10e18);
        vm.warp(block.timestamp + 1 days);
        uint48 second = _unstake(alice, 10e18);
        assertEq(second, first + 1 days);
        gov.setUnstakeCooldown(1 hours); // governance shortened it: what was promised is kept
        assertEq(_unstake(alice, 10e18), second);
        (uint256 amount, uint48 readyAt) = stake.pendingWithdrawal(alice);
        assertEq(amount, 30e18);
        assertEq(readyAt, second);
    }

    function test_cooldown_isReadLive() public {
        gov.setUnstakeCooldown(10 days);
        assertEq(stake.cooldown(), 10 days);
        _stake(alice, 1e18);
        assertEq(_unstake(alice, 1e18), block.timestamp + 10 days);
    }

    function test_unstake_stopsEarningAtOnce() public {
        _stake(alice, 100e18);
        _stake(bob, 100e18);
        _pay(700e6);
        vm.warp(block.timestamp + 1 days);
        _unstake(alice, 100e18);
        uint256 atUnstake = stake.claimable(alice);
        assertApproxEqAbs(atUnstake, 50e6, 1);
        vm.warp(block.timestamp + 6 days);
        assertEq(stake.claimable(alice), atUnstake); // tokens in cooldown earn nothing
        assertApproxEqAbs(stake.claimable(bob), 650e6, 1);
        assertEq(_claim(alice), atUnstake);
    }

    function test_unstake_revertsOnZeroAmount() public {
        vm.expectRevert(AgentStake.AgentStakeZeroAmount.selector);
        _unstake(alice, 0);
    }

    function test_unstake_revertsBeyondStake() public {
        _stake(alice, 100e18);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 100e18, 100e18 + 1)
        );
        _unstake(alice, 100e18 + 1);
    }

    function testFuzz_unstakeAndWithdraw(uint256 staked, uint256 unstaked, uint256 cooldown) public {
        staked = bound(staked, 1, SUPPLY / 2);
        unstaked = bound(unstaked, 1, staked);
        cooldown = bound(cooldown, 0, 365 days);
        gov.setUnstakeCooldown(cooldown);
        _stake(alice, staked);
        uint48 readyAt = _unstake(alice, unstaked);
        assertEq(readyAt, block.timestamp + cooldown);
        assertEq(stake.balanceOf(alice), staked - unstaked);
        assertEq(stake.getVotes(alice), staked - unstaked);
        assertEq(token.balanceOf(address(stake)), stake.totalSupply() + stake.totalCoolingDown());
        if (cooldown != 0) {
            vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeCoolingDown.selector, readyAt));
            vm.prank(alice);
            stake.withdraw();
        }
        vm.warp(readyAt);
        vm.prank(alice);
        assertEq(stake.withdraw(), unstaked);
        assertEq(token.balanceOf(alice), SUPPLY / 2 - staked + unstaked);
    }

    // ---------------------------------------------------------------- attacks on the exit

    /// Review: a 1-wei stakeFor made a contract's `unstake(balanceOf(this))` revert in that block.
    function test_Attack_DustStakeForCannotBlockUnstakeAll() public {
        StakingVault vault = new StakingVault(stake, IERC20(address(token)));
        vm.prank(alice);
        assertTrue(token.transfer(address(vault), 100e18));
        vault.deposit(100e18);
        vm.prank(bob); // the griefer, in the same block, right before the vault's exit
        stake.stakeFor(address(vault), 1);
        uint48 readyAt = vault.exitAll();
        assertEq(stake.balanceOf(address(vault)), 0);
        (uint256 amount, uint48 when) = stake.pendingWithdrawal(address(vault));
        assertEq(amount, 100e18 + 1);
        assertEq(when, readyAt);
    }

    function testFuzz_Attack_DustStakeForCannotBlockUnstakeAll(uint256 deposit, uint256 gift) public {
        deposit = bound(deposit, 1, SUPPLY / 4);
        gift = bound(gift, 1, SUPPLY / 4);
        StakingVault vault = new StakingVault(stake, IERC20(address(token)));
        vm.prank(alice);
        assertTrue(token.transfer(address(vault), deposit));
        vault.deposit(deposit);
        vm.prank(bob);
        stake.stakeFor(address(vault), gift);
        vault.exitAll();
        assertEq(stake.balanceOf(address(vault)), 0);
        (uint256 amount,) = stake.pendingWithdrawal(address(vault));
        assertEq(amount, deposit + gift);
    }

    /// A gift to someone cooling down neither delays nor blocks its withdrawal.
    function test_stakeFor_doesNotTouchAPendingWithdrawal() public {
        _stake(alice, 100e18);
        uint48 readyAt = _unstake(alice, 100e18);
        vm.warp(block.timestamp + 1 days);
        vm.prank(bob);
        stake.stakeFor(alice, 1);
        (, uint48 when) = stake.pendingWithdrawal(alice);
        assertEq(when, readyAt);
        vm.warp(readyAt);
        vm.prank(alice);
        assertEq(stake.withdraw(), 100e18);
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

    // ---------------------------------------------------------------- notify (streaming)

    function test_notify() public {
        _stake(alice, 300e18);
        _stake(bob, 100e18);
        usdc.mint(address(stake), 1_000e6);
        uint256 rate = (1_000e6 * uint256(1e36)) / DURATION;
        vm.expectEmit(address(stake));
        emit RewardNotified(1_000e6, rate, uint48(block.timestamp + DURATION));
        vm.prank(notifier);
        stake.notify(1_000e6);
        assertEq(stake.rewardRate(), rate);
        assertEq(stake.periodFinish(), block.timestamp + DURATION);
        assertEq(stake.totalNotified(), 1_000e6);
        assertEq(stake.claimable(alice), 0); // nothing streamed yet
        vm.warp(block.timestamp + DURATION);
        assertApproxEqAbs(stake.claimable(alice), 750e6, 1);
        assertApproxEqAbs(stake.claimable(bob), 250e6, 1);
        vm.warp(block.timestamp + DURATION); // the stream has ended
        assertApproxEqAbs(stake.claimable(alice), 750e6, 1);
    }

    function test_notify_streamsLinearly() public {
        _stake(alice, 100e18);
        _pay(700e6);
        vm.warp(block.timestamp + 1 days);
        assertApproxEqAbs(stake.claimable(alice), 100e6, 1);
        vm.warp(block.timestamp + 2 days);
        assertApproxEqAbs(stake.claimable(alice), 300e6, 1);
    }

    function test_notify_addsWhatIsLeftOfTheStream() public {
        _stake(alice, 100e18);
        _pay(700e6);
        vm.warp(block.timestamp + 3 days + 12 hours); // half streamed
        _pay(350e6);
        assertEq(stake.periodFinish(), block.timestamp + DURATION);
        assertApproxEqRel(stake.rewardRate(), (700e6 * uint256(1e36)) / DURATION, 1e9);
        vm.warp(block.timestamp + DURATION);
        assertApproxEqAbs(stake.claimable(alice), 1_050e6, 2);
    }

    function test_notify_onlyNotifier() public {
        usdc.mint(address(stake), 1e6);
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeNotNotifier.selector, alice));
        vm.prank(alice);
        stake.notify(1e6);
    }

    function test_notify_revertsBeyondWhatArrived() public {
        _stake(alice, 1e18);
        usdc.mint(address(stake), 100e6);
        vm.expectRevert(
            abi.encodeWithSelector(AgentStake.AgentStakeRewardNotFunded.selector, 100e6 + 1, 100e6)
        );
        vm.prank(notifier);
        stake.notify(100e6 + 1);
        _pay(0); // nothing promised yet
        vm.prank(notifier);
        stake.notify(100e6);
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeRewardNotFunded.selector, 1, 0));
        vm.prank(notifier);
        stake.notify(1); // the same tokens cannot be notified twice
    }

    /// What streams while nobody stakes stays and is streamed again by the next notify.
    function test_notify_restreamsWhatStreamedWhileNobodyStaked() public {
        _stake(alice, 100e18);
        _pay(700e6);
        vm.warp(block.timestamp + 1 days);
        _unstake(alice, 100e18); // nobody stakes for the next 6 days
        vm.warp(block.timestamp + 6 days);
        assertApproxEqAbs(stake.claimable(alice), 100e6, 1);
        _stake(bob, 100e18);
        assertEq(stake.claimable(bob), 0);
        _pay(0); // the 600 that found nobody stream again
        vm.warp(block.timestamp + DURATION);
        assertApproxEqAbs(stake.claimable(bob), 600e6, 2);
        assertLe(stake.claimable(alice) + stake.claimable(bob), 700e6);
    }

    function testFuzz_notify_splitsByStakeTime(uint256 a, uint256 b, uint256 reward, uint256 t) public {
        a = bound(a, 1e6, SUPPLY / 4);
        b = bound(b, 1e6, SUPPLY / 4);
        reward = bound(reward, 0, 1e30);
        t = bound(t, 0, 2 * uint256(DURATION));
        _stake(alice, a);
        _stake(bob, b);
        _pay(reward);
        vm.warp(block.timestamp + t);
        uint256 streamed = (reward * (t > DURATION ? DURATION : t)) / DURATION;
        assertApproxEqAbs(stake.claimable(alice), (streamed * a) / (a + b), 2);
        assertApproxEqAbs(stake.claimable(bob), (streamed * b) / (a + b), 2);
        assertLe(stake.claimable(alice) + stake.claimable(bob), reward);
    }

    // ---------------------------------------------------------------- attacks on earnings

    /// Review: a stake held for one block took 90 % of a month's stakers' share. Now a stake that arrives
    /// right before the distribution and leaves 12 s later earns 12 s of a 7-day stream.
    function test_Attack_JustInTimeStakeTakesOnlyItsStakeTime() public {
        _stake(alice, 100e18); // the long-term stakers
        vm.warp(block.timestamp + 30 days);
        _stake(bob, 900e18); // the sniper: 90 % of the stake, right before distribute
        _pay(10_000e6);
        vm.warp(block.timestamp + 12);
        _unstake(bob, 900e18);
        uint256 taken = _claim(bob);
        // 90 % of 12 s of 7 days: 0.0018 % of the distribution, far below 1 %
        assertLe(taken, (10_000e6 * 12 * 9) / (uint256(DURATION) * 10) + 1);
        assertLe(taken * 100, 10_000e6);
        vm.warp(block.timestamp + DURATION);
        assertApproxEqAbs(stake.claimable(alice) + taken, 10_000e6, 2); // the rest goes to who stayed
    }

    /// A stake held S seconds around a distribution earns at most S / rewardDuration of it.
    function testFuzz_Attack_JustInTimeStakeTakesOnlyItsStakeTime(
        uint256 honest,
        uint256 sniper,
        uint256 reward,
        uint256 before,
        uint256 held
    ) public {
        honest = bound(honest, 1, SUPPLY / 4);
        sniper = bound(sniper, 1, SUPPLY / 4);
        reward = bound(reward, 1, 1e15);
        before = bound(before, 0, 1 hours);
        held = bound(held, 0, 2 * uint256(DURATION));
        _stake(alice, honest);
        _stake(bob, sniper);
        vm.warp(block.timestamp + before);
        _pay(reward);
        vm.warp(block.timestamp + held);
        _unstake(bob, sniper);
        uint256 taken = _claim(bob);
        uint256 s = held > DURATION ? DURATION : held;
        assertLe(taken, (reward * s) / DURATION + 1, "more than S / rewardDuration");
    }

    /// Review: with nobody staked, 1 wei of stake took 100 % of a distribution. Now it takes its seconds.
    function test_Attack_OneWeiStakeTakesOnlyItsStakeTime() public {
        _stake(bob, 1); // nobody else stakes; the treasury's guard sees a staker
        _pay(10_000e6);
        vm.warp(block.timestamp + 12);
        _unstake(bob, 1);
        uint256 taken = _claim(bob);
        assertLe(taken, (10_000e6 * 12) / uint256(DURATION) + 1);
        // what the 1 wei did not earn is not lost: it streams to the next stakers after the next notify
        _stake(alice, 100e18);
        _pay(0);
        vm.warp(block.timestamp + DURATION);
        assertApproxEqAbs(stake.claimable(alice) + taken, 10_000e6, 2);
    }

    function testFuzz_Attack_OneWeiStakeTakesOnlyItsStakeTime(uint256 dust, uint256 reward, uint256 held)
        public
    {
        dust = bound(dust, 1, 1e6);
        reward = bound(reward, 1, 1e15);
        held = bound(held, 0, 2 * uint256(DURATION));
        _stake(bob, dust);
        _pay(reward);
        vm.warp(block.timestamp + held);
        _unstake(bob, dust);
        uint256 s = held > DURATION ? DURATION : held;
        assertLe(_claim(bob), (reward * s) / DURATION + 1);
    }

    // ---------------------------------------------------------------- claim

    function test_claim() public {
        _stake(alice, 100e18);
        _pay(100e6);
        vm.warp(block.timestamp + DURATION);
        uint256 owed = stake.claimable(alice);
        assertApproxEqAbs(owed, 100e6, 1);
        vm.expectEmit(address(stake));
        emit RewardClaimed(alice, owed);
        assertEq(_claim(alice), owed);
        assertEq(usdc.balanceOf(alice), owed);
        assertEq(stake.claimable(alice), 0);
        assertEq(stake.totalClaimed(), owed);
        assertEq(usdc.balanceOf(address(stake)), 100e6 - owed);
    }

    function test_claim_returnsZeroWhenNothingOwed() public {
        vm.recordLogs();
        assertEq(_claim(alice), 0);
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(stake.totalClaimed(), 0);
    }

    function test_claim_twicePaysOnce() public {
        _stake(alice, 100e18);
        _pay(100e6);
        vm.warp(block.timestamp + DURATION);
        uint256 paid = _claim(alice);
        assertEq(_claim(alice), 0);
        assertEq(usdc.balanceOf(alice), paid);
    }

    function testFuzz_claim(uint256 amount, uint256 reward, uint256 t) public {
        amount = bound(amount, 1, SUPPLY / 2);
        reward = bound(reward, 0, 1e30);
        t = bound(t, 0, 2 * uint256(DURATION));
        _stake(alice, amount);
        _pay(reward);
        vm.warp(block.timestamp + t);
        uint256 paid = _claim(alice);
        uint256 streamed = (reward * (t > DURATION ? DURATION : t)) / DURATION;
        assertApproxEqAbs(paid, streamed, 1);
        assertLe(paid, reward);
        assertEq(usdc.balanceOf(alice), paid);
        assertEq(stake.totalClaimed(), paid);
    }

    // ---------------------------------------------------------------- sweep

    function test_sweep_strayToken() public {
        MockERC20 stray = new MockERC20("Stray", "STR", 18);
        stray.mint(address(stake), 5e18);
        vm.expectEmit(address(stake));
        emit Swept(IERC20(address(stray)), carol, 5e18);
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(stray)), carol), 5e18);
        assertEq(stray.balanceOf(carol), 5e18);
    }

    function test_sweep_stakedTokenOnlyTheExcess() public {
        _stake(alice, 100e18);
        _unstake(alice, 40e18); // 40 cooling down, 60 staked: both owed
        vm.prank(bob);
        assertTrue(token.transfer(address(stake), 7e18)); // sent by mistake
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(token)), carol), 7e18);
        assertEq(token.balanceOf(carol), SUPPLY / 4 + 7e18);
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(token)), carol), 0);
        assertEq(token.balanceOf(address(stake)), stake.totalSupply() + stake.totalCoolingDown());
    }

    function testFuzz_sweep_stakedTokenOnlyTheExcess(uint256 staked, uint256 cooling, uint256 stray) public {
        staked = bound(staked, 1, SUPPLY / 2);
        cooling = bound(cooling, 0, staked);
        stray = bound(stray, 0, SUPPLY / 4);
        _stake(alice, staked);
        if (cooling != 0) _unstake(alice, cooling);
        vm.prank(bob);
        assertTrue(token.transfer(address(stake), stray));
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(token)), carol), stray);
        assertEq(token.balanceOf(address(stake)), staked);
    }

    /// Reward tokens sent by mistake are recoverable: only the excess over what was notified and not claimed.
    function test_sweep_rewardTokenOnlyTheExcess() public {
        _stake(alice, 100e18);
        _pay(1_000e6);
        vm.warp(block.timestamp + DURATION / 2);
        _claim(alice); // about half claimed, half still streaming
        usdc.mint(address(stake), 3e6); // sent by mistake
        vm.expectEmit(address(stake));
        emit Swept(IERC20(address(usdc)), carol, 3e6);
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(usdc)), carol), 3e6);
        assertEq(usdc.balanceOf(carol), 3e6);
        assertEq(usdc.balanceOf(address(stake)), stake.totalNotified() - stake.totalClaimed());
        // the stream still pays in full
        vm.warp(block.timestamp + DURATION);
        _claim(alice);
        assertApproxEqAbs(usdc.balanceOf(alice), 1_000e6, 2); // two claims, each floored
    }

    /// Attack: governance (a captured timelock) tries to sweep the stakers' rewards, owed, streaming and
    /// streamed while nobody staked. It gets only what was sent by mistake; every staker still claims in full.
    function test_Attack_SweepOwedRewardsGetsOnlyTheExcess() public {
        _pay(500e6); // nobody staked: streams into the unstreamed pot, re-streamed by the next notify
        vm.warp(block.timestamp + 1 days);
        _stake(alice, 100e18);
        _pay(1_000e6);
        vm.warp(block.timestamp + 2 days);
        _stake(bob, 50e18);
        usdc.mint(address(stake), 7e6); // sent by mistake
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(usdc)), owner), 7e6);
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(usdc)), owner), 0);
        assertEq(usdc.balanceOf(owner), 7e6);
        // every notified unit is still there for stakers: the streams run out and both claim
        _pay(0); // re-streams what streamed while nobody staked
        vm.warp(block.timestamp + 2 * uint256(DURATION));
        uint256 paid = _claim(alice) + _claim(bob);
        assertApproxEqAbs(paid, 1_500e6, 10);
        assertLe(paid, 1_500e6);
        assertGe(usdc.balanceOf(address(stake)), stake.totalNotified() - stake.totalClaimed());
    }

    function testFuzz_sweep_rewardTokenOnlyTheExcess(uint256 reward, uint256 stray, uint256 t) public {
        reward = bound(reward, 0, 1e30);
        stray = bound(stray, 0, 1e30);
        t = bound(t, 0, 2 * uint256(DURATION));
        _stake(alice, 1e18);
        _pay(reward);
        vm.warp(block.timestamp + t);
        _claim(alice);
        usdc.mint(address(stake), stray);
        uint256 owed = stake.totalNotified() - stake.totalClaimed();
        vm.prank(owner);
        assertEq(stake.sweep(IERC20(address(usdc)), carol), stray);
        assertEq(usdc.balanceOf(address(stake)), owed);
        assertGe(usdc.balanceOf(address(stake)), stake.claimable(alice));
    }

    function test_sweep_refusesStrangers() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        stake.sweep(IERC20(address(token)), alice);
        vm.expectRevert(AgentStake.AgentStakeZeroAddress.selector);
        vm.prank(owner);
        stake.sweep(IERC20(address(token)), address(0));
    }

    // ---------------------------------------------------------------- views

    function test_claimable_zeroForStranger() public {
        assertEq(stake.claimable(makeAddr("stranger")), 0);
    }

    function test_totals_startAtZero() public view {
        assertEq(stake.totalNotified(), 0);
        assertEq(stake.totalClaimed(), 0);
        assertEq(stake.totalCoolingDown(), 0);
        assertEq(stake.rewardPerToken(), 0);
        assertEq(stake.rewardRate(), 0);
        assertEq(stake.periodFinish(), 0);
    }
}
