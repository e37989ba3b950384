// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentGovernor} from "../../src/AgentGovernor.sol";
import {AgentDeployment} from "../utils/AgentDeployment.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";

/// @notice Proposes config changes, votes at random, moves time, queues and executes.
contract GovernanceHandler is Test {
    enum Kind {
        Price,
        Temperature,
        Split
    }

    struct Proposal {
        uint256 id;
        Kind kind;
        uint256 value;
        AgentConfig.Split split;
        bytes data;
        bytes32 descriptionHash;
    }

    AgentGovernor internal governor;
    AgentConfig internal cfg;
    address[] internal voters;
    Proposal[] internal proposals;

    mapping(uint256 id => bool) public ghostQueued;
    mapping(uint256 id => bool) public ghostExecuted;
    uint256 public ghostExecutedWrites;
    uint256 public ghostBadExecutions; // executed while not queued, or queued while not succeeded
    uint256 public ghostMismatches; // executed but the config does not show the proposed change
    uint256 public ghostProposed;
    uint256 public ghostVotes;
    uint256 public ghostQueues;
    /// @dev A call that the rules allow but that reverted: the handler swallows only the reverts the
    /// rules call for, so a broken governor cannot hide behind `try`.
    uint256 public ghostUnexpectedReverts;

    constructor(AgentGovernor governor_, AgentConfig cfg_, address[] memory voters_) {
        governor = governor_;
        cfg = cfg_;
        voters = voters_;
    }

    function proposalCount() external view returns (uint256) {
        return proposals.length;
    }

    function proposalId(uint256 i) external view returns (uint256) {
        return proposals[i].id;
    }

    function _target() internal view returns (address[] memory t, uint256[] memory v, bytes[] memory c) {
        t = new address[](1);
        t[0] = address(cfg);
        v = new uint256[](1);
        c = new bytes[](1);
    }

    /// @dev Mostly the newest proposals, so whole lifecycles happen within one run.
    function _pick(uint256 seed) internal view returns (Proposal storage) {
        uint256 n = proposals.length;
        uint256 back = seed % 4 == 0 ? (seed >> 8) % n : 0;
        return proposals[n - 1 - back];
    }

    function propose(uint256 proposerSeed, uint256 kindSeed, uint256 value) external {
        // mostly one live proposal at a time, so that whole lifecycles fit in a run
        if (proposals.length != 0 && _live(proposals[proposals.length - 1].id) && kindSeed % 8 != 0) return;
        Proposal memory p;
        p.kind = Kind(kindSeed % 3);
        if (p.kind == Kind.Price) {
            // one in eight is out of the band: it passes the vote but its execution must fail
            p.value = value % 8 == 0 ? 0 : _bound(value, ConfigFixture.FLOOR, ConfigFixture.CEILING);
            p.data = abi.encodeCall(AgentConfig.setSkillPrice, ("summarize", p.value));
        } else if (p.kind == Kind.Temperature) {
            p.value = _bound(value, 0, 200);
            p.data = abi.encodeCall(AgentConfig.setTemperature, (uint16(p.value)));
        } else {
            uint16 a = uint16(_bound(value, 0, 10_000));
            uint16 b = uint16((value >> 32) % (10_001 - uint256(a)));
            p.split = AgentConfig.Split(a, b, 0, 10_000 - a - b);
            p.data = abi.encodeCall(AgentConfig.setSplit, (p.split));
        }
        string memory description = string(abi.encodePacked("proposal #", vm.toString(proposals.length)));
        p.descriptionHash = keccak256(bytes(description));
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _target();
        c[0] = p.data;
        address proposer = voters[proposerSeed % voters.length];
        bool allowed = governor.getVotes(proposer, block.timestamp - 1) >= governor.proposalThreshold();
        vm.prank(proposer);
        try governor.propose(t, v, c, description) returns (uint256 id) {
            p.id = id;
            proposals.push(p);
            ghostProposed++;
        } catch {
            if (allowed) ghostUnexpectedReverts++;
        }
    }

    function _live(uint256 id) internal view returns (bool) {
        IGovernor.ProposalState s = governor.state(id);
        return s == IGovernor.ProposalState.Pending || s == IGovernor.ProposalState.Active
            || s == IGovernor.ProposalState.Succeeded || s == IGovernor.ProposalState.Queued;
    }

    function vote(uint256 proposalSeed, uint256 voterSeed, uint8 support) external {
        if (proposals.length == 0) return;
        uint256 id = _pick(proposalSeed).id;
        // FOR twice as often as AGAINST or ABSTAIN, so that some proposals pass
        uint8 choice = support % 4 == 3 ? 1 : support % 4;
        address voter = voters[voterSeed % voters.length];
        bool allowed = governor.state(id) == IGovernor.ProposalState.Active && !governor.hasVoted(id, voter);
        vm.prank(voter);
        try governor.castVote(id, choice) {
            ghostVotes++;
        } catch {
            if (allowed) ghostUnexpectedReverts++;
        }
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + _bound(secs, 1 minutes, 3 days));
    }

    function queue(uint256 proposalSeed) external {
        if (proposals.length == 0) return;
        Proposal storage p = _pick(proposalSeed);
        IGovernor.ProposalState before = governor.state(p.id);
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _target();
        c[0] = p.data;
        try governor.queue(t, v, c, p.descriptionHash) {
            if (before != IGovernor.ProposalState.Succeeded) ghostBadExecutions++;
            ghostQueued[p.id] = true;
            ghostQueues++;
        } catch {
            if (before == IGovernor.ProposalState.Succeeded) ghostUnexpectedReverts++;
        }
    }

    function execute(uint256 proposalSeed) external {
        if (proposals.length == 0) return;
        Proposal storage p = _pick(proposalSeed);
        IGovernor.ProposalState before = governor.state(p.id);
        uint64 versionBefore = cfg.version();
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _target();
        c[0] = p.data;
        // due and within the guardrails: the timelock must run it (an out-of-band price must not)
        bool allowed = before == IGovernor.ProposalState.Queued
            && block.timestamp >= governor.proposalEta(p.id) && !(p.kind == Kind.Price && p.value == 0);
        try governor.execute(t, v, c, p.descriptionHash) {
            if (before != IGovernor.ProposalState.Queued || !ghostQueued[p.id]) ghostBadExecutions++;
            ghostExecuted[p.id] = true;
            ghostExecutedWrites++;
            if (cfg.version() != versionBefore + 1 || !_applied(p)) ghostMismatches++;
        } catch {
            if (allowed) ghostUnexpectedReverts++;
        }
    }

    /// @notice Walks one in-band price change through its whole life (propose, every holder votes
    /// for, queue, execute), for runs whose random walk never got a proposal to execution.
    function runOneLifecycle() external {
        // kind seed 0: a price change, proposed even while another proposal is live; a value the
        // handler never reads as out of band (those are the multiples of 8)
        uint256 value = ConfigFixture.FLOOR + 1 + proposals.length;
        if (value % 8 == 0) value++;
        this.propose(0, 0, value);
        Proposal storage p = proposals[proposals.length - 1];
        vm.warp(governor.proposalSnapshot(p.id) + 1);
        for (uint256 i; i < voters.length; ++i) {
            this.vote(1, i, 1); // proposal seed 1: the newest
        }
        vm.warp(governor.proposalDeadline(p.id) + 1);
        this.queue(0);
        vm.warp(governor.proposalEta(p.id) + 1);
        this.execute(0);
    }

    function _applied(Proposal storage p) internal view returns (bool) {
        AgentConfig.Config memory c = cfg.config();
        if (p.kind == Kind.Price) return cfg.priceOf("summarize") == p.value;
        if (p.kind == Kind.Temperature) return c.temperature == p.value;
        return keccak256(abi.encode(c.split)) == keccak256(abi.encode(p.split));
    }
}

contract GovernanceInvariantTest is AgentDeployment {
    GovernanceHandler internal handler;

    function setUp() public {
        address[] memory holders = new address[](4);
        uint256[] memory amounts = new uint256[](4);
        for (uint256 i; i < 4; ++i) {
            holders[i] = makeAddr(string(abi.encodePacked("holder", vm.toString(i))));
        }
        amounts[0] = 400_000e18;
        amounts[1] = 300_000e18;
        amounts[2] = 200_000e18;
        amounts[3] = 100_000e18;
        _deployAgent(holders, amounts);
        _stakeAll(holders);
        vm.warp(block.timestamp + 1);
        handler = new GovernanceHandler(governor, cfg, holders);
        targetContract(address(handler));
    }

    function invariantNoExecutionWithoutQueue() public view {
        assertEq(handler.ghostBadExecutions(), 0);
    }

    function invariantExecutedProposalsChangedConfig() public view {
        assertEq(handler.ghostMismatches(), 0);
    }

    function invariantVersionCountsExecutedWrites() public view {
        assertEq(cfg.version(), 1 + handler.ghostExecutedWrites());
    }

    /// A proposal the governor reports executed went through the queue; a defeated one never ran.
    function invariantProposalStatesAgreeWithGhosts() public view {
        uint256 n = handler.proposalCount();
        for (uint256 i; i < n; ++i) {
            uint256 id = handler.proposalId(i);
            IGovernor.ProposalState s = governor.state(id);
            if (s == IGovernor.ProposalState.Executed) {
                assertTrue(handler.ghostQueued(id) && handler.ghostExecuted(id));
            } else {
                assertFalse(handler.ghostExecuted(id));
            }
            if (s == IGovernor.ProposalState.Defeated) assertFalse(handler.ghostQueued(id));
        }
    }

    function invariantNoAllowedCallReverted() public view {
        assertEq(handler.ghostUnexpectedReverts(), 0);
    }

    /// @notice Every run really governed: proposals were made and voted on, and at least one went
    /// all the way to execution (driven at the end when the random walk did not get there).
    function afterInvariant() external {
        if (handler.ghostExecutedWrites() == 0) {
            uint256 executed = handler.ghostExecutedWrites();
            handler.runOneLifecycle();
            assertEq(handler.ghostExecutedWrites(), executed + 1, "a full lifecycle did not execute");
        }
        assertGt(handler.ghostProposed(), 0, "no proposal was made");
        assertGt(handler.ghostVotes(), 0, "no vote was cast");
        assertGt(handler.ghostQueues(), 0, "nothing was queued");
        assertEq(handler.ghostUnexpectedReverts(), 0);
        assertEq(handler.ghostBadExecutions(), 0);
        assertEq(handler.ghostMismatches(), 0);
        assertEq(cfg.version(), 1 + handler.ghostExecutedWrites());
    }

    function invariantTimelockOwnsConfig() public view {
        assertEq(cfg.owner(), address(timelock));
        assertGt(governor.proposalThreshold(), 0);
    }
}
