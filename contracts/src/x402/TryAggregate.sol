// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TryAggregate
/// @notice Multicall3's `tryAggregate`, the one call of Multicall3 the `x402` package makes: its facilitator reads a
/// channel's state (and a payer's balance) in one `eth_call` to Multicall3's canonical address. A public chain has
/// Multicall3 there; the embedded chain (anvil) has nothing, so its runtime code is placed at that address.
/// @dev Stateless, no constructor. Each call is made with no value; `msg.value` (the function is payable, as in
/// Multicall3) stays here.
contract TryAggregate {
    /// @notice One call: `callData` sent to `target`.
    struct Call {
        address target;
        bytes callData;
    }

    /// @notice What one call returned (or its revert data).
    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Call `index` failed while every call was required to succeed.
    error TryAggregateCallFailed(uint256 index);

    /// @notice Makes every call in order and returns each one's outcome; reverts on the first failure when
    /// `requireSuccess`.
    function tryAggregate(bool requireSuccess, Call[] calldata calls)
        external
        payable
        returns (Result[] memory returnData)
    {
        returnData = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool success, bytes memory data) = calls[i].target.call(calls[i].callData);
            if (requireSuccess && !success) revert TryAggregateCallFailed(i);
            returnData[i] = Result(success, data);
        }
    }
}
