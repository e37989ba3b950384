// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {AgentConfig} from "../src/AgentConfig.sol";
import {AgentGovernor} from "../src/AgentGovernor.sol";
import {AgentTreasury} from "../src/AgentTreasury.sol";
import {AgentDeployment} from "./utils/AgentDeployment.sol";

contract AgentGovernorTest is AgentDeployment {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave"); // holds tokens but never stakes

    uint8 internal constant AGAINST = 0;
    uint8 internal constant FOR = 1;
    uint8 internal constant ABSTAIN = 2;

    function setUp() public {
        address[] memory holders = new address[](4);
        holders[0] = alice;
        holders[1] = bob;
        holders[2] = carol;
        holders[3] = dave;
        uint256[] memory amounts = new uint256[](4);
        amounts[0] = 600_000e18;
        amounts[1] = 300_000e18;
        amounts[2] = 30_000e18;
        amounts[3] = 70_000e18;
        _deployAgent(holders, amounts);
        address[] memory stakers = new address[](3);
        stakers[0] = alice;
        stakers[1] = bob;
        stakers[2] = carol;
        _stakeAll(stakers);
        vm.warp(block.timestamp + 1);
    }

    // ---------------------------------------------------------------- helpers

    function _proposal(bytes memory data)
        internal
        view
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        targets = new address[](1);
        targets[0] = address(cfg);
        values = new uint256[](1);
        calldatas = new bytes[](1);
        calldatas[0] = data;
    }

    function _propose(address proposer, bytes memory data, string memory description)
        internal
        returns (uint256 id)
    {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _proposal(data);
        vm.prank(proposer);
        id = governor.propose(t, v, c, description);
    }

    function _priceChange(uint256 price) internal pure returns (bytes memory) {
        return abi.encodeCall(AgentConfig.setSkillPrice, ("summarize", price));
    }

    function _queue(bytes memory data, string memory description) internal {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _proposal(data);
        governor.queue(t, v, c, keccak256(bytes(description)));
    }

    function _execute(bytes memory data, string memory description) internal {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _proposal(data);
        governor.execute(t, v, c, keccak256(bytes(description)));
    }

    function _toVoting() internal {
        vm.warp(block.timestamp + VOTING_DELAY + 1);
    }

    function _toEnd(uint256 id) internal {
        vm.warp(governor.proposalDeadline(id) + 1);
    }

    function _expectState(uint256 id, IGovernor.ProposalState expected) internal view {
        assertEq(uint8(governor.state(id)), uint8(expected));
    }

    // ---------------------------------------------------------------- constructor and settings

    function testConstructor() public view {
        assertEq(governor.name(), "Agent Governor");
        assertEq(address(governor.token()), address(stake));
        assertEq(governor.timelock(), address(timelock));
        assertEq(governor.votingDelay(), VOTING_DELAY);
        assertEq(governor.votingPeriod(), VOTING_PERIOD);
        assertEq(governor.proposalThreshold(), PROPOSAL_THRESHOLD);
        assertEq(governor.quorumNumerator(), QUORUM_PERCENT);
        assertEq(governor.lateQuorumVoteExtension(), LATE_QUORUM_EXTENSION);
        assertEq(governor.clock(), block.timestamp);
        assertEq(governor.CLOCK_MODE(), "mode=timestamp");
        assertEq(governor.COUNTING_MODE(), "support=bravo&quorum=for,abstain");
    }

    function testConstructorRevertsZeroThreshold() public {
        vm.expectRevert(AgentGovernor.AgentGovernorZeroProposalThreshold.selector);
        new AgentGovernor(IVotes(address(stake)), timelock, "G", 1, 1, 0, 4, 0);
    }

    function testConstructorRevertsZeroQuorum() public {
        vm.expectRevert(AgentGovernor.AgentGovernorZeroQuorum.selector);
        new AgentGovernor(IVotes(address(stake)), timelock, "G", 1, 1, 1, 0, 0);
    }

    function testLaunchWiring() public view {
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), address(governor)));
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), address(governor)));
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)));
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)));
        assertTrue(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertEq(cfg.owner(), address(timelock));
        assertEq(treasury.owner(), address(timelock));
    }

    function testQuorumIsPercentOfTokenSupplyNotOfStake() public view {
        uint256 t = block.timestamp - 1;
        // dave's unstaked 70k count in the base, not in the votes
        assertEq(governor.quorum(t), (1_000_000e18 * QUORUM_PERCENT) / 100);
        assertEq(address(governor.quorumToken()), address(token));
        assertEq(governor.getVotes(dave, t), 0);
        assertEq(governor.getVotes(alice, t), 600_000e18);
    }

    function testUnstakeCooldownCoversVoteAndTimelock() public view {
        assertEq(
            governor.unstakeCooldown(), VOTING_DELAY + VOTING_PERIOD + LATE_QUORUM_EXTENSION + TIMELOCK_DELAY
        );
        assertEq(stake.cooldown(), governor.unstakeCooldown());
    }

    function testProposalQuorumFixedAtCreation() public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        uint256 fixedQuorum = governor.proposalQuorum(id);
        assertEq(fixedQuorum, 40_000e18);
        vm.prank(dave);
        token.burn(70_000e18); // the supply shrinks (a buyback burns) while the vote runs
        assertEq(governor.quorum(block.timestamp), (930_000e18 * QUORUM_PERCENT) / 100);
        assertEq(governor.proposalQuorum(id), fixedQuorum);
        uint256 later = _propose(alice, _priceChange(13_000), "q");
        assertEq(governor.proposalQuorum(later), (930_000e18 * QUORUM_PERCENT) / 100);
    }

    function testFuzzProposalQuorumIsShareOfSupply(uint256 burned) public {
        burned = bound(burned, 0, 70_000e18);
        vm.prank(dave);
        token.burn(burned);
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        assertEq(governor.proposalQuorum(id), ((1_000_000e18 - burned) * QUORUM_PERCENT) / 100);
    }

    /// Runs `data` on the governor through a whole proposal; returns the execution's revert data if any.
    function _govern(bytes memory data, string memory description)
        internal
        returns (bool ok, bytes memory err)
    {
        address[] memory t = new address[](1);
        t[0] = address(governor);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        c[0] = data;
        vm.prank(alice);
        uint256 id = governor.propose(t, v, c, description);
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        _toEnd(id);
        governor.queue(t, v, c, keccak256(bytes(description)));
        vm.warp(block.timestamp + TIMELOCK_DELAY);
        try governor.execute(t, v, c, keccak256(bytes(description))) {
            ok = true;
        } catch (bytes memory reason) {
            err = reason;
        }
    }

    function testGovernanceChangesQuorumNumeratorForLaterProposals() public {
        uint256 before = _propose(carol, _priceChange(11_000), "before");
        (bool ok,) = _govern(abi.encodeCall(governor.updateQuorumNumerator, (10)), "ten");
        assertTrue(ok);
        assertEq(governor.proposalQuorum(before), 40_000e18);
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        assertEq(governor.proposalQuorum(id), 100_000e18);
        (ok,) = _govern(abi.encodeCall(governor.updateQuorumNumerator, (0)), "zero");
        assertFalse(ok);
    }

    function testSettersOnlyGovernance() public {
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, address(this)));
        governor.setProposalThreshold(1);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, address(this)));
        governor.setLateQuorumVoteExtension(1);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, address(this)));
        governor.updateQuorumNumerator(1);
    }

    // ---------------------------------------------------------------- propose

    function testProposeRevertsBelowThreshold() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _proposal(_priceChange(12_000));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorInsufficientProposerVotes.selector, dave, 0, PROPOSAL_THRESHOLD
            )
        );
        vm.prank(dave);
        governor.propose(t, v, c, "price");
    }

    function testPropose() public {
        uint256 id = _propose(carol, _priceChange(12_000), "price");
        _expectState(id, IGovernor.ProposalState.Pending);
        assertEq(governor.proposalProposer(id), carol);
        assertEq(governor.proposalSnapshot(id), block.timestamp + VOTING_DELAY);
        assertEq(governor.proposalDeadline(id), block.timestamp + VOTING_DELAY + VOTING_PERIOD);
        assertTrue(governor.proposalNeedsQueuing(id));
    }

    // ---------------------------------------------------------------- full lifecycle

    function testLifecycleChangesConfig() public {
        bytes memory data = _priceChange(12_345);
        uint256 id = _propose(alice, data, "raise summarize price");
        _toVoting();
        _expectState(id, IGovernor.ProposalState.Active);
        vm.prank(alice);
        governor.castVote(id, FOR);
        vm.prank(bob);
        governor.castVote(id, AGAINST);
        vm.prank(carol);
        governor.castVote(id, ABSTAIN);
        (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(id);
        assertEq(forVotes, 600_000e18);
        assertEq(against, 300_000e18);
        assertEq(abstain, 30_000e18);

        _toEnd(id);
        _expectState(id, IGovernor.ProposalState.Succeeded);
        _queue(data, "raise summarize price");
        _expectState(id, IGovernor.ProposalState.Queued);
        assertEq(governor.proposalEta(id), block.timestamp + TIMELOCK_DELAY);

        vm.warp(block.timestamp + TIMELOCK_DELAY);
        vm.prank(makeAddr("anyone")); // executor role is open
        _execute(data, "raise summarize price");
        _expectState(id, IGovernor.ProposalState.Executed);
        assertEq(cfg.priceOf("summarize"), 12_345);
        assertEq(cfg.version(), 2);
    }

    function testGovernanceSpendsTreasuryReserve() public {
        usdc.mint(address(treasury), 1_000_000);
        treasury.distribute();
        uint256 reserve = treasury.reserveBalance();
        address grantee = makeAddr("grantee");
        address[] memory t = new address[](1);
        t[0] = address(treasury);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeCall(AgentTreasury.spendReserve, (grantee, reserve));
        vm.prank(alice);
        uint256 id = governor.propose(t, v, c, "grant");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        _toEnd(id);
        governor.queue(t, v, c, keccak256("grant"));
        vm.warp(block.timestamp + TIMELOCK_DELAY);
        governor.execute(t, v, c, keccak256("grant"));
        assertEq(usdc.balanceOf(grantee), reserve);
        assertEq(treasury.reserveBalance(), 0);
    }

    function testCastVoteRevertsTwice() public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        _toVoting();
        vm.startPrank(bob);
        governor.castVote(id, FOR);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorAlreadyCastVote.selector, bob));
        governor.castVote(id, FOR);
        vm.stopPrank();
    }

    function testCastVoteRevertsWhilePending() public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        vm.expectRevert();
        vm.prank(bob);
        governor.castVote(id, FOR);
    }

    function testStakeAfterSnapshotDoesNotCount() public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        _toVoting();
        vm.startPrank(dave);
        token.approve(address(stake), 70_000e18);
        stake.stake(70_000e18);
        governor.castVote(id, FOR);
        vm.stopPrank();
        (, uint256 forVotes,) = governor.proposalVotes(id);
        assertEq(forVotes, 0);
    }

    function testDefeatedByMajorityCannotQueue() public {
        bytes memory data = _priceChange(12_000);
        uint256 id = _propose(carol, data, "p");
        _toVoting();
        vm.prank(carol);
        governor.castVote(id, FOR);
        vm.prank(bob);
        governor.castVote(id, AGAINST);
        _toEnd(id);
        _expectState(id, IGovernor.ProposalState.Defeated);
        vm.expectRevert();
        _queue(data, "p");
        vm.expectRevert();
        _execute(data, "p");
        assertEq(cfg.version(), 1);
    }

    function testDefeatedWithoutQuorum() public {
        // carol alone: 30k FOR < 4 % of 930k (37.2k)
        uint256 id = _propose(carol, _priceChange(12_000), "p");
        _toVoting();
        vm.prank(carol);
        governor.castVote(id, FOR);
        _toEnd(id);
        assertFalse(governor.quorum(governor.proposalSnapshot(id)) <= 30_000e18);
        _expectState(id, IGovernor.ProposalState.Defeated);
    }

    function testExecuteRevertsUnqueued() public {
        bytes memory data = _priceChange(12_000);
        uint256 id = _propose(alice, data, "p");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        _toEnd(id);
        vm.expectRevert();
        _execute(data, "p");
        assertEq(cfg.version(), 1);
    }

    function testExecuteRevertsBeforeTimelockDelay() public {
        bytes memory data = _priceChange(12_000);
        uint256 id = _propose(alice, data, "p");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        _toEnd(id);
        _queue(data, "p");
        vm.warp(block.timestamp + TIMELOCK_DELAY - 1);
        vm.expectRevert();
        _execute(data, "p");
    }

    function testQueueRevertsWhileActive() public {
        bytes memory data = _priceChange(12_000);
        uint256 id = _propose(alice, data, "p");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        vm.expectRevert();
        _queue(data, "p");
        _expectState(id, IGovernor.ProposalState.Active);
    }

    function testTimelockRefusesDirectProposals() public {
        vm.expectRevert();
        vm.prank(alice);
        timelock.schedule(address(cfg), 0, _priceChange(12_000), bytes32(0), bytes32(0), TIMELOCK_DELAY);
    }

    function testInvalidConfigChangeFailsAtExecution() public {
        bytes memory data = _priceChange(0); // below the price floor
        uint256 id = _propose(alice, data, "bad");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        _toEnd(id);
        _queue(data, "bad");
        vm.warp(block.timestamp + TIMELOCK_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(AgentConfig.AgentConfigPriceOutOfBand.selector, "summarize", 0)
        );
        _execute(data, "bad");
        _expectState(id, IGovernor.ProposalState.Queued);
    }

    function testCancelByProposerWhilePending() public {
        bytes memory data = _priceChange(12_000);
        uint256 id = _propose(alice, data, "p");
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _proposal(data);
        vm.prank(alice);
        governor.cancel(t, v, c, keccak256("p"));
        _expectState(id, IGovernor.ProposalState.Canceled);
    }

    function testEarlyQuorumDoesNotExtend() public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        uint256 deadline = governor.proposalDeadline(id);
        _toVoting();
        vm.recordLogs();
        vm.prank(bob);
        governor.castVote(id, FOR);
        assertEq(governor.proposalDeadline(id), deadline);
        vm.warp(deadline); // a vote in the window after quorum was reached early extends nothing
        vm.prank(alice);
        governor.castVote(id, AGAINST);
        assertEq(governor.proposalDeadline(id), deadline);
    }

    function testLateQuorumBelowQuorumDoesNotExtend() public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        uint256 deadline = governor.proposalDeadline(id);
        vm.warp(deadline);
        vm.prank(carol); // 30k < 40k
        governor.castVote(id, FOR);
        assertEq(governor.proposalDeadline(id), deadline);
    }

    function testFuzzLateQuorumExtendsOnlyInTheWindow(uint256 when) public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        uint256 start = governor.proposalSnapshot(id) + 1;
        uint256 deadline = governor.proposalDeadline(id);
        when = bound(when, start, deadline);
        vm.warp(when);
        vm.prank(bob);
        governor.castVote(id, FOR);
        uint256 expected = when + LATE_QUORUM_EXTENSION > deadline ? when + LATE_QUORUM_EXTENSION : deadline;
        assertEq(governor.proposalDeadline(id), expected);
    }

    function testSetLateQuorumVoteExtensionBounded() public {
        (bool ok,) = _govern(abi.encodeCall(governor.setLateQuorumVoteExtension, (2 days)), "two days");
        assertTrue(ok);
        assertEq(governor.lateQuorumVoteExtension(), 2 days);
        assertEq(governor.unstakeCooldown(), VOTING_DELAY + VOTING_PERIOD + 2 days + TIMELOCK_DELAY);
        bytes memory err;
        (ok, err) = _govern(abi.encodeCall(governor.setLateQuorumVoteExtension, (VOTING_PERIOD + 1)), "long");
        assertFalse(ok);
        assertEq(
            err,
            abi.encodeWithSignature(
                "GovernorLateQuorumExtensionTooLarge(uint256,uint256)", VOTING_PERIOD + 1, VOTING_PERIOD
            )
        );
    }

    function testLateQuorumExtendsDeadline() public {
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        uint256 deadline = governor.proposalDeadline(id);
        vm.warp(deadline); // the last second of voting
        vm.prank(bob);
        governor.castVote(id, FOR);
        assertEq(governor.proposalDeadline(id), deadline + LATE_QUORUM_EXTENSION);
        vm.warp(deadline + 1);
        vm.prank(carol); // a second vote in the window extends nothing more
        governor.castVote(id, FOR);
        assertEq(governor.proposalDeadline(id), deadline + LATE_QUORUM_EXTENSION);
        _expectState(id, IGovernor.ProposalState.Active);
        vm.prank(alice);
        governor.castVote(id, AGAINST);
        vm.warp(deadline + LATE_QUORUM_EXTENSION + 1);
        _expectState(id, IGovernor.ProposalState.Defeated);
    }

    function testGovernanceCannotSetZeroThreshold() public {
        address[] memory t = new address[](1);
        t[0] = address(governor);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeCall(governor.setProposalThreshold, (0));
        vm.prank(alice);
        uint256 id = governor.propose(t, v, c, "zero");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        _toEnd(id);
        governor.queue(t, v, c, keccak256("zero"));
        vm.warp(block.timestamp + TIMELOCK_DELAY);
        vm.expectRevert(AgentGovernor.AgentGovernorZeroProposalThreshold.selector);
        governor.execute(t, v, c, keccak256("zero"));
        assertEq(governor.proposalThreshold(), PROPOSAL_THRESHOLD);
    }

    function testGovernanceCanChangeThreshold() public {
        address[] memory t = new address[](1);
        t[0] = address(governor);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeCall(governor.setProposalThreshold, (5));
        vm.prank(alice);
        uint256 id = governor.propose(t, v, c, "five");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, FOR);
        _toEnd(id);
        governor.queue(t, v, c, keccak256("five"));
        vm.warp(block.timestamp + TIMELOCK_DELAY);
        governor.execute(t, v, c, keccak256("five"));
        assertEq(governor.proposalThreshold(), 5);
    }

    function testFuzzVoteOutcome(uint8 aliceSupport, uint8 bobSupport, uint8 carolSupport) public {
        aliceSupport %= 3;
        bobSupport %= 3;
        carolSupport %= 3;
        uint256 id = _propose(alice, _priceChange(12_000), "p");
        _toVoting();
        vm.prank(alice);
        governor.castVote(id, aliceSupport);
        vm.prank(bob);
        governor.castVote(id, bobSupport);
        vm.prank(carol);
        governor.castVote(id, carolSupport);
        _toEnd(id);
        (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(id);
        bool quorate = forVotes + abstain >= governor.quorum(governor.proposalSnapshot(id));
        bool passes = quorate && forVotes > against;
        _expectState(id, passes ? IGovernor.ProposalState.Succeeded : IGovernor.ProposalState.Defeated);
    }

    function testTimelockIsTimelockController() public view {
        assertEq(TimelockController(payable(address(timelock))).getMinDelay(), TIMELOCK_DELAY);
    }
}
