// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title AgentConfig
/// @notice The agent's governed configuration: system prompt, model, temperature, skills with prices,
/// revenue split, hiring budget and pause flag. Only the owner (the agent's timelock) writes it; a
/// guardian may only pause. Every write bumps `version` and emits the whole new config and its hash,
/// so the runtime can rebuild the live config from events alone.
contract AgentConfig is Ownable {
    /// @notice One sellable skill; `price` is in payment-token units.
    struct Skill {
        string name;
        string instructions;
        uint256 price;
    }

    /// @notice Revenue split of `AgentTreasury.distribute`, in basis points; sums to 10_000.
    struct Split {
        uint16 stakersBps;
        uint16 operatorBps;
        uint16 buybackBps;
        uint16 reserveBps;
    }

    /// @notice The whole configuration; `temperature` is in hundredths (70 = 0.70).
    struct Config {
        string systemPrompt;
        string model;
        uint16 temperature;
        Skill[] skills;
        Split split;
        uint256 hireBudget;
        bool paused;
    }

    uint256 public constant MAX_SYSTEM_PROMPT_BYTES = 8192;
    uint256 public constant MAX_MODEL_BYTES = 128;
    uint16 public constant MAX_TEMPERATURE = 200;
    uint256 public constant MAX_SKILLS = 32;
    uint256 public constant MAX_SKILL_NAME_BYTES = 64;
    /// @dev Every write copies, hashes and emits the whole config: unbounded text would
    /// price even the guardian's `pause()` out of a block.
    uint256 public constant MAX_SKILL_INSTRUCTIONS_BYTES = 4096;
    uint16 public constant BPS = 10_000;

    /// @notice Lowest price a skill may have, in payment-token units.
    uint256 public immutable priceFloor;
    /// @notice Highest price a skill may have, in payment-token units.
    uint256 public immutable priceCeiling;

    Config private _config;
    uint64 private _version;
    bytes32 private _configHash;
    address private _guardian;
    // keccak256(name) => index in _config.skills plus one (0 = absent)
    mapping(bytes32 => uint256) private _skillSlot;

    /// @notice Emitted after every write (and by the constructor as version 1) with the full new config.
    event ConfigUpdated(uint64 indexed version, bytes32 indexed configHash, Config config);
    /// @notice Emitted when the owner replaces the guardian.
    event GuardianChanged(address indexed previousGuardian, address indexed newGuardian);

    error AgentConfigNotGuardian(address caller);
    error AgentConfigInvalidPriceBand(uint256 floor, uint256 ceiling);
    error AgentConfigInvalidSplit(uint256 totalBps);
    error AgentConfigInvalidSystemPrompt(uint256 length);
    error AgentConfigInvalidModel(uint256 length);
    error AgentConfigInvalidTemperature(uint16 temperature);
    error AgentConfigInvalidSkillCount(uint256 count);
    error AgentConfigInvalidSkillName(string name);
    error AgentConfigDuplicateSkill(string name);
    error AgentConfigUnknownSkill(string name);
    error AgentConfigLastSkill(string name);
    error AgentConfigPriceOutOfBand(string name, uint256 price);
    error AgentConfigInvalidSkillInstructions(string name, uint256 length);

    /// @param owner_ The agent's timelock; the deployer never owns the config.
    /// @param guardian_ May only pause; zero for none.
    /// @param priceFloor_ Lowest allowed skill price.
    /// @param priceCeiling_ Highest allowed skill price; at least `priceFloor_`.
    /// @param initial The config stored as version 1.
    constructor(
        address owner_,
        address guardian_,
        uint256 priceFloor_,
        uint256 priceCeiling_,
        Config memory initial
    ) Ownable(owner_) {
        if (priceFloor_ > priceCeiling_) {
            revert AgentConfigInvalidPriceBand(priceFloor_, priceCeiling_);
        }
        priceFloor = priceFloor_;
        priceCeiling = priceCeiling_;
        _guardian = guardian_;
        emit GuardianChanged(address(0), guardian_);
        _storeConfig(initial);
        _commit();
    }

    modifier onlyGuardian() {
        if (msg.sender != _guardian) revert AgentConfigNotGuardian(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- writes

    /// @notice Replaces the whole configuration.
    /// @param newConfig The new config; every guardrail applies.
    function setConfig(Config calldata newConfig) external onlyOwner {
        _clearSkills();
        _storeConfig(newConfig);
        _commit();
    }

    /// @notice Replaces the system prompt (non-empty, at most 8192 bytes).
    function setSystemPrompt(string calldata systemPrompt) external onlyOwner {
        _checkSystemPrompt(systemPrompt);
        _config.systemPrompt = systemPrompt;
        _commit();
    }

    /// @notice Replaces the model, "provider:model" (non-empty, at most 128 bytes).
    function setModel(string calldata model) external onlyOwner {
        _checkModel(model);
        _config.model = model;
        _commit();
    }

    /// @notice Replaces the temperature, in hundredths (at most 200).
    function setTemperature(uint16 temperature) external onlyOwner {
        _checkTemperature(temperature);
        _config.temperature = temperature;
        _commit();
    }

    /// @notice Adds a skill, or replaces the skill with the same name.
    /// @param skill Name non-empty and at most 64 bytes; instructions at most 4096 bytes; price
    /// within the band; at most 32 skills.
    function setSkill(Skill calldata skill) external onlyOwner {
        _checkSkill(skill);
        uint256 slot = _skillSlot[keccak256(bytes(skill.name))];
        if (slot == 0) {
            _pushSkill(skill);
        } else {
            _config.skills[slot - 1] = skill;
        }
        _commit();
    }

    /// @notice Removes a skill by name; the last remaining skill cannot be removed.
    /// @dev The last skill in the list takes the removed one's place (order is not preserved).
    function removeSkill(string calldata name) external onlyOwner {
        bytes32 key = keccak256(bytes(name));
        uint256 slot = _skillSlot[key];
        if (slot == 0) revert AgentConfigUnknownSkill(name);
        uint256 last = _config.skills.length - 1;
        if (last == 0) revert AgentConfigLastSkill(name);
        if (slot - 1 != last) {
            Skill storage moved = _config.skills[last];
            _config.skills[slot - 1] = moved;
            _skillSlot[keccak256(bytes(moved.name))] = slot;
        }
        _config.skills.pop();
        delete _skillSlot[key];
        _commit();
    }

    /// @notice Sets the price of an existing skill (within [priceFloor, priceCeiling]).
    function setSkillPrice(string calldata name, uint256 price) external onlyOwner {
        uint256 slot = _skillSlot[keccak256(bytes(name))];
        if (slot == 0) revert AgentConfigUnknownSkill(name);
        _checkPrice(name, price);
        _config.skills[slot - 1].price = price;
        _commit();
    }

    /// @notice Replaces the revenue split (must sum to 10_000 bps).
    function setSplit(Split calldata newSplit) external onlyOwner {
        _checkSplit(newSplit);
        _config.split = newSplit;
        _commit();
    }

    /// @notice Sets the payment-token amount the agent may spend hiring other agents per day.
    function setHireBudget(uint256 hireBudget) external onlyOwner {
        _config.hireBudget = hireBudget;
        _commit();
    }

    /// @notice Pauses or resumes the agent (only governance can resume).
    function setPaused(bool paused) external onlyOwner {
        _config.paused = paused;
        _commit();
    }

    /// @notice Replaces the guardian (zero for none). Counts as a write: the version is bumped.
    function setGuardian(address newGuardian) external onlyOwner {
        address previous = _guardian;
        _guardian = newGuardian;
        emit GuardianChanged(previous, newGuardian);
        _commit();
    }

    /// @notice Emergency stop by the guardian; it cannot unpause, only governance can.
    function pause() external onlyGuardian {
        _config.paused = true;
        _commit();
    }

    // ----------------------------------------------------------------- reads

    /// @notice The whole current configuration.
    function config() external view returns (Config memory) {
        return _config;
    }

    /// @notice The current version; 1 is the constructor's config.
    function version() external view returns (uint64) {
        return _version;
    }

    /// @notice keccak256(abi.encode(config())) of the current config.
    function configHash() external view returns (bytes32) {
        return _configHash;
    }

    /// @notice The current revenue split (read by AgentTreasury).
    function split() external view returns (Split memory) {
        return _config.split;
    }

    /// @notice The price of a skill; reverts for an unknown skill.
    function priceOf(string calldata name) external view returns (uint256) {
        uint256 slot = _skillSlot[keccak256(bytes(name))];
        if (slot == 0) revert AgentConfigUnknownSkill(name);
        return _config.skills[slot - 1].price;
    }

    /// @notice The address that may pause the agent.
    function guardian() external view returns (address) {
        return _guardian;
    }

    // -------------------------------------------------------------- internal

    function _commit() private {
        Config memory current = _config;
        bytes32 hash = keccak256(abi.encode(current));
        uint64 newVersion = ++_version;
        _configHash = hash;
        emit ConfigUpdated(newVersion, hash, current);
    }

    function _storeConfig(Config memory c) private {
        _checkSystemPrompt(c.systemPrompt);
        _checkModel(c.model);
        _checkTemperature(c.temperature);
        _checkSplit(c.split);
        uint256 count = c.skills.length;
        if (count == 0 || count > MAX_SKILLS) revert AgentConfigInvalidSkillCount(count);
        _config.systemPrompt = c.systemPrompt;
        _config.model = c.model;
        _config.temperature = c.temperature;
        _config.split = c.split;
        _config.hireBudget = c.hireBudget;
        _config.paused = c.paused;
        // the compiler cannot copy a struct array into storage in one assignment
        for (uint256 i; i < count; ++i) {
            _checkSkill(c.skills[i]);
            _pushSkill(c.skills[i]);
        }
    }

    function _clearSkills() private {
        Skill[] storage skills = _config.skills;
        for (uint256 i = skills.length; i > 0; --i) {
            delete _skillSlot[keccak256(bytes(skills[i - 1].name))];
            skills.pop();
        }
    }

    /// @dev Caller has validated name and price; this enforces uniqueness and the count cap.
    function _pushSkill(Skill memory skill) private {
        bytes32 key = keccak256(bytes(skill.name));
        if (_skillSlot[key] != 0) revert AgentConfigDuplicateSkill(skill.name);
        uint256 count = _config.skills.length;
        if (count == MAX_SKILLS) revert AgentConfigInvalidSkillCount(count + 1);
        _config.skills.push(skill);
        _skillSlot[key] = count + 1;
    }

    function _checkSystemPrompt(string memory prompt) private pure {
        uint256 length = bytes(prompt).length;
        if (length == 0 || length > MAX_SYSTEM_PROMPT_BYTES) revert AgentConfigInvalidSystemPrompt(length);
    }

    function _checkModel(string memory model) private pure {
        uint256 length = bytes(model).length;
        if (length == 0 || length > MAX_MODEL_BYTES) revert AgentConfigInvalidModel(length);
    }

    function _checkTemperature(uint16 temperature) private pure {
        if (temperature > MAX_TEMPERATURE) revert AgentConfigInvalidTemperature(temperature);
    }

    function _checkSplit(Split memory s) private pure {
        uint256 total = uint256(s.stakersBps) + s.operatorBps + s.buybackBps + s.reserveBps;
        if (total != BPS) revert AgentConfigInvalidSplit(total);
    }

    function _checkSkill(Skill memory skill) private view {
        uint256 length = bytes(skill.name).length;
        if (length == 0 || length > MAX_SKILL_NAME_BYTES) revert AgentConfigInvalidSkillName(skill.name);
        uint256 instructions = bytes(skill.instructions).length;
        if (instructions > MAX_SKILL_INSTRUCTIONS_BYTES) {
            revert AgentConfigInvalidSkillInstructions(skill.name, instructions);
        }
        _checkPrice(skill.name, skill.price);
    }

    function _checkPrice(string memory name, uint256 price) private view {
        if (price < priceFloor || price > priceCeiling) revert AgentConfigPriceOutOfBand(name, price);
    }
}
