// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AgentConfig} from "../../src/AgentConfig.sol";

/// @notice Builds valid AgentConfig values for tests.
library ConfigFixture {
    uint256 internal constant FLOOR = 1_000; // 0.001 USDC
    uint256 internal constant CEILING = 1_000_000_000; // 1,000 USDC

    function defaultConfig() internal pure returns (AgentConfig.Config memory c) {
        c.systemPrompt = "You are a careful research assistant.";
        c.model = "offline:echo";
        c.temperature = 70;
        c.skills = new AgentConfig.Skill[](2);
        c.skills[0] = AgentConfig.Skill("summarize", "Summarize the input.", 10_000);
        c.skills[1] = AgentConfig.Skill("translate", "Translate the input.", 20_000);
        c.split = defaultSplit();
        c.hireBudget = 5_000_000;
        c.paused = false;
    }

    function defaultSplit() internal pure returns (AgentConfig.Split memory) {
        return
            AgentConfig.Split({stakersBps: 6_000, operatorBps: 2_000, buybackBps: 1_000, reserveBps: 1_000});
    }

    function skills(uint256 count, uint256 price) internal pure returns (AgentConfig.Skill[] memory s) {
        s = new AgentConfig.Skill[](count);
        for (uint256 i; i < count; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            s[i] = AgentConfig.Skill(string(abi.encodePacked("skill-", bytes1(uint8(65 + i)))), "", price);
        }
    }

    function repeat(bytes1 b, uint256 length) internal pure returns (string memory) {
        bytes memory out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = b;
        }
        return string(out);
    }
}
