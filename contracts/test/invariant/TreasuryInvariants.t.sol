// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {AgentTreasury} from "../../src/AgentTreasury.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";
import {FeeOnTransferToken} from "../mocks/FeeOnTransferToken.sol";
import {MockStakeGovernance} from "../mocks/MockStakeGovernance.sol";
import {UniswapV2} from "../utils/UniswapV2.sol";

interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @notice Drives the treasury with payments, distributions, staking and governance spending.
contract TreasuryHandler is Test {
    AgentTreasury internal treasury;
    AgentStake internal stake;
    AgentToken internal token;
    AgentConfig internal cfg;
    IERC20 internal payment;
    address internal minter;
    address internal owner;
    address internal customer = makeAddr("customer");
    address[] internal actors;

    uint256 public ghostPaidIn; // what actually reached the treasury from customers
    uint256 public ghostDistributed; // sum of distribute() return values
    uint256 public ghostReserveSpent;
    uint256 public ghostBuybackSpent;
    uint256 public ghostBoughtBack; // payment token swapped by buyback()
    uint256 public ghostBurned; // sum of buyback() return values

    constructor(AgentTreasury treasury_, AgentToken token_, address minter_, address[] memory actors_) {
        treasury = treasury_;
        stake = treasury_.stake();
        cfg = treasury_.config();
        payment = treasury_.paymentToken();
        token = token_;
        minter = minter_;
        owner = treasury_.owner();
        actors = actors_;
    }

    function pay(uint256 amount) external {
        amount = _bound(amount, 0, 1e30);
        vm.prank(minter);
        IMintable(address(payment)).mint(customer, amount);
        uint256 before = payment.balanceOf(address(treasury));
        vm.prank(customer);
        assertTrue(payment.transfer(address(treasury), amount));
        ghostPaidIn += payment.balanceOf(address(treasury)) - before;
    }

    function distribute() external {
        ghostDistributed += treasury.distribute();
    }

    function stakeTokens(uint256 actorSeed, uint256 amount) external {
        address actor = actors[actorSeed % actors.length];
        amount = _bound(amount, 0, token.balanceOf(actor));
        if (amount == 0) return;
        vm.startPrank(actor);
        token.approve(address(stake), amount);
        stake.stake(amount);
        vm.stopPrank();
    }

    function unstakeTokens(uint256 actorSeed, uint256 amount) external {
        address actor = actors[actorSeed % actors.length];
        amount = _bound(amount, 0, stake.balanceOf(actor));
        if (amount == 0) return;
        vm.prank(actor);
        stake.unstake(amount);
    }

    function claim(uint256 actorSeed) external {
        vm.prank(actors[actorSeed % actors.length]);
        stake.claim();
    }

    function spendReserve(uint256 amount) external {
        amount = _bound(amount, 0, treasury.reserveBalance());
        vm.prank(owner);
        treasury.spendReserve(customer, amount);
        ghostReserveSpent += amount;
    }

    function spendBuyback(uint256 amount) external {
        amount = _bound(amount, 0, treasury.buybackBalance());
        vm.prank(owner);
        treasury.spendBuyback(customer, amount);
        ghostBuybackSpent += amount;
    }

    /// The keeper buys back with the loosest bound (minOut 0): whatever the price, the books must hold.
    function buyback(uint256 amount) external {
        amount = _bound(amount, 0, treasury.buybackBalance());
        if (amount == 0) return;
        vm.prank(treasury.keeper());
        try treasury.buyback(amount, 0, block.timestamp) returns (uint256 burned) {
            ghostBoughtBack += amount;
            ghostBurned += burned;
        } catch {} // e.g. a fee-on-transfer payment token fails Uniswap's K check; nothing moves
    }

    function setSplit(uint16 a, uint16 b, uint16 c) external {
        a = uint16(_bound(a, 0, 10_000));
        b = uint16(_bound(b, 0, 10_000 - a));
        c = uint16(_bound(c, 0, 10_000 - a - b));
        vm.prank(owner);
        cfg.setSplit(AgentConfig.Split(a, b, c, 10_000 - a - b - c));
    }
}

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
        treasury = new AgentTreasury(payment, cfg, stake, token, dex.router, operator, operator, timelock);
        stake.bind(new MockStakeGovernance(1 days), address(treasury));
        _seedPool(dex, minter);
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
            treasury.reserveBalance() + treasury.buybackBalance() + treasury.pendingIncome()
        );
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
