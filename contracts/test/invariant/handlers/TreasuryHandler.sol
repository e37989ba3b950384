// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentConfig} from "../../../src/AgentConfig.sol";
import {AgentStake} from "../../../src/AgentStake.sol";
import {AgentToken} from "../../../src/AgentToken.sol";
import {AgentTreasury} from "../../../src/AgentTreasury.sol";
import {IUniswapV2Pair} from "../../../src/interfaces/IUniswapV2Pair.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @notice The honest side of a treasury: customers pay, anyone distributes, holders stake and claim,
/// governance spends and changes the split, time passes and a keeper bot observes and buys back small.
/// Where the minter also holds agent tokens (a market), arbitrage brings the pool back to its price at the
/// start before the bot buys: otherwise a pool an adversary moved (a sandwich's fees stay in it) would be
/// left off its market price for the rest of the run, and the floor would rightly refuse every buyback.
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
    IUniswapV2Pair internal pair;
    // the pool's reserves when the handler was built: the market price arbitrage restores
    uint256 internal refPayment;
    uint256 internal refToken;

    uint256 public ghostPaidIn; // what actually reached the treasury from customers
    uint256 public ghostDistributed; // sum of distribute() return values
    uint256 public ghostDistributionsWithStakers; // distributions that paid the stake
    uint256 public ghostReserveSpent;
    uint256 public ghostBuybackSpent;
    uint256 public ghostBoughtBack; // payment token swapped by buyback()
    uint256 public ghostBurned; // sum of buyback() return values
    uint256 public ghostBuybacks; // buybacks executed

    constructor(AgentTreasury treasury_, AgentToken token_, address minter_, address[] memory actors_) {
        treasury = treasury_;
        stake = treasury_.stake();
        cfg = treasury_.config();
        payment = treasury_.paymentToken();
        token = token_;
        minter = minter_;
        owner = treasury_.owner();
        actors = actors_;
        pair = IUniswapV2Pair(treasury_.buybackPair());
        if (address(pair) != address(0)) (refPayment, refToken) = _reserves();
    }

    /// A customer pays; half the time the agent's distribution job runs right after.
    function pay(uint256 amount, bool distributeNow) external {
        _pay(amount);
        if (distributeNow) _distribute();
    }

    function distribute() external {
        _distribute();
    }

    function _pay(uint256 amount) private {
        amount = _bound(amount, 0, 1e30);
        vm.prank(minter);
        IMintable(address(payment)).mint(customer, amount);
        uint256 before = payment.balanceOf(address(treasury));
        vm.prank(customer);
        assertTrue(payment.transfer(address(treasury), amount));
        ghostPaidIn += payment.balanceOf(address(treasury)) - before;
    }

    function _distribute() private {
        uint256 toStakers = treasury.totalToStakers();
        ghostDistributed += treasury.distribute();
        if (treasury.totalToStakers() > toStakers) ++ghostDistributionsWithStakers;
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
        vm.roll(block.number + 1); // a stake leaves in a later block than it arrived
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

    /// Time passes: customers pay, the distribution job runs, and the keeper's bot records the pool's
    /// price and buys back a slice.
    function passTime(uint256 seconds_, uint256 amount) external {
        seconds_ = _bound(seconds_, 1, treasury.twapWindow());
        vm.warp(block.timestamp + seconds_);
        vm.roll(block.number + 1);
        _pay(_bound(amount, 1e6, 1e12));
        _distribute();
        treasury.observePrice();
        _buyback(amount);
    }

    /// The keeper buys back a slice the pool can take, with the loosest bound of its own (minOut 0): the
    /// floor decides.
    function buyback(uint256 amount) external {
        _buyback(amount);
    }

    function _buyback(uint256 amount) private {
        amount = _bound(amount, 0, treasury.buybackBalance());
        if (amount > 200e6) amount = 200e6;
        if (amount == 0) return;
        _arbitrage();
        vm.prank(treasury.keeper());
        try treasury.buyback(amount, 0, block.timestamp) returns (uint256 burned) {
            ghostBoughtBack += amount;
            ghostBurned += burned;
            ++ghostBuybacks;
        } catch {} // below the floor, no observation yet, or a fee-on-transfer token fails Uniswap's K check
    }

    function setSplit(uint16 a, uint16 b, uint16 c) external {
        a = uint16(_bound(a, 0, 10_000));
        b = uint16(_bound(b, 0, 10_000 - a));
        c = uint16(_bound(c, 0, 10_000 - a - b));
        vm.prank(owner);
        cfg.setSplit(AgentConfig.Split(a, b, c, 10_000 - a - b - c));
    }

    /// The market (the minter, when it holds agent tokens) trades the pool back to its starting price when it
    /// drifted more than 1 %. Same block as any sandwich before it, so the pool's cumulative price (and the
    /// floor) is untouched: only the spot price the buyback trades at is restored.
    function _arbitrage() private {
        if (address(pair) == address(0) || token.balanceOf(minter) == 0) return;
        (uint256 p, uint256 t) = _reserves();
        uint256 k = p * t;
        if (p * refToken * 100 > refPayment * t * 101) {
            // the agent token is dear: sell it until p / t is back at refPayment / refToken
            uint256 target = Math.sqrt(Math.mulDiv(k, refToken, refPayment));
            if (target > t) {
                _marketSwap(IERC20(address(token)), Math.min(target - t, token.balanceOf(minter)));
            }
        } else if (p * refToken * 101 < refPayment * t * 100) {
            uint256 target = Math.sqrt(Math.mulDiv(k, refPayment, refToken));
            if (target > p) {
                vm.prank(minter);
                IMintable(address(payment)).mint(minter, target - p);
                _marketSwap(payment, target - p);
            }
        }
    }

    function _marketSwap(IERC20 tokenIn, uint256 amountIn) private {
        if (amountIn == 0) return;
        address[] memory path = new address[](2);
        (path[0], path[1]) = address(tokenIn) == address(token)
            ? (address(token), address(payment))
            : (address(payment), address(token));
        vm.startPrank(minter);
        tokenIn.approve(address(treasury.router()), amountIn);
        treasury.router().swapExactTokensForTokens(amountIn, 0, path, minter, block.timestamp);
        vm.stopPrank();
    }

    function _reserves() private view returns (uint256 paymentReserve, uint256 tokenReserve) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        return pair.token0() == address(payment) ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
    }
}
