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

    /// @notice The largest config the guardrails allow: an 8192-byte prompt, a 128-byte model and 32 skills
    /// with 64-byte names and 4096-byte instructions. Too large to set in one transaction: see {maxSkill}.
    function maxConfig() internal pure returns (AgentConfig.Config memory c) {
        c = defaultConfig();
        c.systemPrompt = repeat("p", 8192);
        c.model = repeat("m", 128);
        c.skills = new AgentConfig.Skill[](32);
        for (uint256 i; i < 32; ++i) {
            c.skills[i] = maxSkill(i);
        }
    }

    /// @notice Skill `i` of {maxConfig}: a 64-byte name, 4096-byte instructions, the ceiling price.
    function maxSkill(uint256 i) internal pure returns (AgentConfig.Skill memory) {
        bytes memory name = bytes(repeat("n", 64));
        // forge-lint: disable-next-line(unsafe-typecast)
        name[0] = bytes1(uint8(65 + i));
        return AgentConfig.Skill(string(name), repeat("i", 4096), CEILING);
    }

    function repeat(bytes1 b, uint256 length) internal pure returns (string memory) {
        bytes memory out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = b;
        }
        return string(out);
    }
}
