// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title AgentRegistry
/// @notice The deployment's directory of agents: name -> contract addresses and a metadata URI, so runtimes and
/// customers can discover every agent. Only an agent's own timelock, or an account holding that timelock's
/// DEFAULT_ADMIN_ROLE (the launch, before it renounces it), registers a name; the record must point at that
/// timelock wherever a contract can say so, and its stake, governor, timelock, config and treasury belong to at
/// most one record, so nobody can list a real agent's governor, config or treasury beside a fake `payTo`. The
/// token is not claimed: it cannot say which timelock it belongs to, so claiming it would let anyone block a
/// real agent's registration by registering a set of its own around that token first; the stake, which does
/// say (`owner()`), must stake it. Only the timelock may later change the record's metadata. Names are listed
/// by page.
contract AgentRegistry {
    /// @notice One agent's contract set, as deployed by launch.
    struct Agent {
        address token;
        address stake;
        address governor;
        address timelock;
        address config;
        address treasury;
    }

    struct Record {
        Agent agent;
        string metadataURI;
    }

    /// @dev OpenZeppelin AccessControl's DEFAULT_ADMIN_ROLE.
    bytes32 private constant DEFAULT_ADMIN_ROLE = 0x00;

    mapping(string name => Record) private _records;
    string[] private _names;
    // address => index in _names plus one (0 = in no record)
    mapping(address part => uint256) private _recordIndex;

    /// @notice Emitted when `name` is registered.
    event AgentRegistered(string name, Agent agent, string metadataURI);
    /// @notice Emitted when the timelock of `name` replaced its metadata URI.
    event MetadataUpdated(string name, string metadataURI);

    /// @notice The name is empty.
    error AgentRegistryEmptyName();
    /// @notice `name` is registered already.
    error AgentRegistryNameTaken(string name);
    /// @notice One of the agent's addresses is zero.
    error AgentRegistryZeroAddress();
    /// @notice `name` is not registered.
    error AgentRegistryNotRegistered(string name);
    /// @notice `caller` is neither the timelock nor (for `register`) an admin of it.
    error AgentRegistryUnauthorized(address caller);
    /// @notice `part` does not report `timelock` as its timelock or owner.
    error AgentRegistryNotTimelocks(address part, address timelock);
    /// @notice `part` already belongs to the record `name`.
    error AgentRegistryAddressTaken(address part, string name);
    /// @notice `stake` does not report `token` as the token it stakes.
    error AgentRegistryStakeTokenMismatch(address stake, address token);

    /// @notice Records `agent` under `name`; a name can be taken only once.
    /// @dev Callable by `agent.timelock` itself or by an account holding its DEFAULT_ADMIN_ROLE. The governor must
    /// report that timelock (`timelock()`); the stake, the config and the treasury must be owned by it
    /// (`owner()`); the stake must stake `agent.token` (`token()`). Each address but the token may appear in one
    /// record only.
    function register(string calldata name, Agent calldata agent, string calldata metadataURI) external {
        if (bytes(name).length == 0) revert AgentRegistryEmptyName();
        if (isRegistered(name)) revert AgentRegistryNameTaken(name);
        address timelock = agent.timelock;
        if (
            agent.token == address(0) || agent.stake == address(0) || agent.governor == address(0)
                || timelock == address(0) || agent.config == address(0) || agent.treasury == address(0)
        ) revert AgentRegistryZeroAddress();
        if (msg.sender != timelock && !_isAdmin(timelock, msg.sender)) {
            revert AgentRegistryUnauthorized(msg.sender);
        }
        _requireTimelocks(agent.governor, "timelock()", timelock);
        _requireTimelocks(agent.config, "owner()", timelock);
        _requireTimelocks(agent.treasury, "owner()", timelock);
        _requireTimelocks(agent.stake, "owner()", timelock);
        if (!_answers(agent.stake, "token()", agent.token)) {
            revert AgentRegistryStakeTokenMismatch(agent.stake, agent.token);
        }

        _names.push(name);
        uint256 index = _names.length;
        // not the token: see the contract's notes
        _claim(agent.stake, index);
        _claim(agent.governor, index);
        _claim(timelock, index);
        _claim(agent.config, index);
        _claim(agent.treasury, index);
        Record storage record = _records[name];
        record.agent = agent;
        record.metadataURI = metadataURI;
        emit AgentRegistered(name, agent, metadataURI);
    }

    /// @notice Replaces the metadata URI of `name`. Only that agent's timelock may call.
    function setMetadata(string calldata name, string calldata metadataURI) external {
        Record storage record = _recordOf(name);
        if (msg.sender != record.agent.timelock) revert AgentRegistryUnauthorized(msg.sender);
        record.metadataURI = metadataURI;
        emit MetadataUpdated(name, metadataURI);
    }

    /// @notice The contract set registered under `name`; reverts if the name is free.
    function agentOf(string calldata name) external view returns (Agent memory) {
        return _recordOf(name).agent;
    }

    /// @notice The metadata URI registered under `name`; reverts if the name is free.
    function metadataOf(string calldata name) external view returns (string memory) {
        return _recordOf(name).metadataURI;
    }

    /// @notice The name of the record `part` belongs to (as its stake, governor, timelock, config or treasury);
    /// empty if none. A token is in no record: several sets may stake it.
    function nameOf(address part) external view returns (string memory) {
        uint256 index = _recordIndex[part];
        return index == 0 ? "" : _names[index - 1];
    }

    /// @notice How many names are registered.
    function nameCount() external view returns (uint256) {
        return _names.length;
    }

    /// @notice Up to `count` names from position `start`, in registration order; fewer at the end, none past it.
    function names(uint256 start, uint256 count) external view returns (string[] memory page) {
        uint256 total = _names.length;
        if (start >= total) return new string[](0);
        uint256 end = total - start < count ? total : start + count;
        page = new string[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = _names[i];
        }
    }

    /// @notice Whether `name` is taken.
    function isRegistered(string calldata name) public view returns (bool) {
        // register refuses a zero timelock, so a zero one means the name is free.
        return _records[name].agent.timelock != address(0);
    }

    function _claim(address part, uint256 index) private {
        uint256 taken = _recordIndex[part];
        // also catches one address given twice in the same record
        if (taken != 0) revert AgentRegistryAddressTaken(part, _names[taken - 1]);
        _recordIndex[part] = index;
    }

    /// @dev Low-level, so a timelock without code or without AccessControl means "not an admin", not a bare revert.
    function _isAdmin(address timelock, address account) private view returns (bool) {
        (bool ok, bytes memory data) = timelock.staticcall(
            abi.encodeWithSignature("hasRole(bytes32,address)", DEFAULT_ADMIN_ROLE, account)
        );
        return ok && data.length == 32 && abi.decode(data, (uint256)) == 1;
    }

    /// @dev `part.getter()` must return `timelock`; a part that cannot answer fails.
    function _requireTimelocks(address part, string memory getter, address timelock) private view {
        if (!_answers(part, getter, timelock)) revert AgentRegistryNotTimelocks(part, timelock);
    }

    /// @dev Whether `part.getter()` returns `expected`. Low-level, so a part without code or without the getter
    /// is a "no" rather than a bare revert.
    function _answers(address part, string memory getter, address expected) private view returns (bool) {
        (bool ok, bytes memory data) = part.staticcall(abi.encodeWithSignature(getter));
        // compared as a word, so a malformed answer is a mismatch rather than a decoding revert
        return ok && data.length == 32 && abi.decode(data, (uint256)) == uint256(uint160(expected));
    }

    function _recordOf(string calldata name) private view returns (Record storage record) {
        record = _records[name];
        if (record.agent.timelock == address(0)) revert AgentRegistryNotRegistered(name);
    }
}
