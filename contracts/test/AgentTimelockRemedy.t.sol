// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {AgentConfig} from "../src/AgentConfig.sol";
import {AgentTimelock} from "../src/AgentTimelock.sol";
import {AgentTreasury} from "../src/AgentTreasury.sol";
import {AgentDeployment} from "./utils/AgentDeployment.sol";

/// @notice A review found that the guardian (a timelock canceller) could cancel the very proposal that removes
/// it and the one that resumes the treasury: a rogue or stolen guardian key froze the outflows and vetoed its
/// own removal forever. AgentTimelock now refuses a guardian's cancel of such a remedy.
contract GuardianRemovalAttackTest is AgentDeployment {
    address internal holder = makeAddr("holder");

    function setUp() public {
        vm.warp(1_700_000_000);
        address[] memory holders = new address[](1);
        holders[0] = holder;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 1_000_000e18;
        _deployAgent(holders, amounts);
        _stakeAll(holders);
        usdc.mint(address(treasury), 100_000e6);
        treasury.distribute();
        vm.warp(block.timestamp + 1);
    }

    function _passAndQueue(address[] memory t, bytes[] memory c, string memory d)
        internal
        returns (uint256 id)
    {
        uint256[] memory v = new uint256[](t.length);
        vm.prank(holder);
        id = governor.propose(t, v, c, d);
        vm.warp(governor.proposalSnapshot(id) + 1);
        vm.prank(holder);
        governor.castVote(id, 1);
        vm.warp(governor.proposalDeadline(id) + 1);
        governor.queue(t, v, c, keccak256(bytes(d)));
    }

    function _operation(address[] memory t, bytes[] memory c, string memory d)
        internal
        view
        returns (bytes32)
    {
        uint256[] memory v = new uint256[](t.length);
        bytes32 salt = bytes20(address(governor)) ^ keccak256(bytes(d));
        return timelock.hashOperationBatch(t, v, c, 0, salt);
    }

    function _removal() internal view returns (address[] memory t, bytes[] memory c) {
        t = new address[](3);
        (t[0], t[1], t[2]) = (address(treasury), address(cfg), address(timelock));
        c = new bytes[](3);
        c[0] = abi.encodeCall(AgentTreasury.unpause, ());
        c[1] = abi.encodeCall(AgentConfig.setGuardian, (address(0)));
        c[2] = abi.encodeWithSignature("revokeRole(bytes32,address)", timelock.CANCELLER_ROLE(), guardian);
    }

    function test_Attack_GuardianCannotCancelItsOwnRemovalNorTheResume() public {
        // the rogue guardian stops every outflow
        vm.prank(guardian);
        treasury.pause();

        // the holders vote to resume the treasury and remove the guardian, in one proposal
        (address[] memory t, bytes[] memory c) = _removal();
        uint256 id = _passAndQueue(t, c, "remove the guardian");
        bytes32 op = _operation(t, c, "remove the guardian");
        assertTrue(timelock.isRemedy(op));

        // the guardian's cancel is refused
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(AgentTimelock.AgentTimelockRemedyNotCancellable.selector, op));
        timelock.cancel(op);

        vm.warp(block.timestamp + TIMELOCK_DELAY);
        governor.execute(t, new uint256[](3), c, keccak256("remove the guardian"));
        assertTrue(governor.state(id) == IGovernor.ProposalState.Executed);
        assertFalse(treasury.paused(), "outflows resumed");
        assertEq(cfg.guardian(), address(0), "guardian removed");
        assertFalse(timelock.hasRole(timelock.CANCELLER_ROLE(), guardian), "and its canceller role");
        vm.prank(operator);
        treasury.withdrawOperatorShare(operator);
    }

    /// @notice A remedy bundled with anything else (here a reserve drain) stays cancellable: an attacker cannot
    /// shield a drain by adding the guardian's removal to it.
    function test_Attack_DrainBundledWithRemovalIsStillCancellable() public {
        (address[] memory r, bytes[] memory rc) = _removal();
        address[] memory t = new address[](4);
        bytes[] memory c = new bytes[](4);
        for (uint256 i; i < 3; ++i) {
            (t[i], c[i]) = (r[i], rc[i]);
        }
        t[3] = address(treasury);
        c[3] = abi.encodeCall(AgentTreasury.spendReserve, (holder, 1));
        uint256 id = _passAndQueue(t, c, "drain and remove");
        bytes32 op = _operation(t, c, "drain and remove");
        assertFalse(timelock.isRemedy(op));
        vm.prank(guardian);
        timelock.cancel(op);
        assertTrue(governor.state(id) == IGovernor.ProposalState.Canceled);
    }

    /// @notice Revoking the governor's own canceller role is not a remedy (only a guardian's is).
    function test_RevokingTheGovernorsRoleIsNotARemedy() public {
        address[] memory t = new address[](1);
        t[0] = address(timelock);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeWithSignature(
            "revokeRole(bytes32,address)", timelock.CANCELLER_ROLE(), address(governor)
        );
        _passAndQueue(t, c, "revoke the governor");
        assertFalse(timelock.isRemedy(_operation(t, c, "revoke the governor")));
    }

    function testFuzz_AnyOtherCallIsCancellable(bytes4 selector, uint256 arg) public {
        vm.assume(selector != AgentTreasury.unpause.selector && selector != AgentConfig.setGuardian.selector);
        vm.assume(selector != AgentConfig.setPaused.selector);
        address[] memory t = new address[](1);
        t[0] = address(cfg);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodePacked(selector, arg);
        vm.prank(address(governor));
        timelock.scheduleBatch(t, new uint256[](1), c, 0, bytes32(arg), TIMELOCK_DELAY);
        bytes32 op = timelock.hashOperationBatch(t, new uint256[](1), c, 0, bytes32(arg));
        assertFalse(timelock.isRemedy(op));
        vm.prank(guardian);
        timelock.cancel(op);
        assertFalse(timelock.isOperationPending(op));
    }
}
