// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test, console} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";

/// Gas of AgentStake's entry points, and proof that notify is O(1) in the number of stakers.
/// Run with `npx forge test --match-path 'contracts/test/gas/*' -vv` to print the figures.
contract StakeGasTest is Test {
    struct Deployment {
        AgentToken token;
        MockUSDC usdc;
        AgentStake stake;
    }

    uint256 internal constant MANY = 1000;
    uint256 internal constant STAKE = 1e18;

    Deployment internal one;
    Deployment internal many;

    function setUp() public {
        one = _deploy(1);
        many = _deploy(MANY);
    }

    function _staker(uint256 i) internal pure returns (address) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0x10000 + i));
    }

    /// Deploys a set with `n` self-delegated stakers, one past distribution, and new revenue waiting.
    function _deploy(uint256 n) internal returns (Deployment memory d) {
        address[] memory holders = new address[](1);
        holders[0] = address(this);
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = (n + 10) * STAKE;
        d.token = new AgentToken("Agent", "AGT", holders, amounts);
        d.usdc = new MockUSDC();
        d.stake = new AgentStake(IERC20(address(d.token)), IERC20(address(d.usdc)), "Staked Agent", "sAGT");
        d.token.approve(address(d.stake), type(uint256).max);
        for (uint256 i; i < n; ++i) {
            d.stake.stakeFor(_staker(i), STAKE);
        }
        // Staker 0 holds spare tokens to stake more.
        require(d.token.transfer(_staker(0), 5 * STAKE));
        vm.prank(_staker(0));
        d.token.approve(address(d.stake), type(uint256).max);
        // A past distribution, so every measured write is nonzero to nonzero, as in steady state.
        d.usdc.mint(address(d.stake), 1_000e6);
        d.stake.notify();
        d.usdc.mint(address(d.stake), 1_000e6);
    }

    function _notifyGas(AgentStake stake) internal returns (uint256 used) {
        uint256 before = gasleft();
        uint256 added = stake.notify();
        used = before - gasleft();
        assertEq(added, 1_000e6);
    }

    function test_gas_notify_1_staker() public {
        uint256 gasOne = _notifyGas(one.stake);
        console.log("notify, 1 staker:    ", gasOne);
    }

    function test_gas_notify_1000_stakers() public {
        uint256 gasMany = _notifyGas(many.stake);
        uint256 gasOne = _notifyGas(one.stake);
        console.log("notify, 1000 stakers:", gasMany);
        console.log("notify, 1 staker:    ", gasOne);
        assertApproxEqRel(gasMany, gasOne, 0.05e18, "notify must not grow with the number of stakers");
    }

    function test_gas_stake() public {
        AgentStake stake = many.stake;
        vm.prank(_staker(0));
        uint256 before = gasleft();
        stake.stake(STAKE);
        console.log("stake (existing staker, 1000 stakers):", before - gasleft());
    }

    function test_gas_stake_firstTime() public {
        AgentStake stake = many.stake;
        address fresh = _staker(MANY + 1);
        uint256 before = gasleft();
        stake.stakeFor(fresh, STAKE);
        console.log("stakeFor (new staker, self-delegates):", before - gasleft());
    }

    function test_gas_unstake() public {
        AgentStake stake = many.stake;
        vm.roll(block.number + 1); // stakes cannot leave in the block they arrived
        vm.prank(_staker(0));
        uint256 before = gasleft();
        stake.unstake(STAKE / 2);
        console.log("unstake (1000 stakers):               ", before - gasleft());
    }

    function test_gas_claim() public {
        AgentStake stake = many.stake;
        vm.prank(_staker(0));
        uint256 before = gasleft();
        uint256 paid = stake.claim();
        console.log("claim (1000 stakers):                 ", before - gasleft());
        assertEq(paid, 1_000e6 / MANY);
    }
}
