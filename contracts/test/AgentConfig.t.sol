// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test, Vm} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AgentConfig} from "../src/AgentConfig.sol";
import {ConfigFixture} from "./utils/ConfigFixture.sol";

contract AgentConfigTest is Test {
    event ConfigUpdated(uint64 indexed version, bytes32 indexed configHash, AgentConfig.Config config);
    event GuardianChanged(address indexed previousGuardian, address indexed newGuardian);
    event PauseChanged(uint64 indexed version, bytes32 indexed configHash, bool paused);

    address internal timelock = makeAddr("timelock");
    address internal guardian = makeAddr("guardian");
    address internal stranger = makeAddr("stranger");
    AgentConfig internal cfg;

    function setUp() public {
        cfg = new AgentConfig(timelock, guardian, ConfigFixture.FLOOR, ConfigFixture.CEILING, _default());
    }

    function _default() internal pure returns (AgentConfig.Config memory) {
        return ConfigFixture.defaultConfig();
    }

    function _deploy(AgentConfig.Config memory c) internal returns (AgentConfig) {
        return new AgentConfig(timelock, guardian, ConfigFixture.FLOOR, ConfigFixture.CEILING, c);
    }

    /// @dev Checks the last ConfigUpdated log: version, hash topic, and that its payload is the stored config.
    function _assertCommitted(uint64 expectedVersion) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 sig = ConfigUpdated.selector;
        uint256 found;
        for (uint256 i = logs.length; i > 0; --i) {
            if (logs[i - 1].topics[0] == sig) {
                found = i;
                break;
            }
        }
        assertTrue(found != 0, "no ConfigUpdated");
        Vm.Log memory log = logs[found - 1];
        AgentConfig.Config memory emitted = abi.decode(log.data, (AgentConfig.Config));
        bytes32 content = keccak256(abi.encode(emitted));
        bytes32 hash = _hash(content, cfg.paused());
        assertEq(uint256(log.topics[1]), expectedVersion, "topic version");
        assertEq(log.topics[2], hash, "topic hash");
        assertEq(cfg.version(), expectedVersion, "version");
        assertEq(cfg.configHash(), hash, "stored hash");
        assertEq(cfg.contentHash(), content, "content hash");
        assertEq(keccak256(abi.encode(cfg.config())), content, "config() hash");
    }

    function _hash(bytes32 content, bool paused) internal pure returns (bytes32) {
        return keccak256(abi.encode(content, paused));
    }

    function _hashOf(AgentConfig.Config memory c, bool paused) internal pure returns (bytes32) {
        return _hash(keccak256(abi.encode(c)), paused);
    }

    // ---------------------------------------------------------------- constructor

    function testConstructorStoresVersionOne() public view {
        assertEq(cfg.owner(), timelock);
        assertEq(cfg.guardian(), guardian);
        assertEq(cfg.priceFloor(), ConfigFixture.FLOOR);
        assertEq(cfg.priceCeiling(), ConfigFixture.CEILING);
        assertEq(cfg.version(), 1);
        assertEq(keccak256(abi.encode(cfg.config())), keccak256(abi.encode(_default())));
        assertEq(cfg.contentHash(), keccak256(abi.encode(_default())));
        assertEq(cfg.configHash(), _hashOf(_default(), false));
        assertFalse(cfg.paused());
        assertEq(cfg.treasury(), address(0));
    }

    function testConstructorEmitsVersionOne() public {
        AgentConfig.Config memory c = _default();
        vm.expectEmit(true, true, false, true);
        emit ConfigUpdated(1, _hashOf(c, false), c);
        _deploy(c);
    }

    function testConstructorDeployerDoesNotOwn() public view {
        assertTrue(cfg.owner() != address(this));
    }

    function testConstructorRevertsZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new AgentConfig(address(0), guardian, 1, 2, _default());
    }

    function testConstructorRevertsInvertedBand() public {
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidPriceBand.selector, 3, 2));
        new AgentConfig(timelock, guardian, 3, 2, _default());
    }

    function testConstructorAllowsNoGuardian() public {
        AgentConfig c = new AgentConfig(timelock, address(0), 1, 1e12, _default());
        assertEq(c.guardian(), address(0));
    }

    function testConstructorValidatesInitial() public {
        AgentConfig.Config memory c = _default();
        c.systemPrompt = "";
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSystemPrompt.selector, 0));
        _deploy(c);
    }

    function testConstructorRejectsDuplicateInitialSkills() public {
        AgentConfig.Config memory c = _default();
        c.skills[1].name = c.skills[0].name;
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigDuplicateSkill.selector, "summarize"));
        _deploy(c);
    }

    // ---------------------------------------------------------------- setConfig

    function testSetConfig() public {
        AgentConfig.Config memory c = _default();
        c.systemPrompt = "New prompt";
        c.model = "openai:gpt-4o-mini";
        c.skills = ConfigFixture.skills(3, 5_000);
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setConfig(c);
        _assertCommitted(2);
        assertEq(keccak256(abi.encode(cfg.config())), keccak256(abi.encode(c)));
        assertEq(cfg.priceOf("skill-B"), 5_000);
        // the old skills are gone, and their names are free again
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigUnknownSkill.selector, "summarize"));
        cfg.priceOf("summarize");
        vm.prank(timelock);
        cfg.setConfig(_default());
        assertEq(cfg.priceOf("summarize"), 10_000);
        assertEq(cfg.version(), 3);
    }

    function testSetConfigMaxSkills() public {
        AgentConfig.Config memory c = _default();
        c.skills = ConfigFixture.skills(32, ConfigFixture.CEILING);
        vm.prank(timelock);
        cfg.setConfig(c);
        assertEq(cfg.config().skills.length, 32);
    }

    function testSetConfigRevertsNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setConfig(_default());
    }

    function testSetConfigRevertsGuardian() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        cfg.setConfig(_default());
    }

    function _expectSetConfigRevert(AgentConfig.Config memory c, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(timelock);
        cfg.setConfig(c);
    }

    function testSetConfigRevertsEmptyPrompt() public {
        AgentConfig.Config memory c = _default();
        c.systemPrompt = "";
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSystemPrompt.selector, 0)
        );
    }

    function testSetConfigRevertsLongPrompt() public {
        AgentConfig.Config memory c = _default();
        c.systemPrompt = ConfigFixture.repeat("p", 8193);
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSystemPrompt.selector, 8193)
        );
    }

    function testSetConfigRevertsEmptyModel() public {
        AgentConfig.Config memory c = _default();
        c.model = "";
        _expectSetConfigRevert(c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidModel.selector, 0));
    }

    function testSetConfigRevertsLongModel() public {
        AgentConfig.Config memory c = _default();
        c.model = ConfigFixture.repeat("m", 129);
        _expectSetConfigRevert(c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidModel.selector, 129));
    }

    function testSetConfigRevertsTemperature() public {
        AgentConfig.Config memory c = _default();
        c.temperature = 201;
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidTemperature.selector, 201)
        );
    }

    function testSetConfigRevertsSplit() public {
        AgentConfig.Config memory c = _default();
        c.split.reserveBps += 1;
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSplit.selector, 10_001)
        );
    }

    function testSetConfigRevertsNoSkills() public {
        AgentConfig.Config memory c = _default();
        c.skills = new AgentConfig.Skill[](0);
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillCount.selector, 0)
        );
    }

    function testSetConfigRevertsTooManySkills() public {
        AgentConfig.Config memory c = _default();
        c.skills = ConfigFixture.skills(33, ConfigFixture.FLOOR);
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillCount.selector, 33)
        );
    }

    function testSetConfigRevertsDuplicateSkill() public {
        AgentConfig.Config memory c = _default();
        c.skills[1].name = "summarize";
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigDuplicateSkill.selector, "summarize")
        );
    }

    function testSetConfigRevertsEmptySkillName() public {
        AgentConfig.Config memory c = _default();
        c.skills[0].name = "";
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillName.selector, "")
        );
    }

    function testSetConfigRevertsLongSkillName() public {
        AgentConfig.Config memory c = _default();
        string memory name = ConfigFixture.repeat("n", 65);
        c.skills[0].name = name;
        _expectSetConfigRevert(
            c, abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillName.selector, name)
        );
    }

    function testSetConfigRevertsLongSkillInstructions() public {
        AgentConfig.Config memory c = _default();
        c.skills[0].instructions = ConfigFixture.repeat("i", 4097);
        _expectSetConfigRevert(
            c,
            abi.encodeWithSelector(
                AgentConfig.AgentConfigInvalidSkillInstructions.selector, c.skills[0].name, 4097
            )
        );
    }

    function testSetSkillRevertsLongInstructionsAndTakesTheLongestAllowed() public {
        vm.startPrank(timelock);
        string memory tooLong = ConfigFixture.repeat("i", 4097);
        vm.expectRevert(
            abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillInstructions.selector, "big", 4097)
        );
        cfg.setSkill(AgentConfig.Skill("big", tooLong, 10_000));
        cfg.setSkill(AgentConfig.Skill("big", ConfigFixture.repeat("i", 4096), 10_000));
        vm.stopPrank();
        assertEq(cfg.priceOf("big"), 10_000);
    }

    function testSetConfigRevertsPriceBelowFloor() public {
        AgentConfig.Config memory c = _default();
        c.skills[1].price = ConfigFixture.FLOOR - 1;
        _expectSetConfigRevert(
            c,
            abi.encodeWithSelector(
                AgentConfig.AgentConfigPriceOutOfBand.selector, "translate", ConfigFixture.FLOOR - 1
            )
        );
    }

    function testSetConfigRevertsPriceAboveCeiling() public {
        AgentConfig.Config memory c = _default();
        c.skills[0].price = ConfigFixture.CEILING + 1;
        _expectSetConfigRevert(
            c,
            abi.encodeWithSelector(
                AgentConfig.AgentConfigPriceOutOfBand.selector, "summarize", ConfigFixture.CEILING + 1
            )
        );
    }

    function testSetConfigFailureKeepsOldConfig() public {
        bytes32 before = cfg.configHash();
        AgentConfig.Config memory c = _default();
        c.skills = ConfigFixture.skills(3, 5_000);
        c.skills[2].price = 0;
        vm.prank(timelock);
        vm.expectRevert();
        cfg.setConfig(c);
        assertEq(cfg.configHash(), before);
        assertEq(cfg.priceOf("summarize"), 10_000);
        assertEq(cfg.version(), 1);
    }

    // ---------------------------------------------------------------- field writes

    function testSetSystemPrompt() public {
        string memory prompt = ConfigFixture.repeat("p", 8192);
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setSystemPrompt(prompt);
        _assertCommitted(2);
        assertEq(cfg.config().systemPrompt, prompt);
    }

    function testSetSystemPromptReverts() public {
        vm.startPrank(timelock);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSystemPrompt.selector, 0));
        cfg.setSystemPrompt("");
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSystemPrompt.selector, 8193));
        cfg.setSystemPrompt(ConfigFixture.repeat("p", 8193));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setSystemPrompt("x");
    }

    function testFuzzSetSystemPromptLength(uint256 length) public {
        length = bound(length, 0, 9000);
        bool ok = length != 0 && length <= 8192;
        if (!ok) {
            vm.expectRevert(
                abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSystemPrompt.selector, length)
            );
        }
        vm.prank(timelock);
        cfg.setSystemPrompt(ConfigFixture.repeat("a", length));
        assertEq(cfg.version(), ok ? 2 : 1);
    }

    function testSetModel() public {
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setModel("openai:gpt-4o");
        _assertCommitted(2);
        assertEq(cfg.config().model, "openai:gpt-4o");
    }

    function testSetModelReverts() public {
        vm.startPrank(timelock);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidModel.selector, 0));
        cfg.setModel("");
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidModel.selector, 129));
        cfg.setModel(ConfigFixture.repeat("m", 129));
        cfg.setModel(ConfigFixture.repeat("m", 128));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setModel("x");
    }

    function testSetTemperature() public {
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setTemperature(200);
        _assertCommitted(2);
        assertEq(cfg.config().temperature, 200);
    }

    function testSetTemperatureRevertsNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setTemperature(1);
    }

    function testFuzzSetTemperature(uint16 t) public {
        if (t > 200) {
            vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidTemperature.selector, t));
        }
        vm.prank(timelock);
        cfg.setTemperature(t);
        if (t <= 200) assertEq(cfg.config().temperature, t);
    }

    // ---------------------------------------------------------------- skills

    function testSetSkillAdds() public {
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setSkill(AgentConfig.Skill("review", "Review code.", 30_000));
        _assertCommitted(2);
        assertEq(cfg.priceOf("review"), 30_000);
        assertEq(cfg.config().skills.length, 3);
    }

    function testSetSkillReplaces() public {
        vm.prank(timelock);
        cfg.setSkill(AgentConfig.Skill("translate", "Translate to French.", 40_000));
        AgentConfig.Skill[] memory skills = cfg.config().skills;
        assertEq(skills.length, 2);
        assertEq(skills[1].instructions, "Translate to French.");
        assertEq(cfg.priceOf("translate"), 40_000);
    }

    function testSetSkillRevertsFull() public {
        AgentConfig.Config memory c = _default();
        c.skills = ConfigFixture.skills(32, ConfigFixture.FLOOR);
        vm.startPrank(timelock);
        cfg.setConfig(c);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillCount.selector, 33));
        cfg.setSkill(AgentConfig.Skill("one-more", "", ConfigFixture.FLOOR));
        // replacing still works when full
        cfg.setSkill(AgentConfig.Skill("skill-A", "x", ConfigFixture.CEILING));
        vm.stopPrank();
        assertEq(cfg.priceOf("skill-A"), ConfigFixture.CEILING);
    }

    function testSetSkillReverts() public {
        vm.startPrank(timelock);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillName.selector, ""));
        cfg.setSkill(AgentConfig.Skill("", "", 10_000));
        string memory long = ConfigFixture.repeat("n", 65);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSkillName.selector, long));
        cfg.setSkill(AgentConfig.Skill(long, "", 10_000));
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigPriceOutOfBand.selector, "x", 1));
        cfg.setSkill(AgentConfig.Skill("x", "", 1));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setSkill(AgentConfig.Skill("x", "", 10_000));
    }

    function testRemoveSkill() public {
        vm.startPrank(timelock);
        cfg.setSkill(AgentConfig.Skill("review", "", 30_000));
        vm.recordLogs();
        cfg.removeSkill("summarize");
        vm.stopPrank();
        _assertCommitted(3);
        AgentConfig.Skill[] memory skills = cfg.config().skills;
        assertEq(skills.length, 2);
        // the last skill took the removed one's place and is still found by name
        assertEq(skills[0].name, "review");
        assertEq(cfg.priceOf("review"), 30_000);
        assertEq(cfg.priceOf("translate"), 20_000);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigUnknownSkill.selector, "summarize"));
        cfg.priceOf("summarize");
    }

    function testRemoveSkillLastInList() public {
        vm.prank(timelock);
        cfg.removeSkill("translate");
        assertEq(cfg.config().skills.length, 1);
        assertEq(cfg.priceOf("summarize"), 10_000);
    }

    function testRemoveSkillThenReAdd() public {
        vm.startPrank(timelock);
        cfg.removeSkill("summarize");
        cfg.setSkill(AgentConfig.Skill("summarize", "again", 11_000));
        vm.stopPrank();
        assertEq(cfg.priceOf("summarize"), 11_000);
        assertEq(cfg.config().skills.length, 2);
    }

    function testRemoveSkillRevertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigUnknownSkill.selector, "nope"));
        vm.prank(timelock);
        cfg.removeSkill("nope");
    }

    function testRemoveSkillRevertsLast() public {
        vm.startPrank(timelock);
        cfg.removeSkill("summarize");
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigLastSkill.selector, "translate"));
        cfg.removeSkill("translate");
        vm.stopPrank();
    }

    function testRemoveSkillRevertsNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.removeSkill("summarize");
    }

    function testSetSkillPrice() public {
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setSkillPrice("translate", 25_000);
        _assertCommitted(2);
        assertEq(cfg.priceOf("translate"), 25_000);
        assertEq(cfg.config().skills[1].price, 25_000);
    }

    function testSetSkillPriceReverts() public {
        vm.startPrank(timelock);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigUnknownSkill.selector, "nope"));
        cfg.setSkillPrice("nope", 10_000);
        vm.expectRevert(
            abi.encodeWithSelector(AgentConfig.AgentConfigPriceOutOfBand.selector, "translate", 0)
        );
        cfg.setSkillPrice("translate", 0);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setSkillPrice("translate", 10_000);
    }

    function testFuzzSetSkillPrice(uint256 price) public {
        bool ok = price >= ConfigFixture.FLOOR && price <= ConfigFixture.CEILING;
        if (!ok) {
            vm.expectRevert(
                abi.encodeWithSelector(AgentConfig.AgentConfigPriceOutOfBand.selector, "summarize", price)
            );
        }
        vm.prank(timelock);
        cfg.setSkillPrice("summarize", price);
        assertEq(cfg.priceOf("summarize"), ok ? price : 10_000);
    }

    function testPriceOfRevertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigUnknownSkill.selector, ""));
        cfg.priceOf("");
    }

    // ---------------------------------------------------------------- split, budget, pause

    function testSetSplit() public {
        AgentConfig.Split memory s = AgentConfig.Split(10_000, 0, 0, 0);
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setSplit(s);
        _assertCommitted(2);
        assertEq(keccak256(abi.encode(cfg.split())), keccak256(abi.encode(s)));
    }

    function testSetSplitReverts() public {
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSplit.selector, 9_999));
        vm.prank(timelock);
        cfg.setSplit(AgentConfig.Split(5_000, 4_999, 0, 0));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setSplit(AgentConfig.Split(10_000, 0, 0, 0));
    }

    function testFuzzSetSplit(uint16 a, uint16 b, uint16 c, uint16 d) public {
        uint256 total = uint256(a) + b + c + d;
        if (total != 10_000) {
            vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidSplit.selector, total));
        }
        vm.prank(timelock);
        cfg.setSplit(AgentConfig.Split(a, b, c, d));
    }

    function testFuzzSetSplitValid(uint16 a, uint16 b, uint16 c) public {
        a = uint16(bound(a, 0, 10_000));
        b = uint16(bound(b, 0, 10_000 - a));
        c = uint16(bound(c, 0, 10_000 - a - b));
        uint16 d = 10_000 - a - b - c;
        vm.prank(timelock);
        cfg.setSplit(AgentConfig.Split(a, b, c, d));
        AgentConfig.Split memory s = cfg.split();
        assertEq(uint256(s.stakersBps) + s.operatorBps + s.buybackBps + s.reserveBps, 10_000);
        assertEq(s.buybackBps, c);
    }

    function testSetHireBudget() public {
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setHireBudget(123);
        _assertCommitted(2);
        assertEq(cfg.config().hireBudget, 123);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        cfg.setHireBudget(1);
    }

    function testSetPaused() public {
        bytes32 content = cfg.contentHash();
        vm.startPrank(timelock);
        vm.expectEmit(address(cfg));
        emit PauseChanged(2, _hash(content, true), true);
        cfg.setPaused(true);
        assertTrue(cfg.paused());
        assertEq(cfg.configHash(), _hash(content, true));
        vm.expectEmit(address(cfg));
        emit PauseChanged(3, _hash(content, false), false);
        cfg.setPaused(false);
        vm.stopPrank();
        assertFalse(cfg.paused());
        assertEq(cfg.version(), 3);
        assertEq(cfg.contentHash(), content);
    }

    function testSetConfigKeepsPause() public {
        vm.prank(guardian);
        cfg.pause();
        AgentConfig.Config memory c = _default();
        c.model = "openai:gpt-4o";
        vm.recordLogs();
        vm.prank(timelock);
        cfg.setConfig(c);
        _assertCommitted(3);
        assertTrue(cfg.paused());
        assertEq(cfg.configHash(), _hashOf(c, true));
    }

    function testFuzzSetPaused(bool[8] calldata flags) public {
        bytes32 content = cfg.contentHash();
        for (uint64 i; i < flags.length; ++i) {
            vm.expectEmit(address(cfg));
            emit PauseChanged(i + 2, _hash(content, flags[i]), flags[i]);
            vm.prank(timelock);
            cfg.setPaused(flags[i]);
            assertEq(cfg.paused(), flags[i]);
            assertEq(cfg.configHash(), _hash(content, flags[i]));
        }
        assertEq(cfg.version(), flags.length + 1);
        assertEq(cfg.contentHash(), content);
    }

    function testSetPausedRevertsGuardian() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        cfg.setPaused(false);
    }

    function testPauseByGuardian() public {
        vm.expectEmit(address(cfg));
        emit PauseChanged(2, _hash(cfg.contentHash(), true), true);
        vm.prank(guardian);
        cfg.pause();
        assertTrue(cfg.paused());
        assertEq(cfg.version(), 2);
    }

    function testPauseRevertsNotGuardian() public {
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigNotGuardian.selector, stranger));
        vm.prank(stranger);
        cfg.pause();
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigNotGuardian.selector, timelock));
        vm.prank(timelock);
        cfg.pause();
    }

    function testPauseRevertsWithoutGuardian() public {
        vm.prank(timelock);
        cfg.setGuardian(address(0));
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigNotGuardian.selector, guardian));
        vm.prank(guardian);
        cfg.pause();
    }

    function testSetGuardian() public {
        address next = makeAddr("next");
        vm.expectEmit(true, true, false, false);
        emit GuardianChanged(guardian, next);
        vm.prank(timelock);
        cfg.setGuardian(next);
        assertEq(cfg.guardian(), next);
        assertEq(cfg.version(), 2);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigNotGuardian.selector, guardian));
        vm.prank(guardian);
        cfg.pause();
        vm.prank(next);
        cfg.pause();
    }

    function testSetGuardianRevertsNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        cfg.setGuardian(guardian);
    }

    function testFuzzNonOwnerCannotWrite(address caller, uint256 price) public {
        vm.assume(caller != timelock);
        price = bound(price, ConfigFixture.FLOOR, ConfigFixture.CEILING);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        cfg.setSkillPrice("summarize", price);
        assertEq(cfg.version(), 1);
    }

    function testSplitMatchesConfig() public view {
        assertEq(keccak256(abi.encode(cfg.split())), keccak256(abi.encode(cfg.config().split)));
    }
}
