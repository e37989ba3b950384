// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {AgentTreasury} from "../../src/AgentTreasury.sol";
import {BlocklistToken} from "../mocks/BlocklistToken.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";
import {TreasuryFixture} from "../utils/TreasuryFixture.sol";
import {UniswapV2} from "../utils/UniswapV2.sol";
import {MockStakeGovernance} from "../mocks/MockStakeGovernance.sol";
import {TreasuryHandler} from "./handlers/TreasuryHandler.sol";
import {SandwichKeeperHandler} from "./handlers/SandwichKeeperHandler.sol";
import {BlocklistedOperatorHandler} from "./handlers/BlocklistedOperatorHandler.sol";

/// @notice The treasury against its adversaries, on the real Uniswap V2 and a payment token with a USDC
/// blocklist: a keeper that sandwiches its own buybacks, an operator the token blocks at random, beside
/// honest customers, stakers, governance and a keeper bot.
contract TreasuryAdversarialInvariantTest is Test {
    uint256 internal constant POOL_TOKENS = 1_000_000e18;
    uint256 internal constant POOL_USDC = 50_000e6;
    uint256 internal constant MARKET_TOKENS = 10_000_000e18;
    address internal timelock = makeAddr("timelock");
    address internal operator = makeAddr("operator");
    address internal keeper = makeAddr("keeper");

    BlocklistToken internal busd;
    AgentToken internal token;
    AgentStake internal stake;
    AgentTreasury internal treasury;
    uint256 internal initialSupply;
    uint256 internal seededIncome;
    uint256 internal seededToStakers;
    TreasuryHandler internal honest;
    SandwichKeeperHandler internal sandwicher;
    BlocklistedOperatorHandler internal blocked;

    function setUp() public {
        busd = new BlocklistToken();
        address[] memory actors = new address[](3);
        address[] memory holders = new address[](4);
        uint256[] memory amounts = new uint256[](4);
        for (uint256 i; i < 3; ++i) {
            actors[i] = holders[i] = makeAddr(string(abi.encodePacked("staker", i)));
            amounts[i] = 1_000_000e18;
        }
        // the pool's tokens, and a market's that arbitrages the pool back to its price (TreasuryHandler)
        (holders[3], amounts[3]) = (address(this), POOL_TOKENS + MARKET_TOKENS);
        token = new AgentToken("Agent", "AGT", holders, amounts);
        initialSupply = token.totalSupply();
        AgentConfig cfg = new AgentConfig(
            timelock, address(0), ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        stake = new AgentStake(
            IERC20(address(token)), IERC20(address(busd)), "Staked Agent", "sAGT", timelock, 7 days
        );
        UniswapV2.Dex memory dex = UniswapV2.deploy();
        treasury = new AgentTreasury(
            IERC20(address(busd)),
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
        busd.mint(address(this), POOL_USDC);
        token.approve(address(dex.router), POOL_TOKENS);
        busd.approve(address(dex.router), POOL_USDC);
        dex.router
            .addLiquidity(
                address(token), address(busd), POOL_TOKENS, POOL_USDC, 0, 0, address(this), block.timestamp
            );
        // stakers in, a first month's income distributed, the price observed a window ago
        vm.startPrank(actors[0]);
        token.approve(address(stake), 1_000e18);
        stake.stake(1_000e18);
        vm.stopPrank();
        seededIncome = 10_000e6;
        busd.mint(address(treasury), seededIncome);
        treasury.distribute();
        seededToStakers = treasury.totalToStakers();
        treasury.observePrice();
        vm.warp(block.timestamp + TreasuryFixture.TWAP_WINDOW);

        honest = new TreasuryHandler(treasury, token, address(this), actors);
        sandwicher = new SandwichKeeperHandler(treasury, address(this));
        blocked = new BlocklistedOperatorHandler(treasury, busd);
        bytes4[] memory honestCalls = new bytes4[](6);
        honestCalls[0] = TreasuryHandler.pay.selector;
        honestCalls[1] = TreasuryHandler.distribute.selector;
        honestCalls[2] = TreasuryHandler.stakeTokens.selector;
        honestCalls[3] = TreasuryHandler.claim.selector;
        honestCalls[4] = TreasuryHandler.passTime.selector;
        honestCalls[5] = TreasuryHandler.buyback.selector;
        targetSelector(FuzzSelector(address(honest), honestCalls));
        targetContract(address(honest));
        targetContract(address(sandwicher));
        targetContract(address(blocked));
    }

    /// Every unit that arrived is counted exactly once: distributed (by whichever caller), or still pending.
    function invariant_IncomeCountedOnce() public view {
        assertEq(treasury.totalIncome() + treasury.pendingIncome(), seededIncome + honest.ghostPaidIn());
        assertEq(
            treasury.totalIncome(), seededIncome + honest.ghostDistributed() + blocked.ghostDistributed()
        );
        assertEq(
            treasury.totalToStakers() + treasury.totalToOperator() + treasury.totalToBuyback()
                + treasury.totalToReserve(),
            treasury.totalIncome()
        );
    }

    /// The treasury holds what its books say: reserve, buyback fund, operator debt, and the pending rest.
    function invariant_BalanceCoversBooks() public view {
        uint256 booked = treasury.reserveBalance() + treasury.buybackBalance() + treasury.totalOperatorOwed();
        uint256 balance = busd.balanceOf(address(treasury));
        assertGe(balance, booked);
        assertEq(balance, booked + treasury.pendingIncome());
    }

    /// Σ operatorOwed (one operator here) is the total owed, and booked = owed + withdrawn.
    function invariant_OperatorShareOwedOrWithdrawn() public view {
        assertEq(treasury.operatorOwed(operator), treasury.totalOperatorOwed());
        assertEq(treasury.totalToOperator(), treasury.totalOperatorOwed() + blocked.ghostWithdrawn());
    }

    /// The sandwiching keeper never takes more than the slippage bound of what the buyback spends, and no
    /// buyback receives less than the floor.
    function invariant_KeeperNeverExtractsMoreThanBound() public view {
        assertEq(sandwicher.ghostOverBound(), 0);
        assertEq(sandwicher.ghostBelowFloor(), 0);
    }

    /// However the token treats the operator, distribute goes through and a withdrawal elsewhere pays.
    function invariant_DistributeNeverBlockedByOperator() public view {
        assertEq(blocked.ghostDistributeReverted(), 0);
        assertEq(blocked.ghostUnexpectedWithdrawFailure(), 0);
    }

    /// The buyback fund only leaves through buybacks, and the supply drops by exactly what they burned.
    function invariant_BuybackBooks() public view {
        uint256 boughtBack = honest.ghostBoughtBack() + sandwicher.ghostBoughtBack();
        assertEq(treasury.totalBoughtBack(), boughtBack);
        assertEq(treasury.buybackBalance(), treasury.totalToBuyback() - boughtBack);
        uint256 burned = honest.ghostBurned() + sandwicher.ghostBurned();
        assertEq(treasury.totalBurned(), burned);
        assertEq(token.totalSupply(), initialSupply - burned);
        assertEq(token.balanceOf(address(treasury)), 0);
    }

    function invariant_StakeSolvent() public view {
        assertGe(busd.balanceOf(address(stake)), stake.totalNotified() - stake.totalClaimed());
    }

    /// The run did what it claims to test: buybacks, distributions to stakers, withdrawals and sandwiches.
    function afterInvariant() external view {
        // the sandwicher's buybacks count: a small front-run leaves the price inside the floor
        assertGt(honest.ghostBuybacks() + sandwicher.ghostSandwichedBuybacks(), 0, "no buyback executed");
        assertGt(treasury.totalToStakers(), seededToStakers, "no distribution reached stakers");
        assertGt(blocked.ghostDistributionsWhileBlocked() + honest.ghostDistributionsWithStakers(), 0);
        assertGt(blocked.ghostWithdrawals(), 0, "no operator withdrawal");
        assertGt(sandwicher.ghostSandwiches(), 0, "no sandwich attempted");
    }
}
