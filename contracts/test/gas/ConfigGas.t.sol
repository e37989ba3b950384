// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console} from "forge-std/console.sol";
import {AgentConfig} from "../../src/AgentConfig.sol";
import {AgentRegistry} from "../../src/AgentRegistry.sol";
import {AgentPartMock} from "../mocks/AgentPartMock.sol";
import {ConfigFixture} from "../utils/ConfigFixture.sol";
import {MaxConfigBuilder} from "../AgentConfigAttacks.t.sol";

/// @notice Prints what a transaction pays (cold contract, 21k base and calldata included) for the emergency stop,
/// for shrinking a maximal config and for a page of registry names; run with `-vv` to see the figures.
contract ConfigGasTest is MaxConfigBuilder {
    address internal timelock = makeAddr("timelock");
    address internal guardian = makeAddr("guardian");

    function testGasPauseAndShrink() public {
        AgentConfig cfg = new AgentConfig(
            timelock, guardian, ConfigFixture.FLOOR, ConfigFixture.CEILING, ConfigFixture.defaultConfig()
        );
        console.log(
            "pause, default config      ",
            _txGas(address(cfg), guardian, abi.encodeCall(AgentConfig.pause, ()))
        );
        console.log(
            "setPaused, default config  ",
            _txGas(address(cfg), timelock, abi.encodeCall(AgentConfig.setPaused, (false)))
        );
        uint256 maxWrite = _buildMax(cfg, timelock);
        console.log("largest write building max ", maxWrite);
        console.log(
            "pause, maximal config      ",
            _txGas(address(cfg), guardian, abi.encodeCall(AgentConfig.pause, ()))
        );
        console.log(
            "setPaused, maximal config  ",
            _txGas(address(cfg), timelock, abi.encodeCall(AgentConfig.setPaused, (false)))
        );
        uint256 snapshot = vm.snapshotState();
        console.log(
            "setSystemPrompt 8192 -> 37 bytes",
            _txGas(
                address(cfg),
                timelock,
                abi.encodeCall(AgentConfig.setSystemPrompt, ("short prompt of thirty-seven bytes.."))
            )
        );
        vm.revertToState(snapshot);
        console.log(
            "setConfig maximal -> default",
            _txGas(
                address(cfg), timelock, abi.encodeCall(AgentConfig.setConfig, (ConfigFixture.defaultConfig()))
            )
        );
    }

    function testGasNamesPage() public {
        AgentRegistry registry = new AgentRegistry();
        for (uint256 i; i < 2_001; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            address t = address(uint160(0xA0000 + i));
            address tok = makeAddr(string.concat("token", vm.toString(i)));
            // the stake answers owner() and token() by mocked calls: a fourth deployment per agent would
            // push the 2,001 registrations past the test's gas limit
            address stk = makeAddr(string.concat("stake", vm.toString(i)));
            vm.mockCall(stk, abi.encodeWithSignature("owner()"), abi.encode(t));
            vm.mockCall(stk, abi.encodeWithSignature("token()"), abi.encode(tok));
            AgentRegistry.Agent memory a = AgentRegistry.Agent({
                token: tok,
                stake: stk,
                governor: address(new AgentPartMock(t)),
                timelock: t,
                config: address(new AgentPartMock(t)),
                treasury: address(new AgentPartMock(t))
            });
            vm.prank(t);
            registry.register(string.concat("agent-", vm.toString(i)), a, "");
        }
        assertEq(registry.nameCount(), 2_001);
        uint256 first =
            _txGas(address(registry), address(this), abi.encodeCall(AgentRegistry.names, (0, 100)));
        uint256 last =
            _txGas(address(registry), address(this), abi.encodeCall(AgentRegistry.names, (1_901, 100)));
        console.log("names(0, 100) at 2,001    ", first);
        console.log("names(1901, 100) at 2,001 ", last);
        assertLt(last, 1_000_000);
    }
}
