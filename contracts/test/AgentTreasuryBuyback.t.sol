// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../src/AgentConfig.sol";
import {AgentStake} from "../src/AgentStake.sol";
import {AgentToken} from "../src/AgentToken.sol";
import {AgentTreasury} from "../src/AgentTreasury.sol";
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
            IERC20(address(usdc)), cfg, stake, token, dex.router, operator, keeper, timelock
        );
        stake.bind(new MockStakeGovernance(7 days), address(treasury));
        usdc.mint(address(this), POOL_USDC);
        token.approve(address(dex.router), POOL_TOKENS);
        usdc.approve(address(dex.router), POOL_USDC);
        dex.router
            .addLiquidity(
                address(token), address(usdc), POOL_TOKENS, POOL_USDC, 0, 0, address(this), block.timestamp
            );
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
            treasury.reserveBalance() + treasury.buybackBalance() + treasury.pendingIncome(),
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
        uint256 supply = token.totalSupply();

        vm.prank(keeper);
        if (expected == 0) {
            // dust buys nothing: Uniswap refuses a zero output, the fund stays
            vm.expectRevert();
            treasury.buyback(amountIn, minOut, block.timestamp);
            assertEq(treasury.buybackBalance(), fund);
            return;
        }
        uint256 burned = treasury.buyback(amountIn, minOut, block.timestamp);
        assertEq(burned, expected);
        assertGe(burned, minOut);
        assertEq(token.totalSupply(), supply - burned);
        assertEq(treasury.buybackBalance(), fund - amountIn);
        _assertBooks();
    }
}
