// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDepositCollector
/// @notice How {BatchSettlement} pulls a deposit: a collector turns the payer's authorization (an ERC-3009
/// signature, a Permit2 permit, ...) into a transfer of exactly `amount` of `token` to its caller, the
/// settlement contract, which checks its balance rose by that much.
interface IDepositCollector {
    /// @notice Moves `amount` of `token` from `payer` to the caller, as `collectorData` authorizes for
    /// `channelId`. Must revert unless the caller is the settlement contract the collector serves: anyone else
    /// could redeem a payer's authorization into their own pocket.
    function collect(
        address payer,
        address token,
        uint256 amount,
        bytes32 channelId,
        bytes calldata collectorData
    ) external;
}
