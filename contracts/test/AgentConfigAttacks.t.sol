// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AgentConfig} from "../src/AgentConfig.sol";
import {ConfigFixture} from "./utils/ConfigFixture.sol";
import {AgentDeployment} from "./utils/AgentDeployment.sol";

/// @dev `cool` exists in forge but not in the vendored forge-std Vm interface.
interface VmCool {
    function cool(address target) external;
}

/// @notice Measures a call the way a transaction pays for it: cold contract, plus the 21k base and calldata.
abstract contract TxGas is Test {
    uint256 internal constant TX_CAP = 16_000_000;
    uint256 internal constant PAUSE_CAP = 60_000;

    function _calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    /// @dev Calls `target` as `caller` with `data` from a cold start; returns the whole transaction's gas.
    function _txGas(address target, address caller, bytes memory data) internal returns (uint256 used) {
        VmCool(address(vm)).cool(target);
        vm.prank(caller);
        uint256 start = gasleft();
        (bool ok, bytes memory ret) = target.call(data);
        used = start - gasleft() + _calldataGas(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}

/// @notice Builds a maximal config the way governance would, one proposal per write, each under the cap.
abstract contract MaxConfigBuilder is TxGas {
    /// @return maxWrite The most gas any single write took.
    function _buildMax(AgentConfig cfg, address owner) internal returns (uint256 maxWrite) {
        maxWrite = _write(
            cfg, owner, abi.encodeCall(AgentConfig.setSystemPrompt, (ConfigFixture.repeat("p", 8192)))
        );
        maxWrite = _max(
            maxWrite,
            _write(cfg, owner, abi.encodeCall(AgentConfig.setModel, (ConfigFixture.repeat("m", 128))))
        );
        uint256 existing = cfg.config().skills.length;
        for (uint256 i; i < 32 - existing; ++i) {
            maxWrite = _max(
                maxWrite,
                _write(cfg, owner, abi.encodeCall(AgentConfig.setSkill, (ConfigFixture.maxSkill(i))))
            );
        }
        // replace the initial skills by maximal ones, one removal and one addition each
        AgentConfig.Skill[] memory initial = cfg.config().skills;
        uint256 next = 32 - existing;
        for (uint256 i; i < initial.length; ++i) {
            if (bytes(initial[i].instructions).length == 4096) continue;
            maxWrite = _max(
                maxWrite, _write(cfg, owner, abi.encodeCall(AgentConfig.removeSkill, (initial[i].name)))
            );
            maxWrite = _max(
                maxWrite,
                _write(cfg, owner, abi.encodeCall(AgentConfig.setSkill, (ConfigFixture.maxSkill(next++))))
            );
        }
        AgentConfig.Config memory c = cfg.config();
        assertEq(bytes(c.systemPrompt).length, 8192, "prompt");
        assertEq(c.skills.length, 32, "skills");
        for (uint256 i; i < 32; ++i) {
            assertEq(bytes(c.skills[i].instructions).length, 4096, "instructions");
            assertEq(bytes(c.skills[i].name).length, 64, "name");
        }
    }

    function _write(AgentConfig cfg, address owner, bytes memory data) private returns (uint256 used) {
        used = _txGas(address(cfg), owner, data);
        assertLt(used, TX_CAP, "a governance write above the transaction cap");
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}

/// @notice The review's attacks on AgentConfig, each asserting that it now fails.
contract AgentConfigAttackTest is MaxConfigBuilder {
    event PauseChanged(uint64 indexed version, bytes32 indexed configHash, bool paused);

    address internal timelock = makeAddr("timelock");
    address internal guardian = makeAddr("guardian");
    AgentConfig internal cfg;

    function setUp() public {
        cfg = new AgentConfig(
            timelock, guardian, ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
    }

    function _pauseGas() internal returns (uint256) {
        return _txGas(address(cfg), guardian, abi.encodeCall(AgentConfig.pause, ()));
    }

    function _setPausedGas(bool paused) internal returns (uint256) {
        return _txGas(address(cfg), timelock, abi.encodeCall(AgentConfig.setPaused, (paused)));
    }

    function testFuzz_Attack_PauseGasBoundedAtAnySize(uint256 skills, uint256 instructions, uint256 prompt)
        public
    {
        skills = bound(skills, 1, 32);
        // what setConfig can write in one run, at most 32 KiB of instructions
        instructions = bound(instructions, 0, 32_768 / skills > 4096 ? 4096 : 32_768 / skills);
        prompt = bound(prompt, 1, 8192);
        AgentConfig.Config memory c = ConfigFixture.defaultConfig();
        c.systemPrompt = ConfigFixture.repeat("p", prompt);
        c.skills = ConfigFixture.skills(skills, ConfigFixture.FLOOR);
        for (uint256 i; i < skills; ++i) {
            c.skills[i].instructions = ConfigFixture.repeat("i", instructions);
        }
        vm.prank(timelock);
        cfg.setConfig(c);
        assertLt(_pauseGas(), PAUSE_CAP);
        assertLt(_setPausedGas(false), PAUSE_CAP);
        assertEq(cfg.configHash(), keccak256(abi.encode(keccak256(abi.encode(c)), false)));
    }

    /// A bad proposal renouncing ownership would leave the config ungoverned forever.
    function test_Attack_RenounceOwnershipThroughAProposal() public {
        vm.prank(timelock);
        vm.expectRevert(AgentConfig.AgentConfigCannotRenounce.selector);
        cfg.renounceOwnership();
        assertEq(cfg.owner(), timelock);
    }

    function testFuzz_Attack_RenounceOwnershipByAnyone(address caller) public {
        vm.prank(caller);
        vm.expectRevert(AgentConfig.AgentConfigCannotRenounce.selector);
        cfg.renounceOwnership();
        assertEq(cfg.owner(), timelock);
    }

    function test_TransferOwnershipStillWorks() public {
        address next = makeAddr("next timelock");
        vm.prank(timelock);
        cfg.transferOwnership(next);
        assertEq(cfg.owner(), next);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        vm.prank(next);
        cfg.transferOwnership(address(0));
    }
}

/// @notice Pause and shrink at the maximum config size, built once in setUp by governance-sized writes.
contract AgentConfigMaximalTest is MaxConfigBuilder {
    event PauseChanged(uint64 indexed version, bytes32 indexed configHash, bool paused);

    address internal timelock = makeAddr("timelock");
    address internal guardian = makeAddr("guardian");
    AgentConfig internal cfg;
    AgentConfig internal small;

    function setUp() public {
        cfg = new AgentConfig(
            timelock, guardian, ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        small = new AgentConfig(
            timelock, guardian, ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        _buildMax(cfg, timelock);
    }

    function _pauseGas() internal returns (uint256) {
        return _txGas(address(cfg), guardian, abi.encodeCall(AgentConfig.pause, ()));
    }

    function _setPausedGas(bool paused) internal returns (uint256) {
        return _txGas(address(cfg), timelock, abi.encodeCall(AgentConfig.setPaused, (paused)));
    }

    /// The review: pause() cost 11.5M gas at the maximum config size (it re-hashed and re-emitted everything).
    function test_Attack_PauseAtMaximumConfigPricedOut() public {
        uint256 atDefault = _txGas(address(small), guardian, abi.encodeCall(AgentConfig.pause, ()));
        bytes32 content = cfg.contentHash();
        uint64 v = cfg.version();
        vm.expectEmit(address(cfg));
        emit PauseChanged(v + 1, keccak256(abi.encode(content, true)), true);
        uint256 atMax = _pauseGas();
        assertLt(atMax, PAUSE_CAP, "pause at maximum config");
        assertLt(atDefault, PAUSE_CAP, "pause at default config");
        // the same cost at any size: nothing of the content is read (up to one cold account access)
        assertApproxEqAbs(atMax, atDefault, 2_600);
        assertTrue(cfg.paused());
        assertEq(cfg.contentHash(), content);
        assertLt(_setPausedGas(false), PAUSE_CAP, "setPaused(false) at maximum config");
        assertLt(_setPausedGas(true), PAUSE_CAP, "setPaused(true) at maximum config");
        assertEq(cfg.version(), v + 3);
    }

    /// The review: shrinking a maximal config with setConfig cost 23M, above the per-transaction cap, so
    /// governance could never get back to a small config in one proposal.
    function test_Attack_ShrinkMaximalConfigAboveTxCap() public {
        AgentConfig.Config memory small = ConfigFixture.defaultConfig();
        uint256 used = _txGas(address(cfg), timelock, abi.encodeCall(AgentConfig.setConfig, (small)));
        assertLt(used, TX_CAP, "setConfig shrinking a maximal config");
        assertEq(keccak256(abi.encode(cfg.config())), keccak256(abi.encode(small)));
        assertEq(cfg.priceOf("summarize"), 10_000);
        // the abandoned skills are unreachable by name
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentConfig.AgentConfigUnknownSkill.selector, ConfigFixture.maxSkill(0).name
            )
        );
        cfg.priceOf(ConfigFixture.maxSkill(0).name);
        // and the same names can be added again, to the new generation
        vm.prank(timelock);
        cfg.setSkill(ConfigFixture.maxSkill(0));
        assertEq(cfg.config().skills.length, 3);
    }

    function testFuzz_Attack_ShrinkMaximalConfigAnyTarget(
        uint256 skills,
        uint256 prompt,
        uint256 instructions
    ) public {
        // any small target: up to 4 skills with 8 KiB of instructions in all (fresh storage costs 22.1k gas a
        // word, so one transaction can write about 20 KiB of new skills; larger configs are built write by write)
        skills = bound(skills, 1, 4);
        prompt = bound(prompt, 1, 8192);
        instructions = bound(instructions, 0, skills == 1 ? 4096 : 8192 / skills);
        AgentConfig.Config memory c = ConfigFixture.defaultConfig();
        c.systemPrompt = ConfigFixture.repeat("q", prompt);
        c.skills = ConfigFixture.skills(skills, ConfigFixture.CEILING);
        for (uint256 i; i < skills; ++i) {
            c.skills[i].instructions = ConfigFixture.repeat("j", instructions);
        }
        assertLt(_txGas(address(cfg), timelock, abi.encodeCall(AgentConfig.setConfig, (c))), TX_CAP);
        assertEq(keccak256(abi.encode(cfg.config())), keccak256(abi.encode(c)));
    }
}

/// @notice Property 4, config side: a split change first distributes the income earned under the old split,
/// through a real AgentTreasury.
contract AgentConfigSplitCheckpointTest is AgentDeployment {
    address internal holder = makeAddr("holder");

    function setUp() public {
        address[] memory holders = new address[](1);
        holders[0] = holder;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 1_000_000e18;
        _deployAgent(holders, amounts);
        _stakeAll(holders);
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
    }

    function _earn(uint256 amount) internal {
        usdc.mint(address(treasury), amount);
    }

    /// The review: a split change applied to income earned before it; whoever ordered `distribute` after the
    /// change (here: nobody before it) took the old income under the new split (all to the operator).
    function test_Attack_SplitChangeAppliedToEarlierIncome() public {
        _earn(1_000e6);
        AgentConfig.Split memory allToOperator = AgentConfig.Split(0, 10_000, 0, 0);
        vm.prank(address(timelock));
        cfg.setSplit(allToOperator);
        // the 1,000 earned under 60/20/10/10 was split by it, inside setSplit (the operator's share is booked
        // for it to withdraw; the stakers' share sits in the stake, streaming)
        assertEq(treasury.pendingIncome(), 0);
        assertEq(treasury.operatorOwed(operator), 200e6);
        assertEq(usdc.balanceOf(address(stake)), 600e6);
        assertEq(treasury.buybackBalance(), 100e6);
        assertEq(treasury.reserveBalance(), 100e6);
        // income earned afterwards follows the new split
        _earn(500e6);
        treasury.distribute();
        assertEq(treasury.operatorOwed(operator), 700e6);
        assertEq(usdc.balanceOf(address(stake)), 600e6);
    }

    function test_Attack_SetConfigChangingTheSplitAppliedToEarlierIncome() public {
        _earn(1_000e6);
        AgentConfig.Config memory c = ConfigFixture.defaultConfig();
        c.split = AgentConfig.Split(0, 10_000, 0, 0);
        vm.prank(address(timelock));
        cfg.setConfig(c);
        assertEq(treasury.pendingIncome(), 0);
        assertEq(treasury.operatorOwed(operator), 200e6);
        assertEq(usdc.balanceOf(address(stake)), 600e6);
    }

    function testFuzz_Attack_SplitChangeAppliedToEarlierIncome(uint256 income, uint16 a, uint16 b, uint16 c)
        public
    {
        income = bound(income, 0, 1e15);
        a = uint16(bound(a, 0, 10_000));
        b = uint16(bound(b, 0, 10_000 - a));
        c = uint16(bound(c, 0, 10_000 - a - b));
        _earn(income);
        AgentConfig.Split memory old = cfg.split();
        vm.prank(address(timelock));
        cfg.setSplit(AgentConfig.Split(a, b, c, 10_000 - a - b - c));
        assertEq(treasury.pendingIncome(), 0);
        assertEq(treasury.totalIncome(), income);
        // every part was computed with the old split (the operator's share booked, pulled later)
        assertEq(treasury.operatorOwed(operator), income * old.operatorBps / 10_000);
        assertEq(treasury.buybackBalance(), income * old.buybackBps / 10_000);
        assertEq(usdc.balanceOf(address(stake)), income * old.stakersBps / 10_000);
    }

    function test_SetConfigKeepingTheSplitSettlesNothing() public {
        _earn(1_000e6);
        AgentConfig.Config memory c = ConfigFixture.defaultConfig();
        c.model = "openai:gpt-4o";
        vm.prank(address(timelock));
        cfg.setConfig(c);
        assertEq(treasury.pendingIncome(), 1_000e6);
    }

    function test_BindTreasuryOnceByTheDeployer() public {
        assertEq(cfg.treasury(), address(treasury));
        vm.expectRevert(
            abi.encodeWithSelector(AgentConfig.AgentConfigTreasuryAlreadyBound.selector, address(treasury))
        );
        cfg.bindTreasury(address(treasury));
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigNotBinder.selector, stranger));
        cfg.bindTreasury(stranger);
        // not even the owner binds: the deployer, once
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigNotBinder.selector, address(timelock)));
        cfg.bindTreasury(address(treasury));
    }
}

/// @dev A treasury whose distribute always fails.
contract RevertingCheckpoint {
    error Broken();

    function distribute() external pure returns (uint256) {
        revert Broken();
    }
}

/// @notice bindTreasury and the checkpoint before a treasury is bound, on a bare config.
contract AgentConfigBindTest is Test {
    event TreasuryBound(address indexed treasury);

    address internal timelock = makeAddr("timelock");
    AgentConfig internal cfg;

    function setUp() public {
        cfg = new AgentConfig(
            timelock, address(0), ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
    }

    function test_SplitChangeWhileUnboundSkipsTheCheckpoint() public {
        vm.prank(timelock);
        cfg.setSplit(AgentConfig.Split(10_000, 0, 0, 0));
        assertEq(cfg.split().stakersBps, 10_000);
    }

    function test_BindTreasuryRefusesAnAddressWithoutCode() public {
        address eoa = makeAddr("eoa");
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidTreasury.selector, eoa));
        cfg.bindTreasury(eoa);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigInvalidTreasury.selector, address(0)));
        cfg.bindTreasury(address(0));
    }

    function testFuzz_BindTreasuryOnlyByTheDeployer(address caller) public {
        vm.assume(caller != address(this));
        RevertingCheckpoint t = new RevertingCheckpoint();
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(AgentConfig.AgentConfigNotBinder.selector, caller));
        cfg.bindTreasury(address(t));
        vm.expectEmit(address(cfg));
        emit TreasuryBound(address(t));
        cfg.bindTreasury(address(t));
        assertEq(cfg.treasury(), address(t));
    }

    /// A checkpoint that fails blocks the split change rather than letting it apply to pending income.
    function test_FailingCheckpointBlocksTheSplitChange() public {
        RevertingCheckpoint t = new RevertingCheckpoint();
        cfg.bindTreasury(address(t));
        vm.prank(timelock);
        vm.expectRevert(RevertingCheckpoint.Broken.selector);
        cfg.setSplit(AgentConfig.Split(10_000, 0, 0, 0));
        assertEq(cfg.version(), 1);
        // content writes that keep the split are not coupled to the treasury
        AgentConfig.Config memory c = ConfigFixture.defaultConfig();
        c.model = "openai:gpt-4o";
        vm.prank(timelock);
        cfg.setConfig(c);
        assertEq(cfg.version(), 2);
    }
}
