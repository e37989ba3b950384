// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {AgentTreasury} from "../../src/AgentTreasury.sol";
import {TreasuryFixture} from "../utils/TreasuryFixture.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";
import {FeeOnTransferToken} from "../mocks/FeeOnTransferToken.sol";
import {MockStakeGovernance} from "../mocks/MockStakeGovernance.sol";
import {UniswapV2} from "../utils/UniswapV2.sol";
import {TreasuryHandler, IMintable} from "./handlers/TreasuryHandler.sol";

abstract contract TreasuryInvariantBase is Test {
    address internal timelock = makeAddr("timelock");
    address internal operator = makeAddr("operator");
    uint256 internal constant POOL_TOKENS = 1_000_000e18;
    AgentTreasury internal treasury;
    AgentToken internal token;
    uint256 internal initialSupply;
    AgentStake internal stake;
    IERC20 internal payment;
    TreasuryHandler internal handler;

    function _paymentToken() internal virtual returns (IERC20 token, address minter);

    function setUp() public {
        address minter;
        (payment, minter) = _paymentToken();
        address[] memory actors = new address[](3);
        address[] memory holders = new address[](4);
        uint256[] memory amounts = new uint256[](4);
        for (uint256 i; i < 3; ++i) {
            actors[i] = holders[i] = makeAddr(string(abi.encodePacked("staker", i)));
            amounts[i] = 1_000_000e18;
        }
        (holders[3], amounts[3]) = (address(this), POOL_TOKENS);
        token = new AgentToken("Agent", "AGT", holders, amounts);
        initialSupply = token.totalSupply();
        AgentConfig cfg = new AgentConfig(
            timelock, address(0), ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        stake = new AgentStake(IERC20(address(token)), payment, "Staked Agent", "sAGT", timelock, 7 days);
        UniswapV2.Dex memory dex = UniswapV2.deploy();
        treasury = new AgentTreasury(
            payment,
            cfg,
            stake,
            token,
            dex.router,
            operator,
            operator,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        stake.bind(new MockStakeGovernance(1 days), address(treasury));
        _seedPool(dex, minter);
        // the price floor needs an observation a window old
        treasury.observePrice();
        vm.warp(block.timestamp + TreasuryFixture.TWAP_WINDOW);
        handler = new TreasuryHandler(treasury, token, minter, actors);
        targetContract(address(handler));
    }

    function _seedPool(UniswapV2.Dex memory dex, address minter) private {
        vm.prank(minter);
        IMintable(address(payment)).mint(address(this), 50_000e6);
        token.approve(address(dex.router), POOL_TOKENS);
        payment.approve(address(dex.router), 50_000e6);
        dex.router
            .addLiquidity(
                address(token), address(payment), POOL_TOKENS, 50_000e6, 0, 0, address(this), block.timestamp
            );
    }

    /// Every unit that arrived is counted exactly once: distributed, or still pending.
    function invariantNoIncomeCountedTwice() public view {
        assertEq(treasury.totalIncome() + treasury.pendingIncome(), handler.ghostPaidIn());
        assertEq(treasury.totalIncome(), handler.ghostDistributed());
    }

    function invariantPartsSumToIncome() public view {
        assertEq(
            treasury.totalToStakers() + treasury.totalToOperator() + treasury.totalToBuyback()
                + treasury.totalToReserve(),
            treasury.totalIncome()
        );
    }

    function invariantBalanceEqualsBooks() public view {
        assertEq(
            payment.balanceOf(address(treasury)),
            treasury.reserveBalance() + treasury.buybackBalance() + treasury.totalOperatorOwed()
                + treasury.pendingIncome()
        );
    }

    /// Nobody withdraws here: everything booked to the operator is still owed to it.
    function invariantOperatorShareOwed() public view {
        assertEq(treasury.totalOperatorOwed(), treasury.totalToOperator());
        assertEq(treasury.operatorOwed(operator), treasury.totalToOperator());
    }

    function invariantReserveAndBuybackTracked() public view {
        assertEq(treasury.reserveBalance(), treasury.totalToReserve() - handler.ghostReserveSpent());
        assertEq(
            treasury.buybackBalance(),
            treasury.totalToBuyback() - handler.ghostBuybackSpent() - handler.ghostBoughtBack()
        );
        assertEq(treasury.totalBoughtBack(), handler.ghostBoughtBack());
    }

    /// The supply only ever drops, and by exactly what the buybacks burned.
    function invariantSupplyDropsByBurned() public view {
        assertEq(treasury.totalBurned(), handler.ghostBurned());
        assertEq(token.totalSupply(), initialSupply - handler.ghostBurned());
        assertEq(token.balanceOf(address(treasury)), 0);
    }

    function invariantStakeSolvent() public view {
        assertGe(payment.balanceOf(address(stake)), stake.totalNotified() - stake.totalClaimed());
    }
}

contract TreasuryInvariantTest is TreasuryInvariantBase {
    function _paymentToken() internal override returns (IERC20, address) {
        MockUSDC usdc = new MockUSDC();
        return (IERC20(address(usdc)), address(this));
    }

    /// With a plain token the stakers' share arrives whole and is notified at once.
    function invariantStakersShareNotified() public view {
        assertEq(stake.totalNotified(), treasury.totalToStakers());
    }
}

/// The same books hold with a 2 % fee-on-transfer payment token.
contract TreasuryFeeOnTransferInvariantTest is TreasuryInvariantBase {
    function _paymentToken() internal override returns (IERC20, address) {
        FeeOnTransferToken fot = new FeeOnTransferToken(200);
        return (IERC20(address(fot)), address(this));
    }
}
