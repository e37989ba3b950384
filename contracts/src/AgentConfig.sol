// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ISplitCheckpoint} from "./interfaces/ISplitCheckpoint.sol";

/// @title AgentConfig
/// @notice The agent's governed configuration: system prompt, model, temperature, skills with prices,
/// revenue split and hiring budget, plus a pause flag kept apart from it. Only the owner (the agent's
/// timelock) writes it; a guardian may only pause. Every write bumps `version`: a content write emits
/// the whole new config (`ConfigUpdated`), a pause or resume only the flag (`PauseChanged`), so the
/// runtime can rebuild the live config from events alone and the emergency stop costs the same at any
/// config size. `configHash = keccak256(abi.encode(contentHash, paused))` with
/// `contentHash = keccak256(abi.encode(config()))`.
/// @dev Skills live in a generation: `setConfig` starts a new one and abandons the old skills' storage
/// instead of deleting it slot by slot, so even a maximal config can be replaced in one transaction.
contract AgentConfig is Ownable, ReentrancyGuardTransient {
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
    }

    uint256 public constant MAX_SYSTEM_PROMPT_BYTES = 8192;
    uint256 public constant MAX_MODEL_BYTES = 128;
    uint16 public constant MAX_TEMPERATURE = 200;
    uint256 public constant MAX_SKILLS = 32;
    uint256 public constant MAX_SKILL_NAME_BYTES = 64;
    /// @dev A content write copies, hashes and emits the whole config: unbounded text would price
    /// governance's own writes out of a block (the pause no longer depends on it).
    uint256 public constant MAX_SKILL_INSTRUCTIONS_BYTES = 4096;
    uint16 public constant BPS = 10_000;

    /// @notice Lowest price a skill may have, in payment-token units.
    uint256 public immutable priceFloor;
    /// @notice Highest price a skill may have, in payment-token units.
    uint256 public immutable priceCeiling;
    /// @dev The deployer: the only account that may bind the treasury, once.
    address private immutable _binder;

    string private _systemPrompt;
    string private _model;
    uint16 private _temperature;
    Split private _split;
    uint256 private _hireBudget;
    uint256 private _generation;
    mapping(uint256 generation => Skill[]) private _skills;
    // keccak256(name) => index in _skills[generation] plus one (0 = absent)
    mapping(uint256 generation => mapping(bytes32 nameHash => uint256)) private _skillSlot;
    bytes32 private _contentHash;
    // one slot, so a pause reads and writes a single slot besides the content hash
    address private _guardian;
    uint64 private _version;
    bool private _paused;
    address private _treasury;

    /// @notice Emitted after every content write (and by the constructor as version 1) with the full
    /// new config; `configHash` covers it and the current pause flag.
    event ConfigUpdated(uint64 indexed version, bytes32 indexed configHash, Config config);
    /// @notice Emitted after every pause or resume; the content (and so `contentHash`) is unchanged.
    event PauseChanged(uint64 indexed version, bytes32 indexed configHash, bool paused);
    /// @notice Emitted when the owner replaces the guardian.
    event GuardianChanged(address indexed previousGuardian, address indexed newGuardian);
    /// @notice Emitted once, when the deployer binds the treasury whose income a split change settles.
    event TreasuryBound(address indexed treasury);

    /// @notice `caller` is not the guardian.
    error AgentConfigNotGuardian(address caller);
    /// @notice `floor` is above `ceiling`.
    error AgentConfigInvalidPriceBand(uint256 floor, uint256 ceiling);
    /// @notice The split's parts sum to `totalBps`, not 10_000.
    error AgentConfigInvalidSplit(uint256 totalBps);
    /// @notice The system prompt is empty or longer than 8192 bytes.
    error AgentConfigInvalidSystemPrompt(uint256 length);
    /// @notice The model is empty or longer than 128 bytes.
    error AgentConfigInvalidModel(uint256 length);
    /// @notice The temperature is above 200.
    error AgentConfigInvalidTemperature(uint16 temperature);
    /// @notice The config would hold `count` skills (allowed: 1..32).
    error AgentConfigInvalidSkillCount(uint256 count);
    /// @notice A skill name is empty or longer than 64 bytes.
    error AgentConfigInvalidSkillName(string name);
    /// @notice Two skills share `name`.
    error AgentConfigDuplicateSkill(string name);
    /// @notice No skill is called `name`.
    error AgentConfigUnknownSkill(string name);
    /// @notice `name` is the only skill left and cannot be removed.
    error AgentConfigLastSkill(string name);
    /// @notice `price` of skill `name` is outside [priceFloor, priceCeiling].
    error AgentConfigPriceOutOfBand(string name, uint256 price);
    /// @notice The instructions of skill `name` are longer than 4096 bytes.
    error AgentConfigInvalidSkillInstructions(string name, uint256 length);
    /// @notice Ownership cannot be renounced: a config nobody governs could never be changed again.
    error AgentConfigCannotRenounce();
    /// @notice `caller` is not the deployer, the only account that may bind the treasury.
    error AgentConfigNotBinder(address caller);
    /// @notice The treasury is already bound to `treasury`.
    error AgentConfigTreasuryAlreadyBound(address treasury);
    /// @notice `treasury` has no code.
    error AgentConfigInvalidTreasury(address treasury);

    /// @param owner_ The agent's timelock; the deployer never owns the config.
    /// @param guardian_ May only pause; zero for none.
    /// @param priceFloor_ Lowest allowed skill price.
    /// @param priceCeiling_ Highest allowed skill price; at least `priceFloor_`.
    /// @param initial The config stored as version 1 (not paused).
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
        _binder = msg.sender;
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

    /// @notice Binds the treasury whose pending income is distributed before every split change. Once,
    /// by the deployer (launch, right after deploying the treasury); until then split changes settle nothing.
    /// @param treasury_ The agent's AgentTreasury.
    function bindTreasury(address treasury_) external {
        if (msg.sender != _binder) revert AgentConfigNotBinder(msg.sender);
        if (_treasury != address(0)) revert AgentConfigTreasuryAlreadyBound(_treasury);
        // an address without code would make every later split change revert
        if (treasury_.code.length == 0) revert AgentConfigInvalidTreasury(treasury_);
        _treasury = treasury_;
        emit TreasuryBound(treasury_);
    }

    /// @notice Replaces the whole configuration; the pause flag is left as it is.
    /// @dev A new skill generation: the old skills' storage is abandoned, not cleared, so shrinking a
    /// maximal config stays far below the block gas limit. A changed split first settles pending income.
    /// @param newConfig The new config; every guardrail applies.
    function setConfig(Config calldata newConfig) external onlyOwner nonReentrant {
        if (_splitChanges(newConfig.split)) _checkpoint();
        _storeConfig(newConfig);
        _commit();
    }

    /// @notice Replaces the system prompt (non-empty, at most 8192 bytes).
    function setSystemPrompt(string calldata systemPrompt) external onlyOwner {
        _checkSystemPrompt(systemPrompt);
        _systemPrompt = systemPrompt;
        _commit();
    }

    /// @notice Replaces the model, "provider:model" (non-empty, at most 128 bytes).
    function setModel(string calldata model) external onlyOwner {
        _checkModel(model);
        _model = model;
        _commit();
    }

    /// @notice Replaces the temperature, in hundredths (at most 200).
    function setTemperature(uint16 temperature) external onlyOwner {
        _checkTemperature(temperature);
        _temperature = temperature;
        _commit();
    }

    /// @notice Adds a skill, or replaces the skill with the same name.
    /// @param skill Name non-empty and at most 64 bytes; instructions at most 4096 bytes; price
    /// within the band; at most 32 skills.
    function setSkill(Skill calldata skill) external onlyOwner {
        _checkSkill(skill);
        uint256 generation = _generation;
        uint256 slot = _skillSlot[generation][keccak256(bytes(skill.name))];
        if (slot == 0) {
            _pushSkill(generation, skill);
        } else {
            _skills[generation][slot - 1] = skill;
        }
        _commit();
    }

    /// @notice Removes a skill by name; the last remaining skill cannot be removed.
    /// @dev The last skill in the list takes the removed one's place (order is not preserved).
    function removeSkill(string calldata name) external onlyOwner {
        uint256 generation = _generation;
        Skill[] storage skills = _skills[generation];
        mapping(bytes32 => uint256) storage slots = _skillSlot[generation];
        bytes32 key = keccak256(bytes(name));
        uint256 slot = slots[key];
        if (slot == 0) revert AgentConfigUnknownSkill(name);
        uint256 last = skills.length - 1;
        if (last == 0) revert AgentConfigLastSkill(name);
        if (slot - 1 != last) {
            Skill storage moved = skills[last];
            skills[slot - 1] = moved;
            slots[keccak256(bytes(moved.name))] = slot;
        }
        skills.pop();
        delete slots[key];
        _commit();
    }

    /// @notice Sets the price of an existing skill (within [priceFloor, priceCeiling]).
    function setSkillPrice(string calldata name, uint256 price) external onlyOwner {
        uint256 generation = _generation;
        uint256 slot = _skillSlot[generation][keccak256(bytes(name))];
        if (slot == 0) revert AgentConfigUnknownSkill(name);
        _checkPrice(name, price);
        _skills[generation][slot - 1].price = price;
        _commit();
    }

    /// @notice Replaces the revenue split (must sum to 10_000 bps). The treasury's pending income is
    /// distributed first, under the old split, so a split applies only to income earned under it.
    function setSplit(Split calldata newSplit) external onlyOwner nonReentrant {
        _checkSplit(newSplit);
        _checkpoint();
        _split = newSplit;
        _commit();
    }

    /// @notice Sets the payment-token amount the agent may spend hiring other agents per day.
    function setHireBudget(uint256 hireBudget) external onlyOwner {
        _hireBudget = hireBudget;
        _commit();
    }

    /// @notice Pauses or resumes the agent (only governance can resume). O(1): emits `PauseChanged`.
    function setPaused(bool paused_) external onlyOwner {
        _setPaused(paused_);
    }

    /// @notice Replaces the guardian (zero for none). Counts as a write: the version is bumped.
    function setGuardian(address newGuardian) external onlyOwner {
        address previous = _guardian;
        _guardian = newGuardian;
        emit GuardianChanged(previous, newGuardian);
        _commit();
    }

    /// @notice Emergency stop by the guardian; it cannot unpause, only governance can. O(1) at any
    /// config size: emits `PauseChanged`.
    function pause() external onlyGuardian {
        _setPaused(true);
    }

    /// @notice Always reverts: the config must stay governed.
    function renounceOwnership() public pure override {
        revert AgentConfigCannotRenounce();
    }

    // ----------------------------------------------------------------- reads

    /// @notice The whole current configuration (without the pause flag, see {paused}).
    function config() external view returns (Config memory) {
        return _current();
    }

    /// @notice The current version; 1 is the constructor's config.
    function version() external view returns (uint64) {
        return _version;
    }

    /// @notice keccak256(abi.encode(contentHash(), paused())).
    function configHash() external view returns (bytes32) {
        return _hashWithPause(_contentHash, _paused);
    }

    /// @notice keccak256(abi.encode(config())).
    function contentHash() external view returns (bytes32) {
        return _contentHash;
    }

    /// @notice Whether the agent is paused.
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @notice The current revenue split (read by AgentTreasury).
    function split() external view returns (Split memory) {
        return _split;
    }

    /// @notice The price of a skill; reverts for an unknown skill.
    function priceOf(string calldata name) external view returns (uint256) {
        uint256 generation = _generation;
        uint256 slot = _skillSlot[generation][keccak256(bytes(name))];
        if (slot == 0) revert AgentConfigUnknownSkill(name);
        return _skills[generation][slot - 1].price;
    }

    /// @notice The address that may pause the agent.
    function guardian() external view returns (address) {
        return _guardian;
    }

    /// @notice The treasury settled before a split change; zero until the deployer binds it.
    function treasury() external view returns (address) {
        return _treasury;
    }

    // -------------------------------------------------------------- internal

    function _current() private view returns (Config memory c) {
        c.systemPrompt = _systemPrompt;
        c.model = _model;
        c.temperature = _temperature;
        c.skills = _skills[_generation];
        c.split = _split;
        c.hireBudget = _hireBudget;
    }

    function _commit() private {
        Config memory current = _current();
        bytes32 content = keccak256(abi.encode(current));
        _contentHash = content;
        uint64 newVersion = ++_version;
        emit ConfigUpdated(newVersion, _hashWithPause(content, _paused), current);
    }

    function _setPaused(bool paused_) private {
        _paused = paused_;
        uint64 newVersion = ++_version;
        emit PauseChanged(newVersion, _hashWithPause(_contentHash, paused_), paused_);
    }

    function _hashWithPause(bytes32 content, bool paused_) private pure returns (bytes32) {
        return keccak256(abi.encode(content, paused_));
    }

    /// @dev Income pending in the treasury was earned under the current split: pay it out under that
    /// split before it changes, or whoever orders `distribute` and the change would choose the split.
    /// No try/catch: a checkpoint skipped by a failing (or gas-starved) call would defeat the rule.
    function _checkpoint() private {
        address treasury_ = _treasury;
        if (treasury_ != address(0)) ISplitCheckpoint(treasury_).distribute();
    }

    function _splitChanges(Split calldata next) private view returns (bool) {
        Split memory current = _split;
        return next.stakersBps != current.stakersBps || next.operatorBps != current.operatorBps
            || next.buybackBps != current.buybackBps || next.reserveBps != current.reserveBps;
    }

    function _storeConfig(Config memory c) private {
        _checkSystemPrompt(c.systemPrompt);
        _checkModel(c.model);
        _checkTemperature(c.temperature);
        _checkSplit(c.split);
        uint256 count = c.skills.length;
        if (count == 0 || count > MAX_SKILLS) revert AgentConfigInvalidSkillCount(count);
        _systemPrompt = c.systemPrompt;
        _model = c.model;
        _temperature = c.temperature;
        _split = c.split;
        _hireBudget = c.hireBudget;
        // a fresh generation (the constructor fills generation 1): nothing to delete
        uint256 generation = ++_generation;
        for (uint256 i; i < count; ++i) {
            _checkSkill(c.skills[i]);
            _pushSkill(generation, c.skills[i]);
        }
    }

    /// @dev Caller has validated name and price; this enforces uniqueness and the count cap.
    function _pushSkill(uint256 generation, Skill memory skill) private {
        bytes32 key = keccak256(bytes(skill.name));
        mapping(bytes32 => uint256) storage slots = _skillSlot[generation];
        if (slots[key] != 0) revert AgentConfigDuplicateSkill(skill.name);
        Skill[] storage skills = _skills[generation];
        uint256 count = skills.length;
        if (count == MAX_SKILLS) revert AgentConfigInvalidSkillCount(count + 1);
        skills.push(skill);
        slots[key] = count + 1;
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
