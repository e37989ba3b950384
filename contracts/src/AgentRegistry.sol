// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title AgentRegistry
/// @notice The deployment's directory of agents: name -> contract addresses and a metadata URI, so runtimes and
/// customers can discover every agent. Anyone may register a free name; only the agent's timelock (its DAO)
/// may later change the record's metadata.
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

    mapping(string name => Record) private _records;
    string[] private _names;

    event AgentRegistered(string name, Agent agent, string metadataURI);
    event MetadataUpdated(string name, string metadataURI);

    error AgentRegistryEmptyName();
    error AgentRegistryNameTaken(string name);
    error AgentRegistryZeroAddress();
    error AgentRegistryNotRegistered(string name);
    error AgentRegistryUnauthorized(address caller);

    /// @notice Records `agent` under `name`. Anyone may call; a name can be taken only once.
    /// @dev `agent.timelock` becomes the only account allowed to update the record's metadata.
    function register(string calldata name, Agent calldata agent, string calldata metadataURI) external {
        if (bytes(name).length == 0) revert AgentRegistryEmptyName();
        if (isRegistered(name)) revert AgentRegistryNameTaken(name);
        if (
            agent.token == address(0) || agent.stake == address(0) || agent.governor == address(0)
                || agent.timelock == address(0) || agent.config == address(0) || agent.treasury == address(0)
        ) revert AgentRegistryZeroAddress();
        Record storage record = _records[name];
        record.agent = agent;
        record.metadataURI = metadataURI;
        _names.push(name);
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

    /// @notice Every registered name, in registration order.
    function names() external view returns (string[] memory) {
        return _names;
    }

    /// @notice Whether `name` is taken.
    function isRegistered(string calldata name) public view returns (bool) {
        // register refuses a zero timelock, so a zero one means the name is free.
        return _records[name].agent.timelock != address(0);
    }

    function _recordOf(string calldata name) private view returns (Record storage record) {
        record = _records[name];
        if (record.agent.timelock == address(0)) revert AgentRegistryNotRegistered(name);
    }
}
