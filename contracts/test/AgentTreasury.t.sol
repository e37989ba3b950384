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
import {BuybackPriceFloor} from "../src/treasury/BuybackPriceFloor.sol";
import {TreasuryFixture} from "./utils/TreasuryFixture.sol";
import {MockUSDC} from "../src/MockUSDC.sol";
import {ConfigFixture} from "./utils/ConfigFixture.sol";
import {MockStakeGovernance} from "./mocks/MockStakeGovernance.sol";
import {FeeOnTransferToken} from "./mocks/FeeOnTransferToken.sol";
import {ReturnsFalseToken} from "./mocks/ReturnsFalseToken.sol";
import {MissingReturnToken} from "./mocks/MissingReturnToken.sol";
import {ShrinkingToken} from "./mocks/ShrinkingToken.sol";
import {ReentrantToken} from "./mocks/ReentrantToken.sol";
import {BlocklistToken} from "./mocks/BlocklistToken.sol";
import {CheckpointingConfig} from "./mocks/CheckpointingConfig.sol";
import {MockERC20} from "./mocks/MockERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
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
    event StakersPayoutFailed(uint256 amount);
    event OperatorShareWithdrawn(address indexed account, address indexed to, uint256 amount);
    event Swept(IERC20 indexed token, address indexed to, uint256 amount);
    event Paused(address account);
    event Unpaused(address account);

    IUniswapV2Router internal constant NO_DEX = IUniswapV2Router(address(0));

    address internal timelock = makeAddr("timelock");
    address internal operator = makeAddr("operator");
    address internal keeper = makeAddr("keeper");
    address internal alice = makeAddr("alice");
    address internal customer = makeAddr("customer");
    address internal stranger = makeAddr("stranger");
    address internal guardian = makeAddr("guardian");

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
            timelock, guardian, ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        (stake, treasury) = _deploy(IERC20(address(usdc)));
    }

    function _deploy(IERC20 payment) internal returns (AgentStake s, AgentTreasury t) {
        s = new AgentStake(IERC20(address(token)), payment, "Staked Agent", "sAGT", timelock, 7 days);
        t = new AgentTreasury(
            payment,
            cfg,
            s,
            token,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
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
            t.reserveBalance() + t.buybackBalance() + t.totalOperatorOwed() + t.pendingIncome(),
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
        new AgentTreasury(
            IERC20(address(0)),
            cfg,
            stake,
            token,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(
            p,
            AgentConfig(address(0)),
            stake,
            token,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(
            p,
            cfg,
            AgentStake(address(0)),
            token,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(
            p,
            cfg,
            stake,
            AgentToken(address(0)),
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(
            p,
            cfg,
            stake,
            token,
            NO_DEX,
            address(0),
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        new AgentTreasury(
            p,
            cfg,
            stake,
            token,
            NO_DEX,
            operator,
            address(0),
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new AgentTreasury(
            p,
            cfg,
            stake,
            token,
            NO_DEX,
            operator,
            keeper,
            address(0),
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
    }

    function testConstructorRevertsTokenMismatch() public {
        address[] memory holders = new address[](1);
        holders[0] = alice;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 1;
        AgentToken other = new AgentToken("Other", "OTH", holders, amounts);
        vm.expectRevert(AgentTreasury.AgentTreasuryTokenMismatch.selector);
        new AgentTreasury(
            IERC20(address(usdc)),
            cfg,
            stake,
            other,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
    }

    function testConstructorRevertsStakePaidInAnotherToken() public {
        MockUSDC otherUsdc = new MockUSDC();
        AgentStake paidElsewhere = new AgentStake(
            IERC20(address(token)), IERC20(address(otherUsdc)), "Staked", "st", timelock, 7 days
        );
        vm.expectRevert(AgentTreasury.AgentTreasuryTokenMismatch.selector);
        new AgentTreasury(
            IERC20(address(usdc)),
            cfg,
            paidElsewhere,
            token,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
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
        assertEq(treasury.operatorOwed(operator), 200_000);
        assertEq(usdc.balanceOf(operator), 0);
        assertEq(treasury.buybackBalance(), 100_000);
        assertEq(treasury.reserveBalance(), 100_000);
        assertEq(usdc.balanceOf(address(treasury)), 400_000);
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
        assertEq(treasury.operatorOwed(operator), 1_000);
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
        assertEq(treasury.operatorOwed(operator), treasury.totalToOperator());
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
        assertEq(treasury.operatorOwed(stranger), 2_000);
        assertEq(treasury.operatorOwed(operator), 0);
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
        assertEq(t.operatorOwed(operator), 198_000);
        vm.prank(operator);
        t.withdrawOperatorShare(operator);
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

    /// Returns false: the stake's payout fails, the other parties are still booked and the stakers' share
    /// stays in the reserve (governance can pay it later); nothing is lost or counted twice.
    function testReturnsFalseTokenKeepsStakersShareAndPaysOthers() public {
        ReturnsFalseToken bad = new ReturnsFalseToken();
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(bad)));
        _stake(s, 1e18);
        _pay(address(bad), address(t), 1_000);
        bad.setBroken(true);
        vm.expectEmit(false, false, false, true, address(t));
        emit StakersPayoutFailed(600);
        assertEq(t.distribute(), 1_000);
        assertEq(t.totalToStakers(), 0);
        assertEq(t.reserveBalance(), 700);
        assertEq(t.operatorOwed(operator), 200);
        assertEq(t.buybackBalance(), 100);
        assertEq(t.pendingIncome(), 0);
        bad.setBroken(false);
        _pay(address(bad), address(t), 1_000);
        assertEq(t.distribute(), 1_000);
        assertEq(t.totalToStakers(), 600);
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
        assertEq(t.operatorOwed(operator), 2_000);
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
    // ---------------------------------------------------------------- operator share: pulled

    function test_WithdrawOperatorShare() public {
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        vm.expectEmit(true, true, false, true, address(treasury));
        emit OperatorShareWithdrawn(operator, stranger, 200_000);
        vm.prank(operator);
        assertEq(treasury.withdrawOperatorShare(stranger), 200_000);
        assertEq(usdc.balanceOf(stranger), 200_000);
        assertEq(treasury.operatorOwed(operator), 0);
        assertEq(treasury.totalOperatorOwed(), 0);
        // the withdrawal is not income
        assertEq(treasury.pendingIncome(), 0);
        vm.prank(operator);
        assertEq(treasury.withdrawOperatorShare(stranger), 0);
        _assertBooks(treasury);
    }

    function test_WithdrawOperatorShareReverts() public {
        vm.startPrank(operator);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        treasury.withdrawOperatorShare(address(0));
        vm.expectRevert(
            abi.encodeWithSelector(AgentTreasury.AgentTreasuryInvalidRecipient.selector, address(treasury))
        );
        treasury.withdrawOperatorShare(address(treasury));
        vm.stopPrank();
    }

    /// A replaced operator keeps what it was owed; the new one is owed from the next distribution.
    function test_FormerOperatorKeepsItsDebt() public {
        _pay(address(usdc), address(treasury), 10_000);
        treasury.distribute();
        vm.prank(timelock);
        treasury.setOperator(stranger);
        _pay(address(usdc), address(treasury), 10_000);
        treasury.distribute();
        assertEq(treasury.operatorOwed(operator), 2_000);
        assertEq(treasury.operatorOwed(stranger), 2_000);
        vm.prank(operator);
        treasury.withdrawOperatorShare(operator);
        assertEq(usdc.balanceOf(operator), 2_000);
        _assertBooks(treasury);
    }

    function testFuzz_WithdrawOperatorShare(uint256[3] memory payments, uint256 withdrawAfter) public {
        withdrawAfter = bound(withdrawAfter, 0, 2);
        uint256 owed;
        for (uint256 i; i < payments.length; ++i) {
            uint256 p = bound(payments[i], 0, 1e24);
            _pay(address(usdc), address(treasury), p);
            treasury.distribute();
            owed += (p * 2_000) / 10_000;
            if (i == withdrawAfter) {
                vm.prank(operator);
                assertEq(treasury.withdrawOperatorShare(stranger), owed);
                owed = 0;
            }
            assertEq(treasury.operatorOwed(operator), owed);
            _assertBooks(treasury);
        }
    }

    // ---------------------------------------------------------------- attacks: the operator and the stake

    /// Review: one blocklisted operator froze every distribution (its share was pushed inside distribute).
    /// Now the operator's share is booked, the stakers are paid, and the operator is paid elsewhere.
    function test_Attack_BlocklistedOperatorCannotFreezeDistribute() public {
        BlocklistToken busd = new BlocklistToken();
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(busd)));
        _stake(s, 1e18);
        busd.setBlocked(operator, true);
        _pay(address(busd), address(t), 1_000_000);
        assertEq(t.distribute(), 1_000_000);
        assertEq(t.totalToStakers(), 600_000);
        assertEq(busd.balanceOf(address(s)), 600_000);
        assertEq(t.operatorOwed(operator), 200_000);
        vm.warp(block.timestamp + 7 days); // the stakers' share streams over the reward duration
        uint256 owed = s.claimable(alice);
        assertApproxEqAbs(owed, 600_000, 1);
        vm.prank(alice);
        assertEq(s.claim(), owed);
        // its own address cannot receive, any other can
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(BlocklistToken.BlocklistTokenBlocked.selector, operator));
        t.withdrawOperatorShare(operator);
        assertEq(t.withdrawOperatorShare(stranger), 200_000);
        vm.stopPrank();
        assertEq(busd.balanceOf(stranger), 200_000);
        _assertBooks(t);
    }

    function testFuzz_Attack_BlocklistedOperatorCannotFreezeDistribute(uint256 income, bool blockedStake)
        public
    {
        income = bound(income, 1, 1e30);
        BlocklistToken busd = new BlocklistToken();
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(busd)));
        _stake(s, 1e18);
        busd.setBlocked(operator, true);
        busd.setBlocked(address(s), blockedStake);
        _pay(address(busd), address(t), income);
        assertEq(t.distribute(), income);
        assertEq(t.operatorOwed(operator), (income * 2_000) / 10_000);
        assertEq(t.totalToStakers(), blockedStake ? 0 : (income * 6_000) / 10_000);
        assertEq(t.pendingIncome(), 0);
        _assertBooks(t);
    }

    /// A stake the token refuses does not hold up the others: its share stays in the reserve.
    function test_Attack_BlocklistedStakeCannotFreezeDistribute() public {
        BlocklistToken busd = new BlocklistToken();
        (AgentStake s, AgentTreasury t) = _deploy(IERC20(address(busd)));
        _stake(s, 1e18);
        busd.setBlocked(address(s), true);
        _pay(address(busd), address(t), 1_000_000);
        vm.expectEmit(false, false, false, true, address(t));
        emit StakersPayoutFailed(600_000);
        assertEq(t.distribute(), 1_000_000);
        assertEq(t.reserveBalance(), 700_000);
        assertEq(t.operatorOwed(operator), 200_000);
        assertEq(t.buybackBalance(), 100_000);
        _assertBooks(t);
    }

    /// Starving the stake's transfer of gas cannot divert the stakers' share to the reserve.
    function test_Attack_GasStarvedDistributeCannotDivertStakersShare() public {
        _stake(stake, 1e18);
        _pay(address(usdc), address(treasury), 1_000_000);
        // every gas limit either reverts or pays the stakers: none books their share into the reserve
        bool done;
        for (uint256 gas = 30_000; gas < 600_000 && !done; gas += 1_500) {
            try treasury.distribute{gas: gas}() {
                done = true;
            } catch {}
        }
        assertTrue(done);
        assertEq(treasury.totalToStakers(), 600_000);
        assertEq(treasury.reserveBalance(), 100_000);
    }

    /// Review: with the treasury as operator, its own share was counted as income again (1,250 booked for
    /// 1,000 paid). Neither the treasury nor the stake can be operator or keeper.
    function test_Attack_TreasuryAsOperatorRefused() public {
        vm.startPrank(timelock);
        vm.expectRevert(
            abi.encodeWithSelector(AgentTreasury.AgentTreasuryInvalidOperator.selector, address(treasury))
        );
        treasury.setOperator(address(treasury));
        vm.expectRevert(
            abi.encodeWithSelector(AgentTreasury.AgentTreasuryInvalidOperator.selector, address(stake))
        );
        treasury.setOperator(address(stake));
        vm.expectRevert(
            abi.encodeWithSelector(AgentTreasury.AgentTreasuryInvalidKeeper.selector, address(treasury))
        );
        treasury.setKeeper(address(treasury));
        vm.expectRevert(
            abi.encodeWithSelector(AgentTreasury.AgentTreasuryInvalidKeeper.selector, address(stake))
        );
        treasury.setKeeper(address(stake));
        vm.stopPrank();
        IERC20 p = IERC20(address(usdc));
        address self = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryInvalidOperator.selector, self));
        new AgentTreasury(
            p,
            cfg,
            stake,
            token,
            NO_DEX,
            self,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        vm.expectRevert(
            abi.encodeWithSelector(AgentTreasury.AgentTreasuryInvalidKeeper.selector, address(stake))
        );
        new AgentTreasury(
            p,
            cfg,
            stake,
            token,
            NO_DEX,
            operator,
            address(stake),
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        // and 1,000 paid is 1,000 booked, however often distribute runs
        _pay(address(usdc), address(treasury), 1_000);
        treasury.distribute();
        treasury.distribute();
        assertEq(treasury.totalIncome(), 1_000);
    }

    // ---------------------------------------------------------------- split checkpoint (AgentConfig calls distribute)

    /// A split change first distributes what is pending under the old split: the new split applies only to
    /// income earned under it.
    function test_Attack_SplitChangeCannotReachPendingIncome() public {
        CheckpointingConfig checkpoint = new CheckpointingConfig(guardian);
        AgentStake s = new AgentStake(
            IERC20(address(token)), IERC20(address(usdc)), "Staked Agent", "sAGT", timelock, 7 days
        );
        AgentTreasury t = new AgentTreasury(
            IERC20(address(usdc)),
            AgentConfig(address(checkpoint)),
            s,
            token,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        checkpoint.bindTreasury(address(t));
        s.bind(new MockStakeGovernance(7 days), address(t));
        _stake(s, 1e18);
        _pay(address(usdc), address(t), 1_000_000);
        // a proposal points the whole split at the operator
        checkpoint.setSplit(AgentConfig.Split(0, 10_000, 0, 0));
        assertEq(t.operatorOwed(operator), 200_000);
        assertEq(t.totalToStakers(), 600_000);
        vm.warp(block.timestamp + 7 days); // the stakers' share streams over the reward duration
        assertApproxEqAbs(s.claimable(alice), 600_000, 1);
        _pay(address(usdc), address(t), 1_000);
        t.distribute();
        assertEq(t.operatorOwed(operator), 201_000);
        _assertBooks(t);
    }

    function testFuzz_SplitChangeCannotReachPendingIncome(uint256 income, uint16 a) public {
        income = bound(income, 0, 1e30);
        a = uint16(bound(a, 0, 10_000));
        CheckpointingConfig checkpoint = new CheckpointingConfig(guardian);
        AgentStake s = new AgentStake(
            IERC20(address(token)), IERC20(address(usdc)), "Staked Agent", "sAGT", timelock, 7 days
        );
        AgentTreasury t = new AgentTreasury(
            IERC20(address(usdc)),
            AgentConfig(address(checkpoint)),
            s,
            token,
            NO_DEX,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        checkpoint.bindTreasury(address(t));
        s.bind(new MockStakeGovernance(7 days), address(t));
        _stake(s, 1e18);
        _pay(address(usdc), address(t), income);
        checkpoint.setSplit(AgentConfig.Split(a, 10_000 - a, 0, 0));
        assertEq(t.totalToStakers(), (income * 6_000) / 10_000);
        assertEq(t.operatorOwed(operator), (income * 2_000) / 10_000);
        assertEq(t.pendingIncome(), 0);
    }

    /// A distribute reached from inside another treasury call (a token hook during a withdrawal) is refused.
    function test_Attack_ReentrantDistributeDuringWithdrawal() public {
        ReentrantToken re = new ReentrantToken();
        (, AgentTreasury t) = _deploy(IERC20(address(re)));
        re.mint(address(t), 10_000);
        t.distribute();
        re.mint(address(t), 5_000); // pending when the operator withdraws
        re.setHook(address(t), abi.encodeCall(AgentTreasury.distribute, ()));
        vm.prank(operator);
        assertEq(t.withdrawOperatorShare(operator), 2_000);
        assertTrue(re.reentered());
        assertFalse(re.reentrySucceeded());
        assertEq(t.pendingIncome(), 5_000);
        _assertBooks(t);
    }

    // ---------------------------------------------------------------- guardian pause

    function test_GuardianPausesOutflows() public {
        _stake(stake, 1e18);
        _pay(address(usdc), address(treasury), 1_000_000);
        treasury.distribute();
        vm.expectEmit(false, false, false, true, address(treasury));
        emit Paused(guardian);
        vm.prank(guardian);
        treasury.pause();
        assertTrue(treasury.paused());

        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(operator);
        treasury.withdrawOperatorShare(operator);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(keeper);
        treasury.buyback(1, 0, block.timestamp);
        vm.startPrank(timelock);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        treasury.spendReserve(stranger, 1);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        treasury.spendBuyback(stranger, 1);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        treasury.sweep(IERC20(address(token)), stranger, 0);
        vm.stopPrank();
        // income keeps being split (a split change needs it), stakers keep their claims
        _pay(address(usdc), address(treasury), 1_000);
        assertEq(treasury.distribute(), 1_000);

        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        treasury.unpause();
        vm.expectEmit(false, false, false, true, address(treasury));
        emit Unpaused(timelock);
        vm.prank(timelock);
        treasury.unpause();
        vm.prank(operator);
        assertEq(treasury.withdrawOperatorShare(operator), 200_200);
    }

    function test_PauseOnlyGuardian() public {
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryNotGuardian.selector, stranger));
        vm.prank(stranger);
        treasury.pause();
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryNotGuardian.selector, timelock));
        vm.prank(timelock);
        treasury.pause();
        // governance replaces the guardian on the config: the treasury follows
        vm.prank(timelock);
        cfg.setGuardian(stranger);
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryNotGuardian.selector, guardian));
        vm.prank(guardian);
        treasury.pause();
        vm.prank(stranger);
        treasury.pause();
        assertTrue(treasury.paused());
    }

    function testFuzz_PauseOnlyGuardian(address caller) public {
        vm.assume(caller != guardian);
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryNotGuardian.selector, caller));
        vm.prank(caller);
        treasury.pause();
    }

    /// Review: Config and Treasury could renounceOwnership through a bad proposal.
    function test_Attack_RenounceOwnershipRefused() public {
        vm.expectRevert(AgentTreasury.AgentTreasuryCannotRenounce.selector);
        vm.prank(timelock);
        treasury.renounceOwnership();
        assertEq(treasury.owner(), timelock);
    }

    // ---------------------------------------------------------------- sweep

    /// Review: tokens sent by mistake could never be recovered.
    function test_Attack_TokensSentByMistakeAreRecovered() public {
        MockERC20 other = new MockERC20("Other", "OTH", 18);
        other.mint(address(treasury), 5e18);
        vm.prank(alice);
        assertTrue(token.transfer(address(treasury), 7e18));
        vm.startPrank(timelock);
        vm.expectEmit(true, true, false, true, address(treasury));
        emit Swept(IERC20(address(other)), stranger, 5e18);
        treasury.sweep(IERC20(address(other)), stranger, 5e18);
        treasury.sweep(IERC20(address(token)), alice, 7e18);
        vm.stopPrank();
        assertEq(other.balanceOf(stranger), 5e18);
        assertEq(token.balanceOf(address(treasury)), 0);
    }

    function test_SweepReverts() public {
        _pay(address(usdc), address(treasury), 1_000);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        treasury.sweep(IERC20(address(token)), stranger, 0);
        vm.startPrank(timelock);
        vm.expectRevert(AgentTreasury.AgentTreasurySweepPaymentToken.selector);
        treasury.sweep(IERC20(address(usdc)), stranger, 1);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAddress.selector);
        treasury.sweep(IERC20(address(token)), address(0), 0);
        vm.stopPrank();
        assertEq(treasury.pendingIncome(), 1_000);
    }

    function testFuzz_SweepNeverTouchesPaymentBooks(uint256 income, uint256 mistaken) public {
        income = bound(income, 0, 1e30);
        mistaken = bound(mistaken, 0, 1e30);
        MockERC20 other = new MockERC20("Other", "OTH", 6);
        other.mint(address(treasury), mistaken);
        _pay(address(usdc), address(treasury), income);
        treasury.distribute();
        vm.prank(timelock);
        treasury.sweep(IERC20(address(other)), stranger, mistaken);
        assertEq(other.balanceOf(stranger), mistaken);
        assertEq(treasury.totalIncome(), income);
        _assertBooks(treasury);
    }

    // ---------------------------------------------------------------- price floor parameters

    function test_SetTwapWindowAndSlippageBounded() public {
        vm.startPrank(timelock);
        treasury.setTwapWindow(1 hours);
        assertEq(treasury.twapWindow(), 1 hours);
        treasury.setMaxSlippageBps(100);
        assertEq(treasury.maxSlippageBps(), 100);
        uint32 minW = treasury.MIN_TWAP_WINDOW();
        uint32 maxW = treasury.MAX_TWAP_WINDOW();
        vm.expectRevert(
            abi.encodeWithSelector(
                BuybackPriceFloor.BuybackPriceFloorWindowOutOfBounds.selector, minW - 1, minW, maxW
            )
        );
        treasury.setTwapWindow(minW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                BuybackPriceFloor.BuybackPriceFloorWindowOutOfBounds.selector, maxW + 1, minW, maxW
            )
        );
        treasury.setTwapWindow(maxW + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                BuybackPriceFloor.BuybackPriceFloorSlippageOutOfBounds.selector, 49, 50, 2_000
            )
        );
        treasury.setMaxSlippageBps(49);
        vm.expectRevert(
            abi.encodeWithSelector(
                BuybackPriceFloor.BuybackPriceFloorSlippageOutOfBounds.selector, 2_001, 50, 2_000
            )
        );
        treasury.setMaxSlippageBps(2_001);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, keeper));
        vm.prank(keeper);
        treasury.setMaxSlippageBps(2_000);
    }

    function testFuzz_SetTwapWindow(uint32 window) public {
        bool outOfBounds = window < treasury.MIN_TWAP_WINDOW() || window > treasury.MAX_TWAP_WINDOW();
        if (outOfBounds) vm.expectRevert();
        vm.prank(timelock);
        treasury.setTwapWindow(window);
        if (!outOfBounds) assertEq(treasury.twapWindow(), window);
    }

    function test_ObservePriceWithoutDexReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                BuybackPriceFloor.BuybackPriceFloorNoPool.selector, address(usdc), address(token)
            )
        );
        treasury.observePrice();
        (uint256 floor, uint256 readyAt) = treasury.buybackFloor(1e6);
        assertEq(floor, 0);
        assertEq(readyAt, type(uint256).max);
    }
}
