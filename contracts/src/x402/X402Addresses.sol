// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title X402Addresses
/// @notice The canonical (CREATE2, same on every chain) addresses of the batch-settlement contracts, as the
/// `x402` package hard-codes them (constants.py), and Multicall3's, which the package reads through. On a local
/// chain the runtime code of {BatchSettlement}, {ERC3009DepositCollector} and {TryAggregate} is placed at these
/// addresses.
library X402Addresses {
    /// @notice Where the package sends deposits, claims, settles, refunds and withdrawals.
    address internal constant BATCH_SETTLEMENT = 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003;
    /// @notice The collector the package names for ERC-3009 (`eip3009`) deposits.
    address internal constant ERC3009_DEPOSIT_COLLECTOR = 0x4020806089470a89826cB9fB1f4059150b550004;
    /// @notice The collector the package names for Permit2 deposits (not provided here).
    address internal constant PERMIT2_DEPOSIT_COLLECTOR = 0x4020425FAf3B746C082C2f942b4E5159887B0005;
    /// @notice Multicall3, through whose `tryAggregate` the package's facilitator reads channel state
    /// ({TryAggregate} on a local chain).
    address internal constant MULTICALL3 = 0xcA11bde05977b3631167028862bE2a173976CA11;
}
