// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {AgentConfig} from "../../../src/AgentConfig.sol";
import {AgentRegistry} from "../../../src/AgentRegistry.sol";
import {AgentPartMock} from "../../mocks/AgentPartMock.sol";
import {ConfigFixture} from "../../utils/ConfigFixture.sol";

/// @dev `cool` exists in forge but not in the vendored forge-std Vm interface.
interface VmCoolTarget {
    function cool(address target) external;
}

/// Adversaries around one registered agent: governance growing the config toward its maximum and shrinking it
/// again, a guardian pausing at random amid those writes, and a squatter trying to register the agent's name
/// or addresses. Records the gas each pause and shrink would cost a transaction, and every version step.
contract ConfigAdversaryHandler is CommonBase, StdCheats, StdUtils {
    AgentConfig public immutable cfg;
    AgentRegistry public immutable registry;
    address public immutable timelock;
    address public immutable guardian;
    address public immutable squatter;
    string public agentName;

    /// Successful writes of any kind (content, pause, resume).
    uint256 public ghostWrites;
    /// Guardian pauses and owner setPaused calls that succeeded.
    uint256 public ghostPauses;
    /// Content writes by governance that succeeded.
    uint256 public ghostContentWrites;
    /// Shrinks of the config by setConfig that succeeded.
    uint256 public ghostShrinks;
    /// Most gas any pause or setPaused cost (a whole transaction: 21k base and calldata included).
    uint256 public ghostMaxPauseGas;
    /// Most gas any shrinking setConfig cost.
    uint256 public ghostMaxShrinkGas;
    /// Largest skill count seen, to show the config really grew.
    uint256 public ghostMaxSkills;
    /// Set when a write moved the version by anything but one.
    bool public ghostVersionMisstep;
    /// Registrations the squatter tried, and those that succeeded.
    uint256 public ghostSquatAttempts;
    uint256 public ghostSquats;
    uint256 private _shrinkCalls;

    constructor(AgentConfig cfg_, AgentRegistry registry_, string memory agentName_, address squatter_) {
        cfg = cfg_;
        registry = registry_;
        timelock = cfg_.owner();
        guardian = cfg_.guardian();
        agentName = agentName_;
        squatter = squatter_;
    }

    function _call(address caller, bytes memory data) private returns (bool ok, uint256 gasUsed) {
        uint64 before = cfg.version();
        VmCoolTarget(address(vm)).cool(address(cfg));
        vm.prank(caller);
        uint256 start = gasleft();
        (ok,) = address(cfg).call(data);
        gasUsed = start - gasleft() + _intrinsic(data);
        uint64 next = cfg.version();
        if (ok) {
            ghostWrites++;
            if (next != before + 1) ghostVersionMisstep = true;
        } else if (next != before) {
            ghostVersionMisstep = true;
        }
    }

    function _intrinsic(bytes memory data) private pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    function _recordPause(bool ok, uint256 gasUsed) private {
        if (!ok) return;
        ghostPauses++;
        if (gasUsed > ghostMaxPauseGas) ghostMaxPauseGas = gasUsed;
    }

    // ---------------------------------------------------------------- guardian and governance

    /// The guardian stops the agent, whatever the config's size.
    function guardianPause() external {
        (bool ok, uint256 gasUsed) = _call(guardian, abi.encodeCall(AgentConfig.pause, ()));
        _recordPause(ok, gasUsed);
    }

    /// Governance resumes (or pauses) the agent.
    function ownerSetPaused(bool paused) external {
        (bool ok, uint256 gasUsed) = _call(timelock, abi.encodeCall(AgentConfig.setPaused, (paused)));
        _recordPause(ok, gasUsed);
    }

    /// Governance grows the config: a long prompt, or a long skill (up to the 32-skill cap).
    function governanceGrow(uint256 seed) external {
        bytes memory data;
        if (seed % 3 == 0) {
            data = abi.encodeCall(
                AgentConfig.setSystemPrompt, (ConfigFixture.repeat("p", _bound(seed >> 8, 1, 8192)))
            );
        } else {
            data = abi.encodeCall(AgentConfig.setSkill, (ConfigFixture.maxSkill((seed >> 8) % 32)));
        }
        (bool ok,) = _call(timelock, data);
        if (ok) ghostContentWrites++;
        uint256 skills = cfg.config().skills.length;
        if (skills > ghostMaxSkills) ghostMaxSkills = skills;
    }

    /// Governance replaces the whole config by a small one, in one transaction.
    function governanceShrink(uint256 seed) external {
        // every other call only, so runs reach large configs before shrinking them
        if (++_shrinkCalls % 2 == 1) return;
        AgentConfig.Config memory c = ConfigFixture.defaultConfig();
        // forge-lint: disable-next-line(unsafe-typecast)
        c.temperature = uint16(seed % 201);
        c.hireBudget = seed;
        (bool ok, uint256 gasUsed) = _call(timelock, abi.encodeCall(AgentConfig.setConfig, (c)));
        if (!ok) return;
        ghostContentWrites++;
        ghostShrinks++;
        if (gasUsed > ghostMaxShrinkGas) ghostMaxShrinkGas = gasUsed;
    }

    // ---------------------------------------------------------------- squatter

    /// The squatter tries to register the agent's name or addresses, in one of four disguises.
    function squat(uint256 seed, string calldata otherName) external {
        AgentRegistry.Agent memory real = registry.agentOf(agentName);
        AgentRegistry.Agent memory fake = real;
        string memory name = seed % 2 == 0 ? agentName : string.concat(agentName, "-", otherName);
        address caller = squatter;
        uint256 disguise = (seed >> 1) % 4;
        if (disguise == 0) {
            // the real set with a fake payTo, sent by the squatter
            fake.treasury = address(new AgentPartMock(real.timelock));
        } else if (disguise == 1) {
            // the squatter names itself the timelock, keeping the real governor and config
            fake.timelock = squatter;
            fake.treasury = address(new AgentPartMock(squatter));
        } else if (disguise == 2) {
            // an entire set of its own, but with the real token and stake (the token alone is claimed by no
            // record; the real stake answers the real timelock)
            fake.timelock = squatter;
            fake.governor = address(new AgentPartMock(squatter));
            fake.config = address(new AgentPartMock(squatter));
            fake.treasury = address(new AgentPartMock(squatter));
        } else {
            // the real timelock's address as caller is out of reach; a fresh look-alike with the real config
            fake.timelock = address(new AgentPartMock(squatter));
            caller = fake.timelock;
            fake.governor = address(new AgentPartMock(fake.timelock));
        }
        ghostSquatAttempts++;
        vm.prank(caller);
        try registry.register(name, fake, "ipfs://squat") {
            ghostSquats++;
        } catch {}
    }
}
