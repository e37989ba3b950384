// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {AgentRegistry} from "../src/AgentRegistry.sol";
import {AgentTimelock} from "../src/AgentTimelock.sol";
import {AgentPartMock, StakePartMock} from "./mocks/AgentPartMock.sol";
import {AgentStake} from "../src/AgentStake.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentDeployment} from "./utils/AgentDeployment.sol";

/// @dev Builds agent sets whose stake, governor, config and treasury report a given timelock.
abstract contract RegistryFixture is Test {
    function _set(address timelock, uint256 salt) internal returns (AgentRegistry.Agent memory) {
        address token = makeAddr(string.concat("token", vm.toString(salt)));
        return AgentRegistry.Agent({
            token: token,
            stake: address(new StakePartMock(timelock, token)),
            governor: address(new AgentPartMock(timelock)),
            timelock: timelock,
            config: address(new AgentPartMock(timelock)),
            treasury: address(new AgentPartMock(timelock))
        });
    }

    function _assertAgentEq(AgentRegistry.Agent memory a, AgentRegistry.Agent memory b) internal pure {
        assertEq(keccak256(abi.encode(a)), keccak256(abi.encode(b)));
    }
}

contract AgentRegistryTest is RegistryFixture {
    event AgentRegistered(string name, AgentRegistry.Agent agent, string metadataURI);
    event MetadataUpdated(string name, string metadataURI);

    AgentRegistry internal registry;
    AgentRegistry.Agent internal agent;
    address internal timelock = makeAddr("timelock");
    address internal stranger = makeAddr("stranger");

    function setUp() public {
        registry = new AgentRegistry();
        agent = _set(timelock, 0);
    }

    function _register(string memory name, AgentRegistry.Agent memory a) internal {
        vm.prank(a.timelock);
        registry.register(name, a, "");
    }

    // ---------------------------------------------------------------- register: who

    function test_register() public {
        vm.expectEmit(address(registry));
        emit AgentRegistered("writer", agent, "ipfs://writer");
        vm.prank(timelock);
        registry.register("writer", agent, "ipfs://writer");
        assertTrue(registry.isRegistered("writer"));
        _assertAgentEq(registry.agentOf("writer"), agent);
        assertEq(registry.metadataOf("writer"), "ipfs://writer");
        assertEq(registry.nameCount(), 1);
        string[] memory names = registry.names(0, 10);
        assertEq(names.length, 1);
        assertEq(names[0], "writer");
        assertEq(registry.nameOf(agent.treasury), "writer");
        assertEq(registry.nameOf(agent.stake), "writer");
        // the token is in no record: it cannot say which timelock it belongs to
        assertEq(registry.nameOf(agent.token), "");
        assertEq(registry.nameOf(stranger), "");
    }

    function test_register_byTimelockAdmin() public {
        address[] memory none = new address[](0);
        AgentTimelock real = new AgentTimelock(1 days, none, none, address(this));
        AgentRegistry.Agent memory a = _set(address(real), 1);
        registry.register("launched", a, "");
        assertTrue(registry.isRegistered("launched"));
        // once the launch renounced its admin role, only the timelock itself could register
        real.renounceRole(real.DEFAULT_ADMIN_ROLE(), address(this));
        AgentRegistry.Agent memory b = _set(address(real), 2);
        b.timelock = address(real);
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, address(this))
        );
        registry.register("again", b, "");
    }

    function test_register_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, stranger));
        vm.prank(stranger);
        registry.register("writer", agent, "");
    }

    function test_register_revertsForAnotherRoleOfTheTimelock() public {
        address[] memory proposers = new address[](1);
        proposers[0] = stranger;
        AgentTimelock real = new AgentTimelock(1 days, proposers, proposers, address(this));
        AgentRegistry.Agent memory a = _set(address(real), 1);
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, stranger));
        vm.prank(stranger);
        registry.register("writer", a, "");
    }

    function testFuzz_register_onlyTimelockOrAdmin(address caller) public {
        address[] memory none = new address[](0);
        AgentTimelock real = new AgentTimelock(1 days, none, none, address(this));
        AgentRegistry.Agent memory a = _set(address(real), 1);
        bool allowed = caller == address(real) || caller == address(this);
        if (!allowed) {
            vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, caller));
        }
        vm.prank(caller);
        registry.register("writer", a, "");
        assertEq(registry.isRegistered("writer"), allowed);
    }

    // ---------------------------------------------------------------- register: what

    function test_register_revertsWhenAPartPointsElsewhere() public {
        address other = makeAddr("other");
        agent.config = address(new AgentPartMock(other));
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryNotTimelocks.selector, agent.config, timelock)
        );
        _register("writer", agent);
    }

    function testFuzz_register_revertsWhenAnyCheckedPartPointsElsewhere(uint256 field, address other) public {
        vm.assume(other != timelock);
        // the stake, governor, config or treasury field (the timelock field is the reference itself)
        uint256[4] memory pointers = [uint256(1), 2, 4, 5];
        field = pointers[bound(field, 0, 3)];
        AgentRegistry.Agent memory bad = agent;
        address part = address(new AgentPartMock(other));
        assembly {
            mstore(add(bad, mul(field, 0x20)), part)
        }
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryNotTimelocks.selector, part, timelock)
        );
        _register("writer", bad);
    }

    function test_register_revertsWhenAPartHasNoCode() public {
        agent.governor = makeAddr("eoa governor");
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryNotTimelocks.selector, agent.governor, timelock)
        );
        _register("writer", agent);
    }

    /// The stake must be owned by the timelock (no longer optional: AgentStake answers owner()) and stake the
    /// record's token.
    function test_register_checksTheStakesOwnerAndToken() public {
        agent.stake = address(new StakePartMock(makeAddr("other"), agent.token));
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryNotTimelocks.selector, agent.stake, timelock)
        );
        _register("writer", agent);
        // a stake that cannot answer owner() fails too
        agent.stake = makeAddr("eoa stake");
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryNotTimelocks.selector, agent.stake, timelock)
        );
        _register("writer", agent);
        // owned by the timelock, but staking another token
        agent.stake = address(new StakePartMock(timelock, makeAddr("other token")));
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentRegistry.AgentRegistryStakeTokenMismatch.selector, agent.stake, agent.token
            )
        );
        _register("writer", agent);
        // a stake without token() is a mismatch, not a bare revert
        agent.stake = address(new AgentPartMock(timelock));
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentRegistry.AgentRegistryStakeTokenMismatch.selector, agent.stake, agent.token
            )
        );
        _register("writer", agent);
        agent.stake = address(new StakePartMock(timelock, agent.token));
        _register("writer", agent);
        assertTrue(registry.isRegistered("writer"));
    }

    function testFuzz_register_stakeMustStakeTheToken(address staked) public {
        vm.assume(staked != agent.token);
        agent.stake = address(new StakePartMock(timelock, staked));
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentRegistry.AgentRegistryStakeTokenMismatch.selector, agent.stake, agent.token
            )
        );
        _register("writer", agent);
    }

    function test_register_revertsOnEmptyName() public {
        vm.expectRevert(AgentRegistry.AgentRegistryEmptyName.selector);
        _register("", agent);
    }

    function test_register_revertsOnTakenName() public {
        _register("writer", agent);
        AgentRegistry.Agent memory other = _set(timelock, 1);
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryNameTaken.selector, "writer"));
        _register("writer", other);
    }

    function test_register_revertsOnZeroAddress() public {
        agent.treasury = address(0);
        vm.expectRevert(AgentRegistry.AgentRegistryZeroAddress.selector);
        _register("writer", agent);
    }

    function testFuzz_register_revertsOnAnyZeroAddress(uint256 field) public {
        field = bound(field, 0, 5);
        AgentRegistry.Agent memory bad = agent;
        assembly {
            mstore(add(bad, mul(field, 0x20)), 0)
        }
        vm.expectRevert(AgentRegistry.AgentRegistryZeroAddress.selector);
        vm.prank(timelock);
        registry.register("writer", bad, "");
    }

    function testFuzz_register_anAddressBelongsToOneRecord(uint256 field) public {
        field = bound(field, 0, 5);
        _register("writer", agent);
        // a second agent with its own timelock reuses one of the first one's addresses
        address second = makeAddr("second timelock");
        AgentRegistry.Agent memory b = _set(second, 1);
        address reused = _field(agent, field);
        if (field == 3) {
            // the first agent's timelock as the second's: only it may register, and its parts are taken
            b = _set(timelock, 1);
            vm.expectRevert(
                abi.encodeWithSelector(AgentRegistry.AgentRegistryAddressTaken.selector, timelock, "writer")
            );
            _register("copy", b);
            return;
        }
        if (field == 0) {
            // the token is not claimed: a second set staking the same token registers beside the first
            b.token = reused;
            b.stake = address(new StakePartMock(second, reused));
            _register("copy", b);
            assertTrue(registry.isRegistered("copy"));
            assertEq(registry.nameOf(agent.stake), "writer");
            return;
        }
        // the reused stake, governor, config or treasury reports the first timelock, so the pointer checks fail
        // before the address is looked up
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryNotTimelocks.selector, reused, second)
        );
        _setField(b, field, reused);
        _register("copy", b);
        assertFalse(registry.isRegistered("copy"));
    }

    /// A part reused inside one record (here the treasury given as the config too) still belongs to it once.
    function test_register_revertsOnAnAddressTwiceInOneRecord() public {
        agent.treasury = agent.config;
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryAddressTaken.selector, agent.config, "writer")
        );
        _register("writer", agent);
    }

    function testFuzz_register(string calldata name, string calldata uri) public {
        vm.assume(bytes(name).length != 0);
        vm.prank(timelock);
        registry.register(name, agent, uri);
        assertTrue(registry.isRegistered(name));
        assertEq(registry.metadataOf(name), uri);
        _assertAgentEq(registry.agentOf(name), agent);
    }

    function _field(AgentRegistry.Agent memory a, uint256 field) internal pure returns (address value) {
        assembly {
            value := mload(add(a, mul(field, 0x20)))
        }
    }

    function _setField(AgentRegistry.Agent memory a, uint256 field, address value) internal pure {
        assembly {
            mstore(add(a, mul(field, 0x20)), value)
        }
    }

    // ---------------------------------------------------------------- setMetadata

    function test_setMetadata() public {
        _register("writer", agent);
        vm.expectEmit(address(registry));
        emit MetadataUpdated("writer", "new");
        vm.prank(timelock);
        registry.setMetadata("writer", "new");
        assertEq(registry.metadataOf("writer"), "new");
    }

    function test_setMetadata_revertsForOthers() public {
        _register("writer", agent);
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, address(this))
        );
        registry.setMetadata("writer", "new");
    }

    function test_setMetadata_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryNotRegistered.selector, "ghost"));
        vm.prank(timelock);
        registry.setMetadata("ghost", "new");
    }

    function testFuzz_setMetadata_onlyTimelock(address caller, string calldata uri) public {
        _register("writer", agent);
        if (caller != timelock) {
            vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, caller));
        }
        vm.prank(caller);
        registry.setMetadata("writer", uri);
        assertEq(registry.metadataOf("writer"), caller == timelock ? uri : "");
    }

    // ---------------------------------------------------------------- views

    function test_agentOf_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryNotRegistered.selector, "ghost"));
        registry.agentOf("ghost");
    }

    function test_metadataOf_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryNotRegistered.selector, "ghost"));
        registry.metadataOf("ghost");
    }

    function test_isRegistered_falseForFreeName() public view {
        assertFalse(registry.isRegistered("ghost"));
    }

    function test_names_emptyAtStart() public view {
        assertEq(registry.nameCount(), 0);
        assertEq(registry.names(0, 100).length, 0);
    }

    function _registerMany(uint256 n) internal {
        for (uint256 i; i < n; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            address t = address(uint160(0xA000 + i));
            _register(string.concat("agent-", vm.toString(i)), _set(t, 100 + i));
        }
    }

    function test_names_pagesInOrder() public {
        _registerMany(5);
        assertEq(registry.nameCount(), 5);
        string[] memory page = registry.names(1, 2);
        assertEq(page.length, 2);
        assertEq(page[0], "agent-1");
        assertEq(page[1], "agent-2");
        // clipped at the end, empty past it
        page = registry.names(3, 10);
        assertEq(page.length, 2);
        assertEq(page[1], "agent-4");
        assertEq(registry.names(5, 1).length, 0);
        assertEq(registry.names(0, 0).length, 0);
        assertEq(registry.names(2, type(uint256).max).length, 3);
    }

    function testFuzz_names_page(uint256 start, uint256 count) public {
        _registerMany(7);
        start = bound(start, 0, 9);
        count = bound(count, 0, type(uint256).max);
        string[] memory page = registry.names(start, count);
        uint256 expected = start >= 7 ? 0 : (7 - start < count ? 7 - start : count);
        assertEq(page.length, expected);
        for (uint256 i; i < page.length; ++i) {
            assertEq(page[i], string.concat("agent-", vm.toString(start + i)));
        }
    }
}

/// @notice The squats the review found, against a real agent set deployed and registered as launch does.
contract AgentRegistryAttackTest is AgentDeployment {
    address internal squatter = makeAddr("squatter");
    address internal holder = makeAddr("holder");

    function setUp() public {
        address[] memory holders = new address[](1);
        holders[0] = holder;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 1_000_000e18;
        _deployAgent(holders, amounts);
    }

    function _fakeTreasury() internal returns (address) {
        return address(new AgentPartMock(squatter));
    }

    function test_DeploymentRegistered() public view {
        assertEq(registry.nameCount(), 1);
        assertEq(keccak256(abi.encode(registry.agentOf("agent"))), keccak256(abi.encode(_agentRecord())));
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)));
    }

    /// The review's squat: the real token, governor and config beside a fake treasury as `payTo`, under a new
    /// name, by an account that controls none of them.
    function test_Attack_SquatRealAgentWithFakeTreasury() public {
        AgentRegistry.Agent memory fake = _agentRecord();
        fake.treasury = _fakeTreasury();
        vm.prank(squatter);
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, squatter));
        registry.register("agent-official", fake, "");
        // naming itself as the timelock: the real governor and config report the real one
        fake.timelock = squatter;
        vm.prank(squatter);
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentRegistry.AgentRegistryNotTimelocks.selector, address(governor), squatter
            )
        );
        registry.register("agent-official", fake, "");
        assertFalse(registry.isRegistered("agent-official"));
    }

    /// The same squat on a registry where the real agent is not registered yet (front-running the launch).
    function test_Attack_SquatBeforeTheLaunchRegisters() public {
        AgentRegistry fresh = new AgentRegistry();
        AgentRegistry.Agent memory fake = _agentRecord();
        fake.treasury = _fakeTreasury();
        vm.prank(squatter);
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, squatter));
        fresh.register("agent", fake, "");
        // the squatter's own timelock with the real governor: the governor reports the real timelock
        AgentTimelock own = new AgentTimelock(1, new address[](0), new address[](0), squatter);
        fake.timelock = address(own);
        vm.prank(squatter);
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentRegistry.AgentRegistryNotTimelocks.selector, address(governor), address(own)
            )
        );
        fresh.register("agent", fake, "");
        assertEq(fresh.nameCount(), 0);
    }

    /// A set that is entirely the squatter's own but reuses the real agent's stake cannot join it to a second
    /// record: the stake reports the real timelock as its owner.
    function test_Attack_SecondRecordReusesRealTokenAndStake() public {
        AgentTimelock own = new AgentTimelock(1, new address[](0), new address[](0), squatter);
        AgentRegistry.Agent memory fake = AgentRegistry.Agent({
            token: address(token),
            stake: address(stake),
            governor: address(new AgentPartMock(address(own))),
            timelock: address(own),
            config: address(new AgentPartMock(address(own))),
            treasury: address(new AgentPartMock(address(own)))
        });
        vm.prank(squatter);
        vm.expectRevert(
            abi.encodeWithSelector(
                AgentRegistry.AgentRegistryNotTimelocks.selector, address(stake), address(own)
            )
        );
        registry.register("agent-official", fake, "");
        // nor under the real name, whatever stake it brings
        fake.stake = address(_ownStake(address(own)));
        vm.prank(squatter);
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryNameTaken.selector, "agent"));
        registry.register("agent", fake, "");
        assertEq(registry.nameCount(), 1);
    }

    /// A real AgentStake of the squatter's own over the real token, owned by the squatter's timelock.
    function _ownStake(address own) internal returns (AgentStake) {
        return new AgentStake(IERC20(address(token)), IERC20(address(usdc)), "Squat", "sSQ", own, 7 days);
    }

    /// Lead's decision: the token is not claimed by a record. Had it been, a squatter could register a set of
    /// its own around the real token before the launch registers (the token exists from the launch's first
    /// step), and the real agent's registration would then revert for good. Now the pre-registration stands
    /// beside the real one and takes none of its name or parts.
    function test_Attack_PreRegistrationWithTheRealTokenDoesNotBlockTheLaunch() public {
        AgentRegistry fresh = new AgentRegistry();
        AgentTimelock own = new AgentTimelock(1, new address[](0), new address[](0), squatter);
        AgentRegistry.Agent memory squat = AgentRegistry.Agent({
            token: address(token),
            stake: address(_ownStake(address(own))),
            governor: address(new AgentPartMock(address(own))),
            timelock: address(own),
            config: address(new AgentPartMock(address(own))),
            treasury: address(new AgentPartMock(address(own)))
        });
        vm.prank(squatter);
        fresh.register("agent-squat", squat, "");
        // the real agent's registration (its timelock has the same authority as the launch holding its
        // admin role) goes through with the same token
        vm.prank(address(timelock));
        fresh.register("agent", _agentRecord(), "ipfs://agent");
        assertEq(keccak256(abi.encode(fresh.agentOf("agent"))), keccak256(abi.encode(_agentRecord())));
        assertEq(fresh.nameOf(address(stake)), "agent");
        assertEq(fresh.nameOf(address(treasury)), "agent");
        assertEq(fresh.nameOf(address(token)), "");
        assertEq(fresh.nameCount(), 2);
    }

    /// The same through the launch itself: a fresh deployment whose deployer still administers the timelock
    /// registers after the squatter pre-registered around the real token.
    function test_Attack_PreRegistrationDoesNotBlockTheLaunchAsDeployer() public {
        AgentRegistry fresh = new AgentRegistry();
        AgentTimelock own = new AgentTimelock(1, new address[](0), new address[](0), squatter);
        AgentTimelock launching = new AgentTimelock(1 days, new address[](0), new address[](0), address(this));
        AgentStake realStake = new AgentStake(
            IERC20(address(token)), IERC20(address(usdc)), "Staked", "sAGT", address(launching), 7 days
        );
        AgentRegistry.Agent memory real = AgentRegistry.Agent({
            token: address(token),
            stake: address(realStake),
            governor: address(new AgentPartMock(address(launching))),
            timelock: address(launching),
            config: address(new AgentPartMock(address(launching))),
            treasury: address(new AgentPartMock(address(launching)))
        });
        // the squatter's own set around the real token (a copy: memory structs assign by reference)
        AgentRegistry.Agent memory squat = AgentRegistry.Agent({
            token: address(token),
            stake: address(_ownStake(address(own))),
            governor: address(new AgentPartMock(address(own))),
            timelock: address(own),
            config: address(new AgentPartMock(address(own))),
            treasury: address(new AgentPartMock(address(own)))
        });
        vm.prank(squatter);
        fresh.register("squat", squat, "");
        fresh.register("launched", real, "");
        assertEq(fresh.nameOf(address(realStake)), "launched");
    }

    /// Even the real timelock (through a proposal) cannot register its addresses a second time.
    function test_Attack_RealTimelockRegistersItsSetTwice() public {
        AgentRegistry.Agent memory again = _agentRecord();
        vm.prank(address(timelock));
        vm.expectRevert(
            abi.encodeWithSelector(AgentRegistry.AgentRegistryAddressTaken.selector, address(stake), "agent")
        );
        registry.register("agent-2", again, "");
    }

    function testFuzz_Attack_NobodyElseRegistersTheRealSet(address caller, string calldata name) public {
        vm.assume(caller != address(timelock) && bytes(name).length != 0);
        AgentRegistry fresh = new AgentRegistry();
        AgentRegistry.Agent memory fake = _agentRecord();
        fake.treasury = _fakeTreasury();
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, caller));
        fresh.register(name, fake, "");
    }
}
