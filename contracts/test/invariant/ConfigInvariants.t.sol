// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentRegistry} from "../../src/AgentRegistry.sol";
import {AgentPartMock, StakePartMock} from "../mocks/AgentPartMock.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";
import {ConfigAdversaryHandler} from "./handlers/ConfigAdversaryHandler.sol";

/// @notice Random writes: valid and invalid ones by the owner, a guardian pause, and any write by strangers.
contract ConfigHandler is Test {
    AgentConfig internal cfg;
    address internal owner;
    address[] internal strangers;

    uint256 public ghostWrites; // successful writes
    uint256 public ghostUnauthorizedWrites; // writes that succeeded from someone who is not the owner
    uint64 public ghostLastVersion = 1;
    bool public ghostVersionWentDown;

    constructor(AgentConfig cfg_, address[] memory strangers_) {
        cfg = cfg_;
        owner = cfg_.owner();
        strangers = strangers_;
    }

    modifier trackVersion() {
        _;
        uint64 v = cfg.version();
        if (v < ghostLastVersion) ghostVersionWentDown = true;
        ghostLastVersion = v;
    }

    function _name(uint256 seed) internal pure returns (string memory) {
        // a pool larger than 32 so the skill cap is reached
        return string(abi.encodePacked("skill-", bytes1(uint8(65 + (seed % 40)))));
    }

    function _price(uint256 price) internal pure returns (uint256) {
        return _bound(price, ConfigFixture.FLOOR - 1, ConfigFixture.CEILING + 1);
    }

    function _write(address caller, uint256 op, uint256 a, uint256 b) internal returns (bool ok) {
        bytes memory data;
        op %= 12;
        if (op == 0) {
            data = abi.encodeCall(AgentConfig.setSkillPrice, (_name(a), _price(b)));
        } else if (op == 1) {
            data = abi.encodeCall(AgentConfig.setSkill, (AgentConfig.Skill(_name(a), "do it", _price(b))));
        } else if (op == 2) {
            data = abi.encodeCall(AgentConfig.removeSkill, (_name(a)));
        } else if (op == 3) {
            data = abi.encodeCall(AgentConfig.setTemperature, (uint16(_bound(a, 0, 260))));
        } else if (op == 4) {
            data = abi.encodeCall(AgentConfig.setSystemPrompt, (ConfigFixture.repeat("p", _bound(a, 0, 300))));
        } else if (op == 5) {
            data = abi.encodeCall(AgentConfig.setModel, (ConfigFixture.repeat("m", _bound(a, 0, 140))));
        } else if (op == 6) {
            data = abi.encodeCall(AgentConfig.setSplit, (_split(a, b)));
        } else if (op == 7) {
            data = abi.encodeCall(AgentConfig.setHireBudget, (b));
        } else if (op == 8) {
            data = abi.encodeCall(AgentConfig.setPaused, (a % 2 == 0));
        } else if (op == 9) {
            data = abi.encodeCall(AgentConfig.setGuardian, (strangers[a % strangers.length]));
        } else if (op == 10) {
            data = abi.encodeCall(AgentConfig.setConfig, (_config(a, b)));
        } else {
            data = abi.encodeCall(AgentConfig.pause, ());
        }
        vm.prank(caller);
        (ok,) = address(cfg).call(data);
    }

    function _split(uint256 a, uint256 b) internal pure returns (AgentConfig.Split memory s) {
        s.stakersBps = uint16(_bound(a, 0, 10_000));
        s.operatorBps = uint16(_bound(b, 0, 10_000 - s.stakersBps));
        s.buybackBps = uint16((a >> 16) % (10_001 - uint256(s.stakersBps) - s.operatorBps));
        // one in four is off by one, to exercise the guardrail
        uint256 off = (b >> 16) % 4 == 0 ? 1 : 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        s.reserveBps = uint16(10_000 + off - s.stakersBps - s.operatorBps - s.buybackBps);
    }

    function _config(uint256 a, uint256 b) internal pure returns (AgentConfig.Config memory c) {
        c = ConfigFixture.defaultConfig();
        c.skills = ConfigFixture.skills(_bound(a, 0, 34), _price(b));
        // forge-lint: disable-next-line(unsafe-typecast)
        c.temperature = uint16(b % 210);
    }

    function ownerWrite(uint256 op, uint256 a, uint256 b) external trackVersion {
        if (_write(owner, op, a, b)) ghostWrites++;
    }

    function strangerWrite(uint256 actorSeed, uint256 op, uint256 a, uint256 b) external trackVersion {
        address caller = strangers[actorSeed % strangers.length];
        bool isGuardian = caller == cfg.guardian();
        bool ok = _write(caller, op, a, b);
        if (!ok) return;
        // the guardian's pause is the one write allowed to someone who is not the owner
        if (isGuardian && op % 12 == 11) ghostWrites++;
        else ghostUnauthorizedWrites++;
    }
}

contract ConfigInvariantTest is Test {
    AgentConfig internal cfg;
    ConfigHandler internal handler;

    function setUp() public {
        address timelock = makeAddr("timelock");
        address[] memory strangers = new address[](4);
        strangers[0] = makeAddr("guardian");
        strangers[1] = makeAddr("deployer");
        strangers[2] = makeAddr("stranger");
        strangers[3] = address(this);
        cfg = new AgentConfig(
            timelock, strangers[0], ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        handler = new ConfigHandler(cfg, strangers);
        targetContract(address(handler));
    }

    function invariantOnlyOwnerWrites() public view {
        assertEq(handler.ghostUnauthorizedWrites(), 0);
    }

    function invariantVersionCountsWrites() public view {
        assertEq(cfg.version(), 1 + handler.ghostWrites());
        assertFalse(handler.ghostVersionWentDown());
    }

    function invariantHashMatchesConfig() public view {
        bytes32 content = keccak256(abi.encode(cfg.config()));
        assertEq(cfg.contentHash(), content);
        assertEq(cfg.configHash(), keccak256(abi.encode(content, cfg.paused())));
    }

    function invariantGuardrailsHold() public view {
        AgentConfig.Config memory c = cfg.config();
        assertGt(bytes(c.systemPrompt).length, 0);
        assertLe(bytes(c.systemPrompt).length, 8192);
        assertGt(bytes(c.model).length, 0);
        assertLe(bytes(c.model).length, 128);
        assertLe(c.temperature, 200);
        assertEq(
            uint256(c.split.stakersBps) + c.split.operatorBps + c.split.buybackBps + c.split.reserveBps,
            10_000
        );
        assertGe(c.skills.length, 1);
        assertLe(c.skills.length, 32);
        for (uint256 i; i < c.skills.length; ++i) {
            assertGe(c.skills[i].price, cfg.priceFloor());
            assertLe(c.skills[i].price, cfg.priceCeiling());
            // the name index and the list agree (and names are unique, or priceOf would disagree)
            assertEq(cfg.priceOf(c.skills[i].name), c.skills[i].price);
            for (uint256 j; j < i; ++j) {
                assertTrue(keccak256(bytes(c.skills[i].name)) != keccak256(bytes(c.skills[j].name)));
            }
        }
    }

    function invariantOwnerNeverChanges() public {
        assertEq(cfg.owner(), makeAddr("timelock"));
    }
}

/// @notice A guardian pausing at random amid governance growing the config to its maximum and shrinking it, and a
/// squatter trying to register the agent's name or addresses.
contract ConfigAdversarialInvariantTest is Test {
    AgentConfig internal cfg;
    AgentRegistry internal registry;
    ConfigAdversaryHandler internal handler;
    address internal timelock = makeAddr("timelock");
    AgentRegistry.Agent internal agent;

    function setUp() public {
        cfg = new AgentConfig(
            timelock,
            makeAddr("guardian"),
            ConfigFixture.FLOOR,
            ConfigFixture.CEILING,
            ConfigFixture.defaultConfig()
        );
        registry = new AgentRegistry();
        agent = AgentRegistry.Agent({
            token: makeAddr("token"),
            stake: address(new StakePartMock(timelock, makeAddr("token"))),
            governor: address(new AgentPartMock(timelock)),
            timelock: timelock,
            config: address(cfg),
            treasury: address(new AgentPartMock(timelock))
        });
        vm.prank(timelock);
        registry.register("writer", agent, "ipfs://writer");
        handler = new ConfigAdversaryHandler(cfg, registry, "writer", makeAddr("squatter"));
        targetContract(address(handler));
    }

    function invariant_versionStepsByOnePerWrite() public view {
        assertFalse(handler.ghostVersionMisstep());
        assertEq(cfg.version(), 1 + handler.ghostWrites());
    }

    function invariant_configHashCoversContentAndPause() public view {
        bytes32 content = keccak256(abi.encode(cfg.config()));
        assertEq(cfg.contentHash(), content);
        assertEq(cfg.configHash(), keccak256(abi.encode(content, cfg.paused())));
    }

    function invariant_pauseGasBounded() public view {
        assertLt(handler.ghostMaxPauseGas(), 60_000);
    }

    function invariant_shrinkFitsInOneTransaction() public view {
        assertLt(handler.ghostMaxShrinkGas(), 16_000_000);
    }

    function invariant_squatterNeverRegisters() public view {
        assertEq(handler.ghostSquats(), 0);
        assertEq(registry.nameCount(), 1);
        assertEq(keccak256(abi.encode(registry.agentOf("writer"))), keccak256(abi.encode(agent)));
        assertEq(registry.nameOf(handler.squatter()), "");
    }

    /// The run really paused, grew, shrank and squatted: the invariants above were not checked on an idle config.
    function afterInvariant() public view {
        assertGt(handler.ghostPauses(), 0, "no pause");
        assertGt(handler.ghostContentWrites(), 0, "no content write");
        assertGt(handler.ghostShrinks(), 0, "no shrink");
        assertGt(handler.ghostSquatAttempts(), 0, "no squat attempt");
        assertGt(handler.ghostMaxSkills(), 2, "the config never grew");
    }
}
