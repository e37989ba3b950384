// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {AgentStake} from "../../../src/AgentStake.sol";
import {AgentToken} from "../../../src/AgentToken.sol";
import {AgentTreasury} from "../../../src/AgentTreasury.sol";
import {MockUSDC} from "../../../src/MockUSDC.sol";

/// Honest holders around the adversaries: stake, unstake, withdraw, claim; customers pay; anyone distributes.
contract HolderHandler is CommonBase, StdCheats, StdUtils {
    AgentStake public immutable stake;
    AgentToken public immutable token;
    AgentTreasury public immutable treasury;
    MockUSDC public immutable usdc;
    address[] internal _holders;
    address internal immutable _minter;

    mapping(address holder => uint256) public ghostClaimed;
    /// Distributions that reached the stake while someone staked.
    uint256 public ghostNotifiesWithStakers;
    /// Claims that paid something.
    uint256 public ghostClaims;

    constructor(
        AgentStake stake_,
        AgentToken token_,
        AgentTreasury treasury_,
        MockUSDC usdc_,
        address[] memory h,
        address minter_
    ) {
        _minter = minter_;
        stake = stake_;
        token = token_;
        treasury = treasury_;
        usdc = usdc_;
        _holders = h;
    }

    function holders() external view returns (address[] memory) {
        return _holders;
    }

    function _holder(uint256 seed) internal view returns (address) {
        return _holders[seed % _holders.length];
    }

    function stakeTokens(uint256 seed, uint256 amount) external {
        address h = _holder(seed);
        uint256 balance = token.balanceOf(h);
        if (balance == 0) return;
        amount = bound(amount, 1, balance); // before the prank: bound logs through a call
        vm.prank(h);
        stake.stake(amount);
    }

    function unstake(uint256 seed, uint256 amount) external {
        address h = _holder(seed);
        uint256 staked = stake.balanceOf(h);
        if (staked == 0) return;
        amount = bound(amount, 1, staked);
        vm.prank(h);
        stake.unstake(amount);
    }

    function withdraw(uint256 seed) external {
        address h = _holder(seed);
        (uint256 amount, uint48 readyAt) = stake.pendingWithdrawal(h);
        if (amount == 0 || block.timestamp < readyAt) return;
        vm.prank(h);
        stake.withdraw();
    }

    function claim(uint256 seed) external {
        address h = _holder(seed);
        vm.prank(h);
        uint256 paid = stake.claim();
        ghostClaimed[h] += paid;
        if (paid != 0) ghostClaims++;
    }

    function payAndDistribute(uint256 income) external {
        income = bound(income, 1, 1e12); // before the prank: bound logs through a call
        vm.prank(_minter); // a customer pays the treasury
        usdc.mint(address(treasury), income);
        uint256 before = stake.totalNotified();
        treasury.distribute();
        if (stake.totalNotified() != before) ghostNotifiesWithStakers++;
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 3 days));
    }
}
