// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentGovernor} from "../../src/AgentGovernor.sol";
import {AgentRegistry} from "../../src/AgentRegistry.sol";
import {AgentStake} from "../../src/AgentStake.sol";
import {AgentTimelock} from "../../src/AgentTimelock.sol";
import {AgentToken} from "../../src/AgentToken.sol";
import {AgentTreasury} from "../../src/AgentTreasury.sol";
import {TreasuryFixture} from "./TreasuryFixture.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {IUniswapV2Router} from "../../src/interfaces/IUniswapV2Router.sol";
import {ConfigFixture} from "./ConfigFixture.sol";

/// @notice Deploys one agent's full set the way launch does (binding the treasury to the config and registering
/// the agent as "agent" while the deployer still administers the timelock, the guardian a canceller of the
/// timelock), and stakes for the holders.
abstract contract AgentDeployment is Test {
    uint48 internal constant VOTING_DELAY = 1 hours;
    uint32 internal constant VOTING_PERIOD = 3 days;
    uint256 internal constant PROPOSAL_THRESHOLD = 1_000e18;
    uint256 internal constant QUORUM_PERCENT = 4;
    uint48 internal constant LATE_QUORUM_EXTENSION = 1 days;
    uint256 internal constant TIMELOCK_DELAY = 2 days;
    uint48 internal constant REWARD_DURATION = 7 days;

    MockUSDC internal usdc;
    AgentToken internal token;
    AgentStake internal stake;
    AgentTimelock internal timelock;
    AgentGovernor internal governor;
    AgentConfig internal cfg;
    AgentTreasury internal treasury;
    AgentRegistry internal registry;
    address internal operator = makeAddr("operator");
    address internal guardian = makeAddr("guardian");

    /// @dev In launch's order (issue 8 spec): token, timelock, stake, governor, config, treasury, then the
    /// one-time bindings and the timelock roles.
    function _deployAgent(address[] memory holders, uint256[] memory amounts) internal {
        usdc = new MockUSDC();
        token = new AgentToken("Agent", "AGT", holders, amounts);
        address[] memory none = new address[](0);
        address[] memory anyone = new address[](1); // address(0): executor role open
        timelock = new AgentTimelock(TIMELOCK_DELAY, none, anyone, address(this));
        stake = new AgentStake(
            IERC20(address(token)),
            IERC20(address(usdc)),
            "Staked Agent",
            "sAGT",
            address(timelock),
            REWARD_DURATION
        );
        governor = new AgentGovernor(
            IVotes(address(stake)),
            timelock,
            "Agent Governor",
            VOTING_DELAY,
            VOTING_PERIOD,
            PROPOSAL_THRESHOLD,
            QUORUM_PERCENT,
            LATE_QUORUM_EXTENSION
        );
        cfg = new AgentConfig(
            address(timelock),
            guardian,
            ConfigFixture.FLOOR,
            ConfigFixture.CEILING,
            ConfigFixture.defaultConfig()
        );
        treasury = new AgentTreasury(
            IERC20(address(usdc)),
            cfg,
            stake,
            token,
            IUniswapV2Router(address(0)),
            operator,
            operator,
            address(timelock),
            TreasuryFixture.TWAP_WINDOW,
            TreasuryFixture.MAX_SLIPPAGE_BPS
        );
        cfg.bindTreasury(address(treasury));
        stake.bind(governor, address(treasury));
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        // the guardian can cancel a queued proposal (launch grants it when a guardian is set)
        timelock.grantRole(timelock.CANCELLER_ROLE(), guardian);
        registry = new AgentRegistry();
        registry.register("agent", _agentRecord(), "");
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));
    }

    /// @notice The deployed set as the registry records it.
    function _agentRecord() internal view returns (AgentRegistry.Agent memory) {
        return AgentRegistry.Agent({
            token: address(token),
            stake: address(stake),
            governor: address(governor),
            timelock: address(timelock),
            config: address(cfg),
            treasury: address(treasury)
        });
    }

    function _stakeAll(address[] memory holders) internal {
        for (uint256 i; i < holders.length; ++i) {
            uint256 balance = token.balanceOf(holders[i]);
            vm.startPrank(holders[i]);
            token.approve(address(stake), balance);
            stake.stake(balance);
            vm.stopPrank();
        }
    }
}
