// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AgentStake} from "../../../src/AgentStake.sol";
import {AgentToken} from "../../../src/AgentToken.sol";
import {AgentTreasury} from "../../../src/AgentTreasury.sol";
import {MockUSDC} from "../../../src/MockUSDC.sol";

/// A just-in-time staker: stakes right before income is distributed, leaves S seconds later and claims.
/// It records what it took and the most its stake × time could have earned.
contract JitStakerHandler is CommonBase, StdCheats, StdUtils {
    uint256 internal constant PRECISION = 1e36;

    AgentStake public immutable stake;
    AgentToken public immutable token;
    AgentTreasury public immutable treasury;
    MockUSDC public immutable usdc;
    address public immutable sniper;
    address internal immutable _minter;

    /// What the sniper claimed.
    uint256 public ghostTaken;
    /// Σ over snipes of stream rate × S × its stake / total stake: its stake × time share.
    uint256 public ghostStakeTimeShare;
    /// Σ over snipes of (amount streaming) × S / rewardDuration: the S / rewardDuration bound.
    uint256 public ghostDurationBound;
    /// Snipes whose distribution reached the stake with the sniper in it.
    uint256 public ghostSnipes;

    constructor(
        AgentStake stake_,
        AgentToken token_,
        AgentTreasury treasury_,
        MockUSDC usdc_,
        address sniper_,
        address minter_
    ) {
        _minter = minter_;
        stake = stake_;
        token = token_;
        treasury = treasury_;
        usdc = usdc_;
        sniper = sniper_;
    }

    function snipe(uint256 amount, uint256 income, uint256 held) external {
        vm.startPrank(sniper);
        (uint256 cooling, uint48 readyAt) = stake.pendingWithdrawal(sniper);
        if (cooling != 0 && (block.timestamp >= readyAt || token.balanceOf(sniper) == 0)) {
            // all its capital is cooling down: it waits the cooldown out, then snipes again (otherwise one
            // snipe of its whole balance would end the run's sniping, and a run could end with nothing paid)
            if (block.timestamp < readyAt) vm.warp(readyAt);
            stake.withdraw();
        }
        uint256 balance = token.balanceOf(sniper);
        if (balance == 0) {
            vm.stopPrank();
            return;
        }
        vm.stopPrank();
        amount = bound(amount, 1, balance);
        held = bound(held, 1, 1 days);
        vm.prank(sniper);
        stake.stake(amount);

        income = bound(income, 1e6, 1e12); // before the prank: bound logs through a call
        vm.prank(_minter); // a customer pays the treasury
        usdc.mint(address(treasury), income);
        uint256 notifiedBefore = stake.totalNotified();
        treasury.distribute();
        if (stake.totalNotified() == notifiedBefore) return; // the split sent nothing to stakers
        ghostSnipes++;
        uint256 rate = stake.rewardRate();
        uint256 supply = stake.totalSupply();
        uint256 duration = stake.periodFinish() - block.timestamp;

        vm.warp(block.timestamp + held);
        vm.startPrank(sniper);
        stake.unstake(amount);
        ghostTaken += stake.claim();
        vm.stopPrank();
        uint256 s = Math.min(held, duration);
        ghostStakeTimeShare += Math.mulDiv(rate * s, amount, supply * PRECISION) + 1;
        // the stream carries this distribution plus what was left: rate × duration
        ghostDurationBound += Math.mulDiv(rate * duration, s, duration * PRECISION) + 1;
    }
}
