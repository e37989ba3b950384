// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test, console} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {AgentGovernor} from "../../src/AgentGovernor.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentTimelock} from "../../src/AgentTimelock.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";

/// Gas of AgentStake's entry points in steady state (a stream running, every slot already written once),
/// and proof that notify is O(1) in the number of stakers. The cooldown is read from a real AgentGovernor.
/// Run with `npx forge test --match-path 'contracts/test/gas/*' -vv` to print the figures.
contract StakeGasTest is Test {
    struct Deployment {
        AgentToken token;
        MockUSDC usdc;
        AgentStake stake;
        AgentGovernor governor;
        AgentTimelock timelock;
    }

    uint256 internal constant MANY = 1000;
    uint256 internal constant STAKE = 1e18;
    address internal treasury = makeAddr("treasury");

    Deployment internal one;
    Deployment internal many;

    function setUp() public {
        vm.warp(1_700_000_000);
        one = _deploy(1);
        many = _deploy(MANY);
        // staker 0 claimed once already and staker 1 asked to unstake: the measured calls find their slots
        // written, as in steady state
        vm.warp(block.timestamp + 1 days);
        vm.prank(_staker(0));
        many.stake.claim();
        vm.prank(_staker(0));
        one.stake.claim();
        vm.prank(_staker(1));
        many.stake.unstake(STAKE / 2);
        // a day later: every staker has something to claim
        vm.warp(block.timestamp + 1 days);
    }

    function _staker(uint256 i) internal pure returns (address) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0x10000 + i));
    }

    /// Deploys a set with `n` self-delegated stakers, a running stream, and new revenue waiting.
    function _deploy(uint256 n) internal returns (Deployment memory d) {
        address[] memory holders = new address[](1);
        holders[0] = address(this);
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = (n + 10) * STAKE;
        d.token = new AgentToken("Agent", "AGT", holders, amounts);
        d.usdc = new MockUSDC();
        address[] memory none = new address[](0);
        address[] memory anyone = new address[](1);
        d.timelock = new AgentTimelock(2 days, none, anyone, address(this));
        d.stake = new AgentStake(
            IERC20(address(d.token)),
            IERC20(address(d.usdc)),
            "Staked Agent",
            "sAGT",
            address(d.timelock),
            7 days
        );
        d.governor = new AgentGovernor(
            IVotes(address(d.stake)), d.timelock, "Agent Governor", 1 hours, 3 days, 1e18, 4, 1 days
        );
        d.stake.bind(d.governor, treasury);
        d.token.approve(address(d.stake), type(uint256).max);
        for (uint256 i; i < n; ++i) {
            d.stake.stakeFor(_staker(i), STAKE);
        }
        // Staker 0 holds spare tokens to stake more, and already holds some USDC (a past claim).
        require(d.token.transfer(_staker(0), 5 * STAKE));
        vm.prank(_staker(0));
        d.token.approve(address(d.stake), type(uint256).max);
        d.usdc.mint(_staker(0), 1);
        // A past distribution, so every measured write is nonzero to nonzero, as in steady state.
        _fundAndNotify(d, 1_000e6);
        d.usdc.mint(address(d.stake), 1_000e6);
    }

    function _fundAndNotify(Deployment memory d, uint256 amount) internal {
        d.usdc.mint(address(d.stake), amount);
        vm.prank(treasury);
        d.stake.notify(amount);
    }

    function _notifyGas(Deployment memory d) internal returns (uint256 used) {
        vm.prank(treasury);
        uint256 before = gasleft();
        d.stake.notify(1_000e6);
        used = before - gasleft();
    }

    function test_gas_notify_1_staker() public {
        console.log("notify, 1 staker:    ", _notifyGas(one));
    }

    function test_gas_notify_1000_stakers() public {
        uint256 gasMany = _notifyGas(many);
        uint256 gasOne = _notifyGas(one);
        console.log("notify, 1000 stakers:", gasMany);
        console.log("notify, 1 staker:    ", gasOne);
        assertApproxEqRel(gasMany, gasOne, 0.05e18, "notify must not grow with the number of stakers");
    }

    function test_gas_stake() public {
        vm.prank(_staker(0));
        uint256 before = gasleft();
        many.stake.stake(STAKE);
        console.log("stake (existing staker, 1000 stakers):", before - gasleft());
    }

    function test_gas_stake_firstTime() public {
        address fresh = _staker(MANY + 1);
        uint256 before = gasleft();
        many.stake.stakeFor(fresh, STAKE);
        console.log("stakeFor (new staker, self-delegates):", before - gasleft());
    }

    function test_gas_unstake() public {
        vm.prank(_staker(0));
        uint256 before = gasleft();
        many.stake.unstake(STAKE / 2);
        console.log("unstake request (1000 stakers):       ", before - gasleft());
    }

    function test_gas_withdraw() public {
        (, uint48 readyAt) = many.stake.pendingWithdrawal(_staker(1));
        vm.warp(readyAt);
        vm.prank(_staker(1));
        uint256 before = gasleft();
        many.stake.withdraw();
        console.log("withdraw:                             ", before - gasleft());
    }

    function test_gas_claim() public {
        AgentStake stake = many.stake;
        vm.prank(_staker(0));
        uint256 before = gasleft();
        uint256 paid = stake.claim();
        console.log("claim, steady state (1000 stakers):   ", before - gasleft());
        assertGt(paid, 0);
    }

    function test_gas_claim_first() public {
        AgentStake stake = many.stake;
        address fresh = _staker(2); // holds no USDC yet
        vm.prank(fresh);
        uint256 before = gasleft();
        stake.claim();
        console.log("claim, first (no USDC held yet):      ", before - gasleft());
    }
}
