// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {AgentTreasury} from "../../src/AgentTreasury.sol";
import {IUniswapV2Router} from "../../src/interfaces/IUniswapV2Router.sol";
import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";
import {TreasuryFixture} from "../utils/TreasuryFixture.sol";
import {MockStakeGovernance} from "../mocks/MockStakeGovernance.sol";

/// The agent's treasury as the channels' receiver: what `settle` pays it is income, counted once by
/// `distribute`, however many settles and claims it took.
contract BatchSettlementTreasuryTest is BatchSettlementFixture {
    AgentTreasury internal treasury;
    address internal payer;
    uint256 internal payerKey;
    address internal authorizer;
    uint256 internal authorizerKey;
    IBatchSettlement.ChannelConfig internal config;

    function setUp() public {
        vm.warp(1_700_000_000);
        _placeEscrow();
        address timelock = makeAddr("timelock");
        address[] memory holders = new address[](1);
        holders[0] = address(this);
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 1_000e18;
        AgentToken token = new AgentToken("Agent", "AGT", holders, amounts);
        AgentConfig cfg = new AgentConfig(
            timelock, address(0), ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        AgentStake stake = new AgentStake(
            IERC20(address(token)), IERC20(address(usdc)), "Staked Agent", "sAGT", timelock, 7 days
        );
        treasury = new AgentTreasury(
            IERC20(address(usdc)),
            cfg,
            stake,
            token,
            IUniswapV2Router(address(0)),
            makeAddr("operator"),
            makeAddr("keeper"),
            timelock,
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        stake.bind(new MockStakeGovernance(7 days), address(treasury));
        (payer, payerKey) = makeAddrAndKey("payer");
        (authorizer, authorizerKey) = makeAddrAndKey("authorizer");
        config = _config(payer, payer, address(treasury), authorizer);
        _depositVia3009(config, payerKey, 100e6, 1, authorizer);
    }

    function test_SettledMoneyIsIncomeOnce() public {
        _claimBy(authorizer, _row(config, payerKey, 3e6, 3e6));
        settlement.settle(address(treasury), address(usdc));
        _claimBy(authorizer, _row(config, payerKey, 5e6, 5e6));
        settlement.settle(address(treasury), address(usdc));
        settlement.settle(address(treasury), address(usdc));
        assertEq(treasury.pendingIncome(), 5e6);
        assertEq(treasury.distribute(), 5e6);
        assertEq(treasury.pendingIncome(), 0);
        assertEq(treasury.totalIncome(), 5e6);
    }

    function testFuzz_SettledMoneyIsIncomeOnce(uint128[3] memory totals) public {
        uint128 highest;
        for (uint256 i; i < totals.length; ++i) {
            uint128 total = uint128(bound(totals[i], 1, 100e6));
            _claimBy(authorizer, _row(config, payerKey, total, total));
            settlement.settle(address(treasury), address(usdc));
            if (total > highest) highest = total;
        }
        treasury.distribute();
        assertEq(treasury.totalIncome(), highest);
        assertEq(treasury.pendingIncome(), 0);
    }
}
