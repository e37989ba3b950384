// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AgentStake} from "../../../src/AgentStake.sol";
import {AgentToken} from "../../../src/AgentToken.sol";
import {MockUSDC} from "../../../src/MockUSDC.sol";

/// Drives AgentStake with a fixed set of self-delegated actors (it is also the notifier) and integrates, on
/// its own, what each actor should have earned by stake × time: for every second a stream runs while someone
/// stakes, rate × balance / totalSupply.
contract StakeHandler is CommonBase, StdCheats, StdUtils {
    uint256 internal constant PRECISION = 1e36;

    AgentStake public immutable stake;
    AgentToken public immutable token;
    MockUSDC public immutable usdc;

    address[] internal _actors;

    /// Reward each actor should have earned by stake × time.
    mapping(address actor => uint256) public ghostExpected;
    /// Reward each actor has claimed.
    mapping(address actor => uint256) public ghostClaimed;
    /// Time up to which ghostExpected is integrated.
    uint256 public ghostIntegratedUntil;
    /// Integration segments (each may floor one unit per actor).
    uint256 public ghostSegments;
    /// Notifies made while someone staked.
    uint256 public ghostNotifiesWithStakers;
    /// Claims that paid something.
    uint256 public ghostClaims;
    /// Withdrawals that paid something.
    uint256 public ghostWithdrawals;
    /// Sum of the amounts notified.
    uint256 public ghostNotified;
    /// Handler calls (each may floor one unit per actor when it settles).
    uint256 public ghostCalls;

    constructor(AgentStake stake_, AgentToken token_, MockUSDC usdc_, address[] memory actors_) {
        stake = stake_;
        token = token_;
        usdc = usdc_;
        _actors = actors_;
        ghostIntegratedUntil = block.timestamp;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    /// Integrates the stream from the last action to now at the balances that held meanwhile.
    function _integrate() internal {
        ghostCalls++;
        uint256 from = ghostIntegratedUntil;
        ghostIntegratedUntil = block.timestamp;
        uint256 until = Math.min(block.timestamp, stake.periodFinish());
        uint256 supply = stake.totalSupply();
        if (until <= from || supply == 0) return;
        uint256 streamed = stake.rewardRate() * (until - from);
        ghostSegments++;
        for (uint256 i; i < _actors.length; ++i) {
            ghostExpected[
                _actors[i]
            ] += Math.mulDiv(streamed, stake.balanceOf(_actors[i]), supply * PRECISION);
        }
    }

    function stakeTokens(uint256 seed, uint256 amount) external {
        _integrate();
        address actor = _actor(seed);
        uint256 balance = token.balanceOf(actor);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(actor);
        stake.stake(amount);
    }

    function stakeFor(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        _integrate();
        address from = _actor(fromSeed);
        uint256 balance = token.balanceOf(from);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(from);
        stake.stakeFor(_actor(toSeed), amount);
    }

    function unstake(uint256 seed, uint256 amount) external {
        _integrate();
        address actor = _actor(seed);
        uint256 staked = stake.balanceOf(actor);
        if (staked == 0) return;
        amount = bound(amount, 1, staked);
        vm.prank(actor);
        stake.unstake(amount);
    }

    function withdraw(uint256 seed) external {
        _integrate();
        address actor = _actor(seed);
        (uint256 amount, uint48 readyAt) = stake.pendingWithdrawal(actor);
        if (amount == 0) return;
        if (block.timestamp < readyAt) vm.warp(readyAt);
        _integrate();
        vm.prank(actor);
        stake.withdraw();
        ghostWithdrawals++;
    }

    function claim(uint256 seed) external {
        _integrate();
        address actor = _actor(seed);
        vm.prank(actor);
        uint256 paid = stake.claim();
        ghostClaimed[actor] += paid;
        if (paid != 0) ghostClaims++;
    }

    /// Revenue arriving and notified, as the treasury does it (which only sends while someone stakes).
    function fundAndNotify(uint256 amount) public {
        _integrate();
        if (stake.totalSupply() == 0) {
            address first = _actors[amount % _actors.length];
            vm.prank(first);
            stake.stake(token.balanceOf(first) / 2 + 1);
        }
        amount = bound(amount, 0, 1e15); // up to a billion USDC
        usdc.mint(address(stake), amount);
        stake.notify(amount);
        ghostNotified += amount;
        if (stake.totalSupply() != 0 && amount != 0) ghostNotifiesWithStakers++;
    }

    /// Time passes; on odd seeds revenue arrives first, and afterwards a staker claims.
    function warp(uint256 seconds_) external {
        if (seconds_ % 2 == 1) fundAndNotify(seconds_ >> 8);
        _integrate();
        vm.warp(block.timestamp + bound(seconds_, 1, 10 days));
        _integrate();
        for (uint256 i; i < _actors.length; ++i) {
            address actor = _actors[(seconds_ + i) % _actors.length];
            if (stake.balanceOf(actor) == 0) continue;
            vm.prank(actor);
            uint256 paid = stake.claim();
            ghostClaimed[actor] += paid;
            if (paid != 0) ghostClaims++;
            break;
        }
    }
}
