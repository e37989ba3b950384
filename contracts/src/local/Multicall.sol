// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall
/// @notice Many read calls in one `eth_call`, at the address and with the `tryAggregate`
/// ABI of the Multicall3 deployment every public chain has. The embedded chain has none, and
/// the x402 facilitator batches its channel reads through it, so launch places this
/// contract's runtime code at that address. Written here from the ABI alone.
/// @dev Holds no state: its code works wherever it is placed.
contract Multicall {
    /// @notice One call to make.
    struct Call {
        address target;
        bytes callData;
    }

    /// @notice What one call returned.
    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice A call failed while `requireSuccess` was set.
    /// @param index The failed call's position in `calls`.
    error MulticallCallFailed(uint256 index);

    /// @notice Make every call in order and return what each returned.
    /// @param requireSuccess Revert if any call reverts (else its failure is reported).
    /// @param calls The calls.
    /// @return returnData One result per call, in order.
    function tryAggregate(bool requireSuccess, Call[] calldata calls)
        external
        payable
        returns (Result[] memory returnData)
    {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, bytes memory data) = calls[i].target.call(calls[i].callData);
            if (requireSuccess && !success) revert MulticallCallFailed(i);
            returnData[i] = Result(success, data);
        }
    }
}
