// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MockERC20} from "./MockERC20.sol";

/// @notice A USDC-style blocklist: no transfer from or to a blocked address goes through.
contract BlocklistToken is MockERC20 {
    mapping(address account => bool) public blocked;

    error BlocklistTokenBlocked(address account);

    constructor() MockERC20("Blocklist USD", "BUSD", 6) {}

    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[from]) revert BlocklistTokenBlocked(from);
        if (blocked[to]) revert BlocklistTokenBlocked(to);
        super._update(from, to, value);
    }
}
