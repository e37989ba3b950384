// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {AgentRegistry} from "../src/AgentRegistry.sol";

contract AgentRegistryTest is Test {
    event AgentRegistered(string name, AgentRegistry.Agent agent, string metadataURI);
    event MetadataUpdated(string name, string metadataURI);

    AgentRegistry internal registry;
    AgentRegistry.Agent internal agent;

    function setUp() public {
        registry = new AgentRegistry();
        agent = AgentRegistry.Agent({
            token: makeAddr("token"),
            stake: makeAddr("stake"),
            governor: makeAddr("governor"),
            timelock: makeAddr("timelock"),
            config: makeAddr("config"),
            treasury: makeAddr("treasury")
        });
    }

    function _assertAgentEq(AgentRegistry.Agent memory a, AgentRegistry.Agent memory b) internal pure {
        assertEq(keccak256(abi.encode(a)), keccak256(abi.encode(b)));
    }

    // ---------------------------------------------------------------- register

    function test_register() public {
        vm.expectEmit(address(registry));
        emit AgentRegistered("writer", agent, "ipfs://writer");
        vm.prank(makeAddr("anyone"));
        registry.register("writer", agent, "ipfs://writer");
        assertTrue(registry.isRegistered("writer"));
        _assertAgentEq(registry.agentOf("writer"), agent);
        assertEq(registry.metadataOf("writer"), "ipfs://writer");
        string[] memory names = registry.names();
        assertEq(names.length, 1);
        assertEq(names[0], "writer");
    }

    function test_register_keepsOrder() public {
        registry.register("a", agent, "");
        registry.register("b", agent, "");
        registry.register("c", agent, "");
        string[] memory names = registry.names();
        assertEq(names.length, 3);
        assertEq(names[0], "a");
        assertEq(names[2], "c");
    }

    function test_register_revertsOnEmptyName() public {
        vm.expectRevert(AgentRegistry.AgentRegistryEmptyName.selector);
        registry.register("", agent, "");
    }

    function test_register_revertsOnTakenName() public {
        registry.register("writer", agent, "");
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryNameTaken.selector, "writer"));
        registry.register("writer", agent, "other");
    }

    function test_register_revertsOnZeroAddress() public {
        agent.treasury = address(0);
        vm.expectRevert(AgentRegistry.AgentRegistryZeroAddress.selector);
        registry.register("writer", agent, "");
    }

    function testFuzz_register_revertsOnAnyZeroAddress(uint256 field) public {
        field = bound(field, 0, 5);
        AgentRegistry.Agent memory bad = agent;
        assembly {
            mstore(add(bad, mul(field, 0x20)), 0)
        }
        vm.expectRevert(AgentRegistry.AgentRegistryZeroAddress.selector);
        registry.register("writer", bad, "");
    }

    function testFuzz_register(string calldata name, string calldata uri) public {
        vm.assume(bytes(name).length != 0);
        registry.register(name, agent, uri);
        assertTrue(registry.isRegistered(name));
        assertEq(registry.metadataOf(name), uri);
        _assertAgentEq(registry.agentOf(name), agent);
    }

    // ---------------------------------------------------------------- setMetadata

    function test_setMetadata() public {
        registry.register("writer", agent, "old");
        vm.expectEmit(address(registry));
        emit MetadataUpdated("writer", "new");
        vm.prank(agent.timelock);
        registry.setMetadata("writer", "new");
        assertEq(registry.metadataOf("writer"), "new");
    }

    function test_setMetadata_revertsForOthers() public {
        registry.register("writer", agent, "old");
        address registrant = address(this);
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, registrant));
        registry.setMetadata("writer", "new");
    }

    function test_setMetadata_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryNotRegistered.selector, "ghost"));
        vm.prank(agent.timelock);
        registry.setMetadata("ghost", "new");
    }

    function testFuzz_setMetadata_onlyTimelock(address caller, string calldata uri) public {
        registry.register("writer", agent, "old");
        if (caller != agent.timelock) {
            vm.expectRevert(abi.encodeWithSelector(AgentRegistry.AgentRegistryUnauthorized.selector, caller));
        }
        vm.prank(caller);
        registry.setMetadata("writer", uri);
        assertEq(registry.metadataOf("writer"), caller == agent.timelock ? uri : "old");
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
        assertEq(registry.names().length, 0);
    }
}
