// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MockERC20} from "./MockERC20.sol";

/// @notice Calls back into `target` on every transfer (ERC-777-style hook) and records whether the call got in.
contract ReentrantToken is MockERC20 {
    address public target;
    bytes public payload;
    bool public reentered;
    bool public reentrySucceeded;

    constructor() MockERC20("Reentrant Token", "REENTER", 6) {}

    function setHook(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && from == target && !reentered) {
            reentered = true;
            (bool ok,) = target.call(payload);
            reentrySucceeded = ok;
        }
    }
}
