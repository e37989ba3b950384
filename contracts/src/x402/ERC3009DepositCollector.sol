// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDepositCollector} from "./IDepositCollector.sol";
import {IERC3009} from "./IERC3009.sol";
import {X402Addresses} from "./X402Addresses.sol";

/// @title ERC3009DepositCollector
/// @notice Turns a payer's EIP-3009 `ReceiveWithAuthorization` (to this collector, for the deposit amount) into a
/// deposit into {BatchSettlement}: receives the tokens, then forwards them to the settlement contract. Holds
/// nothing between calls.
/// @dev The authorization's nonce is `keccak256(abi.encode(channelId, salt))`, so a signature deposits into the
/// one channel it was made for. Only the settlement contract at its canonical address may call `collect`
/// (`receiveWithAuthorization` already stops anyone but this collector from redeeming the authorization; this
/// stops anyone but the settlement contract from redeeming it through the collector). The address is a
/// constant rather than a constructor argument so the runtime code works wherever it is placed.
contract ERC3009DepositCollector is IDepositCollector {
    using SafeERC20 for IERC20;

    /// @notice The only caller of `collect`, and where the tokens go.
    address public constant SETTLEMENT = X402Addresses.BATCH_SETTLEMENT;

    /// @notice `caller` is not the settlement contract.
    error ERC3009DepositCollectorNotSettlement(address caller);

    /// @inheritdoc IDepositCollector
    /// @dev `collectorData` is `abi.encode(uint256 validAfter, uint256 validBefore, uint256 salt, bytes signature)`
    /// (the package's `build_erc3009_collector_data`).
    function collect(
        address payer,
        address token,
        uint256 amount,
        bytes32 channelId,
        bytes calldata collectorData
    ) external {
        if (msg.sender != SETTLEMENT) {
            revert ERC3009DepositCollectorNotSettlement(msg.sender);
        }
        (uint256 validAfter, uint256 validBefore, uint256 salt, bytes memory signature) =
            abi.decode(collectorData, (uint256, uint256, uint256, bytes));
        IERC3009(token)
            .receiveWithAuthorization(
                payer,
                address(this),
                amount,
                validAfter,
                validBefore,
                keccak256(abi.encode(channelId, salt)),
                signature
            );
        IERC20(token).safeTransfer(SETTLEMENT, amount);
    }
}
