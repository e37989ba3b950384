// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {AgentStake} from "../../../src/AgentStake.sol";
import {AgentToken} from "../../../src/AgentToken.sol";
import {MockUSDC} from "../../../src/MockUSDC.sol";

/// Drives AgentStake with a fixed set of self-delegated actors and records what each should have earned.
contract StakeHandler is CommonBase, StdCheats, StdUtils {
    AgentStake public immutable stake;
    AgentToken public immutable token;
    MockUSDC public immutable usdc;

    address[] internal _actors;

    /// Reward each actor should have earned: for every notify, amount * balance / totalSupply (floored).
    mapping(address actor => uint256) public ghostExpected;
    /// Reward each actor has claimed.
    mapping(address actor => uint256) public ghostClaimed;
    /// Number of notify calls that distributed something.
    uint256 public ghostNotifies;
    /// Sum of the amounts notify reported.
    uint256 public ghostNotified;
    /// Reward tokens sent to the stake contract.
    uint256 public ghostFunded;

    constructor(AgentStake stake_, AgentToken token_, MockUSDC usdc_, address[] memory actors_) {
        stake = stake_;
        token = token_;
        usdc = usdc_;
        _actors = actors_;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    function stakeTokens(uint256 seed, uint256 amount) external {
        address actor = _actor(seed);
        uint256 balance = token.balanceOf(actor);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(actor);
        stake.stake(amount);
    }

    function stakeFor(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = _actor(fromSeed);
        uint256 balance = token.balanceOf(from);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(from);
        stake.stakeFor(_actor(toSeed), amount);
    }

    function unstake(uint256 seed, uint256 amount) external {
        address actor = _actor(seed);
        uint256 staked = stake.balanceOf(actor);
        if (staked == 0) return;
        amount = bound(amount, 1, staked);
        vm.roll(block.number + 1); // a stake leaves in a later block than it arrived
        vm.prank(actor);
        stake.unstake(amount);
    }

    function claim(uint256 seed) external {
        address actor = _actor(seed);
        vm.prank(actor);
        ghostClaimed[actor] += stake.claim();
    }

    /// Revenue arriving, as the treasury sends it, without notifying.
    function fund(uint256 amount) public {
        amount = bound(amount, 0, 1e15); // up to a billion USDC
        usdc.mint(address(stake), amount);
        ghostFunded += amount;
    }

    function notify() public {
        uint256 supply = stake.totalSupply();
        uint256[] memory balances = new uint256[](_actors.length);
        for (uint256 i; i < _actors.length; ++i) {
            balances[i] = stake.balanceOf(_actors[i]);
        }
        uint256 added = stake.notify();
        if (added == 0) return;
        ghostNotifies++;
        ghostNotified += added;
        for (uint256 i; i < _actors.length; ++i) {
            ghostExpected[_actors[i]] += (added * balances[i]) / supply;
        }
    }

    function fundAndNotify(uint256 amount) external {
        fund(amount);
        notify();
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 30 days));
    }
}
