// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MockERC20} from "./MockERC20.sol";

/// @notice A token whose holder balances can be cut from outside (negative rebase, or a blacklist seizure).
contract ShrinkingToken is MockERC20 {
    constructor() MockERC20("Shrinking Token", "SHRINK", 6) {}

    function slash(address account, uint256 amount) external {
        _burn(account, amount);
    }
}
