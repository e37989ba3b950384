// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {console} from "forge-std/console.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {AgentTreasury} from "../../src/AgentTreasury.sol";
import {TreasuryFixture} from "../utils/TreasuryFixture.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";
import {UniswapV2} from "../utils/UniswapV2.sol";
import {MockStakeGovernance} from "../mocks/MockStakeGovernance.sol";

interface VmCool {
    function cool(address target) external;
}

contract TreasuryGasTest is Test {
    address internal timelock = makeAddr("timelock");
    address internal operator = makeAddr("operator");
    address internal alice = makeAddr("alice");
    MockUSDC internal usdc;
    AgentToken internal token;
    AgentStake internal stake;
    AgentConfig internal cfg;
    AgentTreasury internal treasury;
    UniswapV2.Dex internal dex;

    function setUp() public {
        usdc = new MockUSDC();
        address[] memory holders = new address[](2);
        (holders[0], holders[1]) = (alice, address(this));
        uint256[] memory amounts = new uint256[](2);
        (amounts[0], amounts[1]) = (1_000_000e18, 100_000e18);
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
            operator,
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        stake.bind(new MockStakeGovernance(7 days), address(treasury));
        usdc.mint(address(this), 5_000e6);
        token.approve(address(dex.router), 100_000e18);
        usdc.approve(address(dex.router), 5_000e6);
        dex.router
            .addLiquidity(
                address(token), address(usdc), 100_000e18, 5_000e6, 0, 0, address(this), block.timestamp
            );
        vm.startPrank(alice);
        token.approve(address(stake), 1e18);
        stake.stake(1e18);
        vm.stopPrank();
        usdc.mint(address(treasury), 1_000e6);
        treasury.distribute();
        usdc.mint(address(treasury), 1_000e6);
        treasury.observePrice();
        vm.warp(block.timestamp + TreasuryFixture.TWAP_WINDOW);
    }

    function _cool() internal {
        VmCool c = VmCool(address(vm));
        c.cool(address(usdc));
        c.cool(address(token));
        c.cool(address(stake));
        c.cool(address(cfg));
        c.cool(address(treasury));
        c.cool(address(dex.router));
        c.cool(dex.factory.getPair(address(token), address(usdc)));
    }

    function test_gas_distribute() public {
        _cool();
        uint256 g = gasleft();
        treasury.distribute();
        console.log("distribute (second, warm books):", g - gasleft());
    }

    function test_gas_withdrawOperatorShare() public {
        _cool();
        vm.prank(operator);
        uint256 g = gasleft();
        treasury.withdrawOperatorShare(operator);
        console.log("withdrawOperatorShare:", g - gasleft());
    }

    function test_gas_buyback() public {
        _cool();
        vm.prank(operator);
        uint256 g = gasleft();
        treasury.buyback(100e6, 0, block.timestamp);
        console.log("buyback 100 USDC (TWAP floor, re-observes):", g - gasleft());
    }

    /// Both observation slots already written: what every buyback after the first pays.
    function test_gas_buyback_steady() public {
        vm.prank(operator);
        treasury.buyback(10e6, 0, block.timestamp);
        vm.warp(block.timestamp + TreasuryFixture.TWAP_WINDOW);
        _cool();
        vm.prank(operator);
        uint256 g = gasleft();
        treasury.buyback(10e6, 0, block.timestamp);
        console.log("buyback 10 USDC, steady state:", g - gasleft());
    }
}
