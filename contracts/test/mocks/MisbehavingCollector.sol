// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IDepositCollector} from "../../src/x402/IDepositCollector.sol";

/// @notice A deposit collector anyone could pass to `deposit`: it pays short, pays over, pays nothing, or calls
/// back into its caller with `payload` (and records what the call got back).
contract MisbehavingCollector is IDepositCollector {
    enum Mode {
        PayNothing,
        PayShort,
        PayOver,
        Reenter
    }

    Mode public mode;
    bytes public payload;
    bool public reentrySucceeded;
    bytes public reentryResult;

    function setMode(Mode mode_, bytes calldata payload_) external {
        mode = mode_;
        payload = payload_;
    }

    function collect(address, address token, uint256 amount, bytes32, bytes calldata) external {
        if (mode == Mode.PayShort) {
            require(IERC20(token).transfer(msg.sender, amount - 1));
        } else if (mode == Mode.PayOver) {
            require(IERC20(token).transfer(msg.sender, amount + 1));
        } else if (mode == Mode.Reenter) {
            (bool ok, bytes memory result) = msg.sender.call(payload);
            (reentrySucceeded, reentryResult) = (ok, result);
            require(IERC20(token).transfer(msg.sender, amount));
        }
    }
}
