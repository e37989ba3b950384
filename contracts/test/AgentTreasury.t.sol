// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {AgentConfig} from "../src/AgentConfig.sol";
import {AgentStake} from "../src/AgentStake.sol";
import {AgentToken} from "../src/AgentToken.sol";
import {AgentTreasury} from "../src/AgentTreasury.sol";
import {MockUSDC} from "../src/MockUSDC.sol";
import {ConfigFixture} from "./utils/ConfigFixture.sol";
import {MockStakeGovernance} from "./mocks/MockStakeGovernance.sol";
import {FeeOnTransferToken} from "./mocks/FeeOnTransferToken.sol";
import {ReturnsFalseToken} from "./mocks/ReturnsFalseToken.sol";
import {MissingReturnToken} from "./mocks/MissingReturnToken.sol";
import {ShrinkingToken} from "./mocks/ShrinkingToken.sol";
import {ReentrantToken} from "./mocks/ReentrantToken.sol";
import {IUniswapV2Router} from "../src/interfaces/IUniswapV2Router.sol";

interface IMintable {
    function mint(address to, uint256 amount) external;
}

contract AgentTreasuryTest is Test {
    event Distributed(
        uint256 income, uint256 toStakers, uint256 toOperator, uint256 toBuyback, uint256 toReserve
    );
    event ReserveSpent(address indexed to, uint256 amount);
    event BuybackSpent(address indexed to, uint256 amount);
    event OperatorChanged(address indexed previousOperator, address indexed newOperator);
    event KeeperChanged(address indexed previousKeeper, address indexed newKeeper);

    IUniswapV2Router internal constant NO_DEX = IUniswapV2Router(address(0));

    address internal timelock = makeAddr("timelock");
    address internal operator = makeAddr("operator");
    address internal keeper = makeAddr("keeper");
    address internal alice = makeAddr("alice");
    address internal customer = makeAddr("customer");
    address internal stranger = makeAddr("stranger");

    MockUSDC internal usdc;
    AgentToken internal token;
    AgentConfig internal cfg;
    AgentStake internal stake;
    AgentTreasury internal treasury;

    function setUp() public {
        usdc = new MockUSDC();
        address[] memory holders = new address[](1);
        holders[0] = alice;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 1_000_000e18;
        token = new AgentToken("Agent", "AGT", holders, amounts);
        cfg = new AgentConfig(
            timelock, address(0), ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        (stake, treasury) = _deploy(IERC20(address(usdc)));
    }

    function _deploy(IERC20 payment) internal returns (AgentStake s, AgentTreasury t) {
        s = new AgentStake(IERC20(address(token)), payment, "Staked Agent", "sAGT", timelock, 7 days);
        t = new AgentTreasury(payment, cfg, s, token, NO_DEX, operator, keeper, timelock);
        s.bind(new MockStakeGovernance(7 days), address(t));
    }

    function _stake(AgentStake s, uint256 amount) internal {
        vm.startPrank(alice);
        token.approve(address(s), amount);
        s.stake(amount);
        vm.stopPrank();
    }

    /// @dev A customer pays the treasury (what an x402 settlement does).
    function _pay(address payment, address to, uint256 amount) internal {
        IMintable(payment).mint(customer, amount);
        vm.prank(customer);
        assertTrue(IERC20(payment).transfer(to, amount));
    }

    function _setSplit(uint16 a, uint16 b, uint16 c, uint16 d) internal {
        vm.prank(timelock);
        cfg.setSplit(AgentConfig.Split(a, b, c, d));
    }

    function _assertBooks(AgentTreasury t) internal view {
        assertEq(
            t.totalToStakers() + t.totalToOperator() + t.totalToBuyback() + t.totalToReserve(),
            t.totalIncome(),
            "parts"
        );
        assertEq(
            t.paymentToken().balanceOf(address(t)),
            t.reserveBalance() + t.buybackBalance() + t.pendingIncome(),
            "bal"
        );
    }

    // ---------------------------------------------------------------- constructor

    function testConstructor() public view {
        assertEq(address(treasury.paymentToken()), address(usdc));
        assertEq(address(treasury.config()), address(cfg));
        assertEq(address(treasury.stake()), address(stake));
        assertEq(address(treasury.agentToken()), address(token));
        assertEq(address(treasury.router()), address(0));
        assertEq(treasury.operator(), operator);
        assertEq(treasury.keeper(), keeper);
        assertEq(treasury.owner(), timelock);
        assertEq(treasury.reserveBalance(), 0);
        assertEq(treasury.pendingIncome(), 0);
    }

    function testConstructorRevertsZeroAddresses() public {
        IERC20 p = IERC20(address(usdc));
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(IERC20(address(0)), cfg, stake, token, NO_DEX, operator, keeper, timelock);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(p, AgentConfig(address(0)), stake, token, NO_DEX, operator, keeper, timelock);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(p, cfg, AgentStake(address(0)), token, NO_DEX, operator, keeper, timelock);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(p, cfg, stake, AgentToken(address(0)), NO_DEX, operator, keeper, timelock);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(p, cfg, stake, token, NO_DEX, address(0), keeper, timelock);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(p, cfg, stake, token, NO_DEX, operator, address(0), timelock);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new AgentTreasury(p, cfg, stake, token, NO_DEX, operator, keeper, address(0));
    }

    function testConstructorRevertsTokenMismatch() public {
        address[] memory holders = new address[](1);
        holders[0] = alice;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 1;
        AgentToken other = new AgentToken("Other", "OTH", holders, amounts);
        vm.expectRevert(AgentTreasury.AgentTreasuryTokenMismatch.selector);
        new AgentTreasury(IERC20(address(usdc)), cfg, stake, other, NO_DEX, operator, keeper, timelock);
    }

    function testConstructorRevertsStakePaidInAnotherToken() public {
        MockUSDC otherUsdc = new MockUSDC();
        AgentStake paidElsewhere = new AgentStake(
            IERC20(address(token)), IERC20(address(otherUsdc)), "Staked", "st", timelock, 7 days
        );
        vm.expectRevert(AgentTreasury.AgentTreasuryTokenMismatch.selector);
        new AgentTreasury(
            IERC20(address(usdc)), cfg, paidElsewhere, token, NO_DEX, operator, keeper, timelock
        );
    }

    // ---------------------------------------------------------------- distribute

    function testDistributeNothingReturnsZero() public {
        assertEq(treasury.distribute(), 0);
        assertEq(treasury.totalIncome(), 0);
    }

    function testDistributeSplitsIncome() public {
        _stake(stake, 100e18);
        _pay(address(usdc), address(treasury), 1_000_000);
        assertEq(treasury.pendingIncome(), 1_000_000);

        vm.expectEmit(false, false, false, true, address(treasury));
        emit Distributed(1_000_000, 600_000, 200_000, 100_000, 100_000);
        vm.prank(stranger);
        assertEq(treasury.distribute(), 1_000_000);

        assertEq(usdc.balanceOf(address(stake)), 600_000);
        assertEq(stake.totalNotified(), 600_000);
        vm.warp(block.timestamp + 7 days); // the stakers' share streams over the reward duration
        assertApproxEqAbs(stake.claimable(alice), 600_000, 1);
        assertEq(usdc.balanceOf(operator), 200_000);
        assertEq(treasury.buybackBalance(), 100_000);
        assertEq(treasury.reserveBalance(), 100_000);
        assertEq(usdc.balanceOf(address(treasury)), 200_000);
        assertEq(treasury.pendingIncome(), 0);
        assertEq(treasury.totalIncome(), 1_000_000);
        assertEq(treasury.totalToStakers(), 600_000);
        assertEq(treasury.totalToOperator(), 200_000);
        assertEq(treasury.totalToBuyback(), 100_000);
        assertEq(treasury.totalToReserve(), 100_000);
        _assertBooks(treasury);
    }

    function testDistributeTwiceCountsOnce() public {
        _stake(stake, 100e18);
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        assertEq(treasury.distribute(), 0);
        _pay(address(usdc), address(treasury), 500);
        assertEq(treasury.distribute(), 500);
        assertEq(treasury.totalIncome(), 1_000_500);
        _assertBooks(treasury);
    }

    function testDistributeWithoutStakersKeepsStakersShareInReserve() public {
        _pay(address(usdc), address(treasury), 1_000_000);
        vm.expectEmit(false, false, false, true, address(treasury));
        emit Distributed(1_000_000, 0, 200_000, 100_000, 700_000);
        treasury.distribute();
        assertEq(usdc.balanceOf(address(stake)), 0);
        assertEq(treasury.reserveBalance(), 700_000);
        _assertBooks(treasury);
    }

    function testDistributeRoundingGoesToReserve() public {
        _stake(stake, 1);
        _setSplit(3_333, 3_333, 3_333, 1);
        _pay(address(usdc), address(treasury), 7);
        treasury.distribute();
        // 7 * 3333 / 10000 floors to 2 for each of the three shares
        assertEq(treasury.totalToStakers(), 2);
        assertEq(treasury.totalToOperator(), 2);
        assertEq(treasury.totalToBuyback(), 2);
        assertEq(treasury.totalToReserve(), 1);
        _assertBooks(treasury);
    }

    function testDistributeTinyIncome() public {
        _stake(stake, 1);
        _pay(address(usdc), address(treasury), 1);
        assertEq(treasury.distribute(), 1);
        assertEq(treasury.reserveBalance(), 1);
        _assertBooks(treasury);
    }

    function testDistributeAllToStakers() public {
        _stake(stake, 10e18);
        _setSplit(10_000, 0, 0, 0);
        _pay(address(usdc), address(treasury), 123_456);
        treasury.distribute();
        vm.warp(block.timestamp + 7 days);
        uint256 owed = stake.claimable(alice);
        assertApproxEqAbs(owed, 123_456, 1);
        vm.prank(alice);
        assertEq(stake.claim(), owed);
        assertEq(usdc.balanceOf(alice), owed);
        _assertBooks(treasury);
    }

    function testDistributeUsesCurrentSplit() public {
        _stake(stake, 10e18);
        _setSplit(0, 10_000, 0, 0);
        _pay(address(usdc), address(treasury), 1_000);
        treasury.distribute();
        assertEq(usdc.balanceOf(operator), 1_000);
    }

    function testFuzzDistributePartsSumToIncome(uint256 income, uint16 a, uint16 b, uint16 c, bool staked)
        public
    {
        income = bound(income, 0, 1e30);
        a = uint16(bound(a, 0, 10_000));
        b = uint16(bound(b, 0, 10_000 - a));
        c = uint16(bound(c, 0, 10_000 - a - b));
        _setSplit(a, b, c, 10_000 - a - b - c);
        if (staked) _stake(stake, 1e18);
        _pay(address(usdc), address(treasury), income);

        assertEq(treasury.distribute(), income);
        uint256 toStakers = treasury.totalToStakers();
        assertEq(toStakers, staked ? (income * a) / 10_000 : 0);
        assertEq(treasury.totalToOperator(), (income * b) / 10_000);
        assertEq(treasury.totalToBuyback(), (income * c) / 10_000);
        assertEq(treasury.totalIncome(), income);
        assertEq(usdc.balanceOf(address(stake)), toStakers);
        assertEq(usdc.balanceOf(operator), treasury.totalToOperator());
        _assertBooks(treasury);
    }

    function testFuzzRepeatedDistributions(uint256[5] memory payments) public {
        _stake(stake, 1e18);
        uint256 paid;
        for (uint256 i; i < payments.length; ++i) {
            uint256 p = bound(payments[i], 0, 1e24);
            _pay(address(usdc), address(treasury), p);
            paid += p;
            assertEq(treasury.distribute(), p);
            _assertBooks(treasury);
        }
        assertEq(treasury.totalIncome(), paid);
    }

    // ---------------------------------------------------------------- spendReserve

    function testSpendReserve() public {
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        uint256 reserve = treasury.reserveBalance();
        vm.expectEmit(true, false, false, true, address(treasury));
        emit ReserveSpent(stranger, 300_000);
        vm.prank(timelock);
        treasury.spendReserve(stranger, 300_000);
        assertEq(treasury.reserveBalance(), reserve - 300_000);
        assertEq(usdc.balanceOf(stranger), 300_000);
        // spending is not income: nothing new to distribute
        assertEq(treasury.pendingIncome(), 0);
        _assertBooks(treasury);
    }

    function testSpendReserveReverts() public {
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        uint256 reserve = treasury.reserveBalance();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        treasury.spendReserve(stranger, 1);
        vm.startPrank(timelock);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        treasury.spendReserve(address(0), 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentTreasury.AgentTreasuryInsufficientReserve.selector, reserve + 1, reserve
            )
        );
        treasury.spendReserve(stranger, reserve + 1);
        vm.stopPrank();
    }

    function testSpendReserveCannotTouchPendingIncome() public {
        _pay(address(usdc), address(treasury), 1_000_000);
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryInsufficientReserve.selector, 1, 0));
        vm.prank(timelock);
        treasury.spendReserve(stranger, 1);
    }

    // ---------------------------------------------------------------- spendBuyback

    function testSpendBuyback() public {
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        vm.expectEmit(true, false, false, true, address(treasury));
        emit BuybackSpent(stranger, 100_000);
        vm.prank(timelock);
        treasury.spendBuyback(stranger, 100_000);
        assertEq(treasury.buybackBalance(), 0);
        assertEq(usdc.balanceOf(stranger), 100_000);
        _assertBooks(treasury);
    }

    function testSpendBuybackReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        treasury.spendBuyback(stranger, 0);
        vm.startPrank(timelock);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        treasury.spendBuyback(address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryInsufficientBuyback.selector, 1, 0));
        treasury.spendBuyback(stranger, 1);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- setOperator

    function testSetOperator() public {
        vm.expectEmit(true, true, false, false, address(treasury));
        emit OperatorChanged(operator, stranger);
        vm.prank(timelock);
        treasury.setOperator(stranger);
        assertEq(treasury.operator(), stranger);
        _pay(address(usdc), address(treasury), 10_000);
        treasury.distribute();
        assertEq(usdc.balanceOf(stranger), 2_000);
    }

    function testSetOperatorReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, operator));
        vm.prank(operator);
        treasury.setOperator(operator);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        vm.prank(timelock);
        treasury.setOperator(address(0));
    }

    // ---------------------------------------------------------------- keeper, buyback without a DEX

    function testSetKeeper() public {
        vm.expectEmit(true, true, false, false, address(treasury));
        emit KeeperChanged(keeper, stranger);
        vm.prank(timelock);
        treasury.setKeeper(stranger);
        assertEq(treasury.keeper(), stranger);
    }

    function testSetKeeperReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, keeper));
        vm.prank(keeper);
        treasury.setKeeper(keeper);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        vm.prank(timelock);
        treasury.setKeeper(address(0));
    }

    /// Without a DEX the buyback share accumulates and only governance can spend it.
    function testBuybackWithoutDexRevertsAndFundAccumulates() public {
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        assertEq(treasury.buybackBalance(), 200_000);
        vm.expectRevert(AgentTreasury.AgentTreasuryNoDex.selector);
        vm.prank(keeper);
        treasury.buyback(100_000, 0, block.timestamp);
        assertEq(treasury.buybackBalance(), 200_000);
        _assertBooks(treasury);
    }

    function testPendingIncome() public {
        _pay(address(usdc), address(treasury), 42);
        assertEq(treasury.pendingIncome(), 42);
        treasury.distribute();
        assertEq(treasury.pendingIncome(), 0);
    }

    // ---------------------------------------------------------------- badly behaved tokens

    /// Fee on transfer: income is what actually arrived; the recipients of each share bear the fee on
    /// the way out; the treasury is debited exactly the booked amounts, so nothing is counted twice.
    function testFeeOnTransferToken() public {
        FeeOnTransferToken fot = new FeeOnTransferToken(100); // 1 %
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(fot)));
        _stake(s, 1e18);
        _pay(address(fot), address(t), 1_000_000);
        assertEq(t.pendingIncome(), 990_000);
        assertEq(t.distribute(), 990_000);
        assertEq(fot.balanceOf(operator), 198_000 - 1_980);
        assertEq(s.totalNotified(), 594_000 - 5_940); // what arrived is what streams
        vm.warp(block.timestamp + 7 days);
        assertApproxEqAbs(s.claimable(alice), 594_000 - 5_940, 1);
        assertEq(t.pendingIncome(), 0);
        assertEq(t.distribute(), 0);
        _assertBooks(t);
        uint256 reserve = t.reserveBalance();
        vm.prank(timelock);
        t.spendReserve(stranger, reserve);
        assertEq(t.pendingIncome(), 0);
        _assertBooks(t);
    }

    /// Returns false: SafeERC20 turns it into a revert, so a failed payout books nothing and the income
    /// stays pending for the next call.
    function testReturnsFalseTokenRevertsAndKeepsIncomePending() public {
        ReturnsFalseToken bad = new ReturnsFalseToken();
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(bad)));
        _stake(s, 1e18);
        _pay(address(bad), address(t), 1_000);
        bad.setBroken(true);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(bad)));
        t.distribute();
        assertEq(t.totalIncome(), 0);
        assertEq(t.pendingIncome(), 1_000);
        bad.setBroken(false);
        assertEq(t.distribute(), 1_000);
        _assertBooks(t);
    }

    function testReturnsFalseTokenSpendReserveReverts() public {
        ReturnsFalseToken bad = new ReturnsFalseToken();
        (, AgentTreasury t) = _deploy(IERC20(address(bad)));
        _pay(address(bad), address(t), 1_000);
        t.distribute();
        bad.setBroken(true);
        uint256 reserve = t.reserveBalance();
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(bad)));
        vm.prank(timelock);
        t.spendReserve(stranger, reserve);
        assertEq(t.reserveBalance(), reserve);
    }

    /// No return value (USDT style): SafeERC20 accepts it.
    function testMissingReturnToken() public {
        MissingReturnToken miss = new MissingReturnToken();
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(miss)));
        _stake(s, 1e18);
        miss.mint(address(t), 10_000);
        assertEq(t.distribute(), 10_000);
        assertEq(miss.balanceOf(operator), 2_000);
        vm.warp(block.timestamp + 7 days);
        assertApproxEqAbs(s.claimable(alice), 6_000, 1);
        _assertBooks(t);
    }

    /// A balance cut below what the treasury holds on its books: no income, no revert, no underflow;
    /// income counting resumes once the balance is above the books again.
    function testShrinkingTokenBelowBooks() public {
        ShrinkingToken shrink = new ShrinkingToken();
        (, AgentTreasury t) = _deploy(IERC20(address(shrink)));
        shrink.mint(address(t), 10_000);
        t.distribute();
        uint256 held = t.reserveBalance() + t.buybackBalance();
        shrink.slash(address(t), held / 2);
        assertEq(t.pendingIncome(), 0);
        assertEq(t.distribute(), 0);
        shrink.mint(address(t), held / 2 + 50);
        assertEq(t.pendingIncome(), 50);
    }

    /// A transfer hook that calls distribute again is stopped by the reentrancy guard.
    function testReentrantTokenCannotReenterDistribute() public {
        ReentrantToken re = new ReentrantToken();
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(re)));
        _stake(s, 1e18);
        re.mint(address(t), 10_000);
        re.setHook(address(t), abi.encodeCall(AgentTreasury.distribute, ()));
        assertEq(t.distribute(), 10_000);
        assertTrue(re.reentered());
        assertFalse(re.reentrySucceeded());
        assertEq(t.totalIncome(), 10_000);
        _assertBooks(t);
    }

    function testReentrancyGuardSelector() public pure {
        // documents which error a reentrant call receives
        assertEq(
            ReentrancyGuard.ReentrancyGuardReentrantCall.selector,
            bytes4(keccak256("ReentrancyGuardReentrantCall()"))
        );
    }
}
