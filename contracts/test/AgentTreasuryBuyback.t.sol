// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../src/AgentConfig.sol";
import {AgentStake} from "../src/AgentStake.sol";
import {AgentToken} from "../src/AgentToken.sol";
import {AgentTreasury} from "../src/AgentTreasury.sol";
import {BuybackPriceFloor} from "../src/treasury/BuybackPriceFloor.sol";
import {TreasuryFixture} from "./utils/TreasuryFixture.sol";
import {MockUSDC} from "../src/MockUSDC.sol";
import {MockStakeGovernance} from "./mocks/MockStakeGovernance.sol";
import {ConfigFixture} from "./utils/ConfigFixture.sol";
import {UniswapV2} from "./utils/UniswapV2.sol";

/// @notice Buyback-and-burn against the real Uniswap V2 (factory, pair and Router02 bytecode from the npm
/// packages), with a 100,000 token / 5,000 USDC pool.
contract AgentTreasuryBuybackTest is Test {
    event BuybackExecuted(uint256 amountIn, uint256 tokensBurned);

    uint256 internal constant POOL_TOKENS = 100_000e18;
    uint256 internal constant POOL_USDC = 5_000e6;

    address internal timelock = makeAddr("timelock");
    address internal operator = makeAddr("operator");
    address internal keeper = makeAddr("keeper");
    address internal alice = makeAddr("alice");
    address internal whale = makeAddr("whale");
    address internal customer = makeAddr("customer");

    MockUSDC internal usdc;
    AgentToken internal token;
    AgentConfig internal cfg;
    AgentStake internal stake;
    AgentTreasury internal treasury;
    UniswapV2.Dex internal dex;

    function setUp() public {
        usdc = new MockUSDC();
        address[] memory holders = new address[](2);
        holders[0] = alice;
        holders[1] = address(this);
        uint256[] memory amounts = new uint256[](2);
        amounts[0] = 1_000_000e18;
        amounts[1] = POOL_TOKENS;
        token = new AgentToken("Agent", "AGT", holders, amounts);
        cfg = new AgentConfig(
            timelock, address(0), ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        stake = new AgentStake(
            IERC20(address(token)), IERC20(address(usdc)), "Staked Agent", "sAGT", timelock, 7 days
        );
        dex = UniswapV2.deploy();
        treasury = new AgentTreasury(
            IERC20(address(usdc)),
            cfg,
            stake,
            token,
            dex.router,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        stake.bind(new MockStakeGovernance(7 days), address(treasury));
        usdc.mint(address(this), POOL_USDC);
        token.approve(address(dex.router), POOL_TOKENS);
        usdc.approve(address(dex.router), POOL_USDC);
        dex.router
            .addLiquidity(
                address(token), address(usdc), POOL_TOKENS, POOL_USDC, 0, 0, address(this), block.timestamp
            );
        // the price floor needs an observation a window old
        treasury.observePrice();
        vm.warp(block.timestamp + TreasuryFixture.TWAP_WINDOW);
    }

    /// Pays `income` into the treasury and distributes it; with the fixture's split 10 % is buyback.
    function _fund(uint256 income) internal {
        usdc.mint(customer, income);
        vm.prank(customer);
        assertTrue(usdc.transfer(address(treasury), income));
        treasury.distribute();
    }

    function _quote(uint256 amountIn) internal view returns (uint256) {
        address[] memory path = new address[](2);
        path[0] = address(usdc);
        path[1] = address(token);
        return dex.router.getAmountsOut(amountIn, path)[1];
    }

    function _assertBooks() internal view {
        assertEq(
            usdc.balanceOf(address(treasury)),
            treasury.reserveBalance() + treasury.buybackBalance() + treasury.totalOperatorOwed()
                + treasury.pendingIncome(),
            "bal"
        );
        assertEq(
            treasury.buybackBalance(), treasury.totalToBuyback() - treasury.totalBoughtBack(), "buyback fund"
        );
    }

    function testPoolIsRealUniswapV2() public view {
        assertTrue(dex.factory.getPair(address(token), address(usdc)) != address(0));
        // 0.3 % fee: 1 USDC buys a little under 20 tokens at 20 tokens per USDC
        uint256 out = _quote(1e6);
        assertLt(out, 20e18);
        assertGt(out, 19.9e18);
    }

    function testBuybackBurnsExactlyWhatArrived() public {
        _fund(1_000e6);
        uint256 amountIn = treasury.buybackBalance();
        assertEq(amountIn, 100e6);
        uint256 expected = _quote(amountIn);
        uint256 supply = token.totalSupply();

        vm.expectEmit(false, false, false, true, address(treasury));
        emit BuybackExecuted(amountIn, expected);
        vm.prank(keeper);
        uint256 burned = treasury.buyback(amountIn, expected, block.timestamp + 60);

        assertEq(burned, expected);
        assertEq(token.totalSupply(), supply - burned);
        assertEq(token.balanceOf(address(treasury)), 0);
        assertEq(treasury.buybackBalance(), 0);
        assertEq(treasury.totalBoughtBack(), amountIn);
        assertEq(treasury.totalBurned(), burned);
        assertEq(usdc.allowance(address(treasury), address(dex.router)), 0);
        _assertBooks();
    }

    function testBuybackPartOfTheFund() public {
        _fund(1_000e6);
        vm.prank(keeper);
        uint256 burned = treasury.buyback(30e6, 0, block.timestamp);
        assertGt(burned, 0);
        assertEq(treasury.buybackBalance(), 70e6);
        _assertBooks();
    }

    /// Agent tokens someone sent to the treasury are not bought, so not burned.
    function testBuybackIgnoresDonatedTokens() public {
        _fund(1_000e6);
        vm.prank(alice);
        assertTrue(token.transfer(address(treasury), 5e18));
        uint256 expected = _quote(100e6);
        vm.prank(keeper);
        assertEq(treasury.buyback(100e6, 0, block.timestamp), expected);
        assertEq(token.balanceOf(address(treasury)), 5e18);
    }

    /// A sandwich moves the price between quote and execution: beyond the bound the swap reverts and
    /// the fund, the supply and the treasury's balance stay as they were.
    function testBuybackRevertsWhenPriceMovedBeyondBound() public {
        _fund(1_000e6);
        uint256 minOut = (_quote(100e6) * 99) / 100; // 1 % slippage bound
        // front-runner buys the token first
        usdc.mint(whale, 500e6);
        vm.startPrank(whale);
        usdc.approve(address(dex.router), 500e6);
        address[] memory path = new address[](2);
        path[0] = address(usdc);
        path[1] = address(token);
        dex.router.swapExactTokensForTokens(500e6, 0, path, whale, block.timestamp);
        vm.stopPrank();

        uint256 supply = token.totalSupply();
        uint256 balance = usdc.balanceOf(address(treasury));
        vm.expectRevert(bytes("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"));
        vm.prank(keeper);
        treasury.buyback(100e6, minOut, block.timestamp);
        assertEq(treasury.buybackBalance(), 100e6);
        assertEq(treasury.totalBoughtBack(), 0);
        assertEq(token.totalSupply(), supply);
        assertEq(usdc.balanceOf(address(treasury)), balance);
        _assertBooks();
    }

    function testBuybackRevertsAfterDeadline() public {
        _fund(1_000e6);
        uint256 deadline = block.timestamp + 30;
        vm.warp(deadline + 1);
        vm.expectRevert(bytes("UniswapV2Router: EXPIRED"));
        vm.prank(keeper);
        treasury.buyback(100e6, 0, deadline);
        assertEq(treasury.buybackBalance(), 100e6);
    }

    function testBuybackOnlyKeeper() public {
        _fund(1_000e6);
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryNotKeeper.selector, timelock));
        vm.prank(timelock);
        treasury.buyback(100e6, 0, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryNotKeeper.selector, operator));
        vm.prank(operator);
        treasury.buyback(100e6, 0, block.timestamp);
    }

    function testBuybackRevertsAboveFundOrZero() public {
        _fund(1_000e6);
        vm.startPrank(keeper);
        vm.expectRevert(
            abi.encodeWithSelector(AgentTreasury.AgentTreasuryInsufficientBuyback.selector, 100e6 + 1, 100e6)
        );
        treasury.buyback(100e6 + 1, 0, block.timestamp);
        vm.expectRevert(AgentTreasury.AgentTreasuryZeroAmount.selector);
        treasury.buyback(0, 0, block.timestamp);
        vm.stopPrank();
    }

    /// Pending income and the reserve are never swapped: the fund is the only source.
    function testBuybackCannotSpendPendingIncomeOrReserve() public {
        usdc.mint(address(treasury), 1_000e6); // pending, not distributed
        vm.expectRevert(abi.encodeWithSelector(AgentTreasury.AgentTreasuryInsufficientBuyback.selector, 1, 0));
        vm.prank(keeper);
        treasury.buyback(1, 0, block.timestamp);
        assertEq(treasury.pendingIncome(), 1_000e6);
    }

    function testNewKeeperCanBuyBack() public {
        _fund(1_000e6);
        vm.prank(timelock);
        treasury.setKeeper(alice);
        vm.prank(alice);
        assertGt(treasury.buyback(100e6, 0, block.timestamp), 0);
    }

    function testFuzzBuyback(uint256 income, uint256 amountIn, uint16 slippageBps) public {
        income = bound(income, 10, 1_000_000e6);
        _fund(income);
        uint256 fund = treasury.buybackBalance();
        amountIn = bound(amountIn, 1, fund);
        slippageBps = uint16(bound(slippageBps, 0, 10_000));
        uint256 expected = _quote(amountIn);
        uint256 minOut = (expected * (10_000 - slippageBps)) / 10_000;
        (uint256 floor,) = treasury.buybackFloor(amountIn);
        uint256 supply = token.totalSupply();

        vm.prank(keeper);
        if (expected == 0 || expected < floor) {
            // dust buys nothing, and a buy too big for the pool's depth falls below the floor: the fund stays
            vm.expectRevert();
            treasury.buyback(amountIn, minOut, block.timestamp);
            assertEq(treasury.buybackBalance(), fund);
            return;
        }
        uint256 burned = treasury.buyback(amountIn, minOut, block.timestamp);
        assertEq(burned, expected);
        assertGe(burned, minOut);
        assertGe(burned, floor);
        assertEq(token.totalSupply(), supply - burned);
        assertEq(treasury.buybackBalance(), fund - amountIn);
        _assertBooks();
    }

    // ---------------------------------------------------------------- price floor

    function _swap(address account, address tokenIn, address tokenOut, uint256 amountIn)
        internal
        returns (uint256 out)
    {
        address[] memory path = new address[](2);
        (path[0], path[1]) = (tokenIn, tokenOut);
        vm.startPrank(account);
        IERC20(tokenIn).approve(address(dex.router), amountIn);
        out = dex.router.swapExactTokensForTokens(amountIn, 0, path, account, block.timestamp)[1];
        vm.stopPrank();
    }

    /// The keeper's round trip: buy the token with `frontRun` USDC, let `victim` run, sell back what it
    /// bought. Returns the keeper's USDC profit (negative as 0) and whether the victim's call succeeded.
    function _sandwich(uint256 frontRun, function() internal returns (bool) victim)
        internal
        returns (uint256 profit, bool victimRan)
    {
        usdc.mint(keeper, frontRun);
        uint256 bought = _swap(keeper, address(usdc), address(token), frontRun);
        victimRan = victim();
        uint256 back = _swap(keeper, address(token), address(usdc), bought);
        profit = back > frontRun ? back - frontRun : 0;
    }

    uint256 internal _victimAmountIn;

    /// What the buyback was before the floor: a swap at the keeper's minOut = 0.
    function _naiveBuyback() internal returns (bool) {
        vm.prank(address(treasury));
        assertTrue(usdc.transfer(customer, _victimAmountIn)); // the fund, held as a plain account would
        _swap(customer, address(usdc), address(token), _victimAmountIn);
        return true;
    }

    function _treasuryBuyback() internal returns (bool) {
        vm.prank(keeper);
        try treasury.buyback(_victimAmountIn, 0, block.timestamp) {
            return true;
        } catch {
            return false;
        }
    }

    /// Review: a keeper sandwiching its own buyback with minOut = 0 extracted 97.8 % of a 2,000 USDC fund
    /// against the real Uniswap V2. The same sandwich now makes the buyback revert; the fund stays.
    function test_Attack_KeeperSandwichWithZeroMinOutReverts() public {
        _fund(20_000e6);
        _victimAmountIn = treasury.buybackBalance();
        assertEq(_victimAmountIn, 2_000e6);
        uint256 frontRun = 200_000e6;

        // the attack as it worked before: a swap with no floor
        uint256 snap = vm.snapshotState();
        (uint256 profit,) = _sandwich(frontRun, _naiveBuyback);
        assertGt(profit * 100, _victimAmountIn * 90, "the unprotected sandwich extracts > 90 %");
        emit log_named_uint("extracted from 2,000 USDC without the floor (USDC, 6 decimals)", profit);
        vm.revertToState(snap);

        // the same sandwich against the treasury: the floor refuses the swap
        uint256 supply = token.totalSupply();
        bool ran;
        (profit, ran) = _sandwich(frontRun, _treasuryBuyback);
        assertFalse(ran);
        assertEq(profit, 0);
        assertEq(treasury.buybackBalance(), 2_000e6);
        assertEq(token.totalSupply(), supply);
        _assertBooks();
    }

    /// The same with a buyback small enough for the pool: honest it goes through, sandwiched it reverts.
    function test_Attack_KeeperSandwichOfAnHonestSizedBuybackReverts() public {
        _fund(20_000e6);
        _victimAmountIn = 100e6;
        uint256 snap = vm.snapshotState();
        assertTrue(_treasuryBuyback(), "unsandwiched it passes the floor");
        vm.revertToState(snap);
        (uint256 profit, bool ran) = _sandwich(500e6, _treasuryBuyback);
        assertFalse(ran);
        assertEq(profit, 0);
        assertEq(treasury.buybackBalance(), 2_000e6);
    }

    /// Whatever the front-run, the keeper takes at most the slippage bound of what it spends, and the
    /// treasury gets at least the floor.
    function testFuzz_Attack_SandwichNeverExtractsMoreThanBound(uint256 frontRun, uint256 amountIn) public {
        _fund(20_000e6);
        frontRun = bound(frontRun, 1e6, 1_000_000e6);
        _victimAmountIn = bound(amountIn, 1e6, 2_000e6);
        (uint256 floor, uint256 readyAt) = treasury.buybackFloor(_victimAmountIn);
        assertLe(readyAt, block.timestamp);
        uint256 burnedBefore = treasury.totalBurned();
        (uint256 profit, bool ran) = _sandwich(frontRun, _treasuryBuyback);
        if (ran) assertGe(treasury.totalBurned() - burnedBefore, floor);
        assertLe(profit, (_victimAmountIn * treasury.maxSlippageBps()) / 10_000);
        _assertBooks();
    }

    /// The keeper pumps the pool a block before the buyback and holds it: the average over the window
    /// barely moved, so the buyback at the pumped price still falls below the floor.
    function test_Attack_KeeperManipulatesPoolBeforeBuyback() public {
        _fund(20_000e6);
        _victimAmountIn = 100e6;
        usdc.mint(keeper, 1_000e6);
        _swap(keeper, address(usdc), address(token), 1_000e6);
        vm.warp(block.timestamp + 12);
        vm.roll(block.number + 1);
        // observing the pumped pool does not help: only the seconds a price held count
        treasury.observePrice();
        assertFalse(_treasuryBuyback());
        assertEq(treasury.buybackBalance(), 2_000e6);
    }

    function testFuzz_Attack_KeeperManipulatesPoolBeforeBuyback(uint256 pump, uint256 heldFor) public {
        _fund(20_000e6);
        _victimAmountIn = 100e6;
        pump = bound(pump, 500e6, 100_000e6);
        // held for up to a tenth of the window: arbitrage has all that time to take it back
        heldFor = bound(heldFor, 1, TreasuryFixture.TWAP_WINDOW / 10);
        usdc.mint(keeper, pump);
        _swap(keeper, address(usdc), address(token), pump);
        vm.warp(block.timestamp + heldFor);
        assertFalse(_treasuryBuyback());
    }

    function test_BuybackNeedsAnObservationAWindowOld() public {
        AgentTreasury fresh = new AgentTreasury(
            IERC20(address(usdc)),
            cfg,
            stake,
            token,
            dex.router,
            operator,
            keeper,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        usdc.mint(address(fresh), 1_000e6);
        fresh.distribute();
        (uint256 floor, uint256 readyAt) = fresh.buybackFloor(10e6);
        assertEq(floor, 0);
        assertEq(readyAt, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(BuybackPriceFloor.BuybackPriceFloorNotReady.selector, type(uint256).max)
        );
        vm.prank(keeper);
        fresh.buyback(10e6, 0, block.timestamp);

        fresh.observePrice();
        uint256 ready = block.timestamp + TreasuryFixture.TWAP_WINDOW;
        (, readyAt) = fresh.buybackFloor(10e6);
        assertEq(readyAt, ready);
        vm.warp(ready - 1);
        vm.expectRevert(abi.encodeWithSelector(BuybackPriceFloor.BuybackPriceFloorNotReady.selector, ready));
        vm.prank(keeper);
        fresh.buyback(10e6, 0, block.timestamp);
        vm.warp(ready);
        (floor, readyAt) = fresh.buybackFloor(10e6);
        assertEq(readyAt, ready);
        // 20 tokens per USDC, less 3 %
        assertEq(floor, (10e6 * 20e12 * 9_700) / 10_000);
        vm.prank(keeper);
        assertGe(fresh.buyback(10e6, 0, block.timestamp), floor);
    }

    /// Anyone may observe, as often as they like: an observation a window old is always there.
    function test_Attack_ObservingOftenCannotDelayTheBuyback() public {
        _fund(1_000e6);
        for (uint256 i; i < 100; ++i) {
            vm.warp(block.timestamp + 1 minutes);
            vm.prank(customer);
            treasury.observePrice();
            (, uint256 readyAt) = treasury.buybackFloor(10e6);
            assertLe(readyAt, block.timestamp);
        }
        vm.prank(keeper);
        assertGt(treasury.buyback(10e6, 0, block.timestamp), 0);
    }

    /// An observation more than two windows old is stale: the keeper observes again and waits a window.
    function test_StaleObservationIsNotUsed() public {
        _fund(1_000e6);
        vm.warp(block.timestamp + 2 * uint256(TreasuryFixture.TWAP_WINDOW));
        (, uint256 readyAt) = treasury.buybackFloor(10e6);
        assertEq(readyAt, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(BuybackPriceFloor.BuybackPriceFloorNotReady.selector, type(uint256).max)
        );
        vm.prank(keeper);
        treasury.buyback(10e6, 0, block.timestamp);
        treasury.observePrice();
        // the fresh observation's readiness is reported, not hidden behind the stale older one
        (, readyAt) = treasury.buybackFloor(10e6);
        assertEq(readyAt, block.timestamp + TreasuryFixture.TWAP_WINDOW);
        vm.warp(block.timestamp + TreasuryFixture.TWAP_WINDOW);
        vm.prank(keeper);
        assertGt(treasury.buyback(10e6, 0, block.timestamp), 0);
    }

    function test_BuybackObservesAfterwards() public {
        _fund(1_000e6);
        vm.prank(keeper);
        treasury.buyback(10e6, 0, block.timestamp);
        (, BuybackPriceFloor.Observation memory newer) = treasury.priceObservations();
        assertEq(newer.timestamp, block.timestamp);
        assertEq(treasury.buybackPair(), dex.factory.getPair(address(token), address(usdc)));
    }

    /// The keeper may ask for more than the floor, never for less.
    function test_KeeperMinOutAboveFloorIsHonoured() public {
        _fund(1_000e6);
        uint256 expected = _quote(10e6);
        vm.expectRevert(bytes("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"));
        vm.prank(keeper);
        treasury.buyback(10e6, expected + 1, block.timestamp);
    }

    /// A buyback too large for the pool's depth falls below the floor even unsandwiched.
    function testFuzz_BuybackAboveSlippageReverts(uint256 amountIn) public {
        _fund(20_000e6);
        amountIn = bound(amountIn, 200e6, 2_000e6);
        vm.expectRevert(bytes("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"));
        vm.prank(keeper);
        treasury.buyback(amountIn, 0, block.timestamp);
    }
}
