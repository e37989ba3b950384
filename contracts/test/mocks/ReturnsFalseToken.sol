// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MockERC20} from "./MockERC20.sol";

/// @notice Moves nothing and returns false from `transfer` once `broken` is set (incoming payments still work).
contract ReturnsFalseToken is MockERC20 {
    bool public broken;

    constructor() MockERC20("False Token", "FALSE", 6) {}

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        if (broken) return false;
        return super.transfer(to, amount);
    }
}
