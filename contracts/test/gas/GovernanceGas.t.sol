// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console} from "forge-std/console.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentTreasury} from "../../src/AgentTreasury.sol";
import {AgentDeployment} from "../utils/AgentDeployment.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {PlainGovernor} from "./PlainGovernor.sol";

/// @dev `cool` exists in forge but not in the vendored forge-std Vm interface.
interface VmCool {
    function cool(address target) external;
}

/// @notice Prints the gas of the governance path and of distribute; run with `-vv` to see the figures.
contract GovernanceGasTest is AgentDeployment {
    /// @dev Makes every contract of the agent cold again, so each figure is what a fresh transaction pays
    /// (without the 21k base and calldata).
    function _cool() internal {
        VmCool cheat = VmCool(address(vm));
        cheat.cool(address(usdc));
        cheat.cool(address(token));
        cheat.cool(address(stake));
        cheat.cool(address(timelock));
        cheat.cool(address(governor));
        cheat.cool(address(cfg));
        cheat.cool(address(treasury));
    }

    function _holders(uint256 n) internal pure returns (address[] memory holders, uint256[] memory amounts) {
        holders = new address[](n);
        amounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            holders[i] = address(uint160(0x10000 + i));
            amounts[i] = 2_000e18;
        }
    }

    function testGasGovernancePath() public {
        (address[] memory holders, uint256[] memory amounts) = _holders(3);
        _deployAgent(holders, amounts);
        _stakeAll(holders);
        vm.warp(block.timestamp + 1);

        address[] memory t = new address[](1);
        t[0] = address(cfg);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeCall(AgentConfig.setSkillPrice, ("summarize", 12_345));
        bytes32 descriptionHash = keccak256("raise the summarize price");

        _cool();
        vm.prank(holders[0]);
        uint256 g = gasleft();
        uint256 id = governor.propose(t, v, c, "raise the summarize price");
        console.log("propose      ", g - gasleft());

        // the anchor: a plain OZ Governor over the same stake, same proposal, same votes
        PlainGovernor plain = new PlainGovernor(
            IVotes(address(stake)), VOTING_DELAY, VOTING_PERIOD, PROPOSAL_THRESHOLD, QUORUM_PERCENT
        );
        vm.prank(holders[0]);
        uint256 plainId = plain.propose(t, v, c, "raise the summarize price");

        vm.warp(block.timestamp + VOTING_DELAY + 1);
        _cool();
        VmCool(address(vm)).cool(address(plain));
        vm.prank(holders[1]);
        g = gasleft();
        plain.castVote(plainId, 1);
        uint256 plainGas = g - gasleft();
        _cool();
        vm.prank(holders[1]);
        g = gasleft();
        governor.castVote(id, 1);
        uint256 agentGas = g - gasleft();
        console.log("castVote, reaches quorum (AgentGovernor)", agentGas);
        console.log("castVote, reaches quorum (plain OZ)     ", plainGas);
        console.log("ratio x1000                             ", (agentGas * 1000) / plainGas);
        assertLe(agentGas * 10, plainGas * 11, "castVote above 1.1x a plain OZ Governor");
        vm.prank(holders[0]);
        governor.castVote(id, 1);

        vm.warp(governor.proposalDeadline(id) + 1);
        _cool();
        g = gasleft();
        governor.queue(t, v, c, descriptionHash);
        console.log("queue        ", g - gasleft());

        vm.warp(block.timestamp + TIMELOCK_DELAY);
        _cool();
        g = gasleft();
        governor.execute(t, v, c, descriptionHash);
        console.log("execute      ", g - gasleft());
        assertEq(cfg.priceOf("summarize"), 12_345);

        _cool();
        vm.prank(address(timelock));
        g = gasleft();
        cfg.setSkillPrice("translate", 23_456);
        console.log("setSkillPrice", g - gasleft());
    }

    function _distributeGas(uint256 stakers) internal returns (uint256 used) {
        (address[] memory holders, uint256[] memory amounts) = _holders(stakers);
        _deployAgent(holders, amounts);
        _stakeAll(holders);
        usdc.mint(address(treasury), 1_000_000e6);
        _cool();
        uint256 g = gasleft();
        treasury.distribute();
        used = g - gasleft();
        assertEq(treasury.totalIncome(), 1_000_000e6);
        assertGt(treasury.totalToStakers(), 0);
    }

    function testGasDistributeIsConstantInStakers() public {
        uint256 one = _distributeGas(1);
        AgentTreasury first = treasury;
        uint256 many = _distributeGas(1000);
        assertTrue(address(treasury) != address(first));
        console.log("distribute, 1 staker    ", one);
        console.log("distribute, 1000 stakers", many);
        uint256 diff = one > many ? one - many : many - one;
        assertLe(diff * 100, one * 5, "distribute gas depends on the number of stakers");
    }
}
