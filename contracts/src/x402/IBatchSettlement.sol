// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IBatchSettlement
/// @notice The x402 `batch-settlement` escrow as the `x402` package calls it: stateless unidirectional payment
/// channels identified by the EIP-712 hash of their immutable {ChannelConfig}, funded by deposits, drawn on by
/// cumulative vouchers the payer signs off-chain and the receiver side claims in batches, paid out to the
/// receiver by `settle`, and returned to the payer by a cooperative refund or a timed withdrawal.
/// @dev Function names, argument and return types and the `Settled` event are the package's ABI (abi.py).
interface IBatchSettlement {
    /// @notice A channel's immutable identity; `channelId` is its EIP-712 hash under the contract's domain.
    struct ChannelConfig {
        address payer; // owns the escrow: refunds and withdrawals go here
        address payerAuthorizer; // EOA that signs vouchers, or address(0): `payer` signs (ERC-1271 if a contract)
        address receiver; // is paid by `settle`
        address receiverAuthorizer; // authorizes claims and refunds by EIP-712 signature; never zero
        address token; // the ERC-20 escrowed
        uint40 withdrawDelay; // seconds between `initiateWithdraw` and `finalizeWithdraw`, 15 min to 30 days
        bytes32 salt; // tells apart channels with otherwise equal configs
    }

    /// @notice The payer's promise: the receiver may claim up to `maxClaimableAmount` in total from the channel.
    struct Voucher {
        ChannelConfig channel;
        uint128 maxClaimableAmount;
    }

    /// @notice One row of a claim: a signed voucher and the cumulative total the receiver claims under it.
    struct VoucherClaim {
        Voucher voucher;
        bytes signature; // the payer side's EIP-712 signature of Voucher(channelId, maxClaimableAmount)
        uint128 totalClaimed; // the channel's new cumulative claimed total, at most the voucher's ceiling
    }

    /// @notice A channel's escrow: `balance` is deposits minus refunds and withdrawals (claims stay in it until
    /// settled); `totalClaimed` is the cumulative amount the receiver claimed; `balance - totalClaimed` is the
    /// payer's, recoverable by withdrawal.
    struct Channel {
        uint128 balance;
        uint128 totalClaimed;
    }

    /// @notice A timed withdrawal in progress (`initiatedAt` is 0 when there is none).
    struct PendingWithdrawal {
        uint128 amount;
        uint40 initiatedAt;
    }

    /// @notice What a receiver claimed, in one token, over all its channels, and how much of it was paid out.
    struct ReceiverTotals {
        uint128 totalClaimed;
        uint128 totalSettled;
    }

    /// @notice Emitted when a channel with no escrow and no claims receives a deposit.
    event ChannelCreated(bytes32 indexed channelId, ChannelConfig config);
    /// @notice Emitted when a refund or a withdrawal empties a channel that was never claimed from.
    event ChannelClosed(bytes32 indexed channelId, ChannelConfig config);
    /// @notice Emitted when `sender` deposited `amount`, bringing the channel's balance to `newBalance`.
    event Deposited(bytes32 indexed channelId, address indexed sender, uint128 amount, uint128 newBalance);
    /// @notice Emitted when `sender` raised a channel's claimed total by `claimAmount` to `newTotalClaimed`.
    event Claimed(
        bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed
    );
    /// @notice Emitted when `sender` paid `receiver` the `amount` of `token` it had claimed and not been paid.
    event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount);
    /// @notice Emitted when `sender` (the receiver side, or a relayer of its signature) returned `amount` to the payer.
    event Refunded(bytes32 indexed channelId, address indexed sender, uint128 amount);
    /// @notice Emitted when the payer side asked to withdraw `amount`, possible from `finalizeAfter` on.
    event WithdrawInitiated(bytes32 indexed channelId, uint128 amount, uint40 finalizeAfter);
    /// @notice Emitted when `sender` completed a withdrawal that returned `amount` to the payer.
    event WithdrawFinalized(bytes32 indexed channelId, address indexed sender, uint128 amount);

    /// @notice The config has a zero payer, receiver, receiver authorizer or token.
    error BatchSettlementInvalidConfig();
    /// @notice `withdrawDelay` is outside [MIN_WITHDRAW_DELAY, MAX_WITHDRAW_DELAY].
    error BatchSettlementWithdrawDelayOutOfRange(uint40 withdrawDelay);
    /// @notice A deposit, refund or withdrawal of zero.
    error BatchSettlementZeroAmount();
    /// @notice The deposit raised the contract's token balance by `received` instead of the `expected` amount (a
    /// fee-on-transfer token, or a collector that did not pay).
    error BatchSettlementDepositMismatch(uint256 expected, uint256 received);
    /// @notice A claim with no rows.
    error BatchSettlementEmptyBatch();
    /// @notice `account` is neither the channel's receiver nor its receiver authorizer.
    error BatchSettlementNotReceiverSide(bytes32 channelId, address account);
    /// @notice `account` is neither the channel's payer nor its payer authorizer.
    error BatchSettlementNotPayerSide(bytes32 channelId, address account);
    /// @notice A signed claim batch mixes channels of different receiver authorizers.
    error BatchSettlementMixedAuthorizers(address expected, address found);
    /// @notice The receiver authorizer's signature of a claim batch or a refund does not verify.
    error BatchSettlementInvalidAuthorizerSignature();
    /// @notice The payer side's voucher signature does not verify for this channel and ceiling.
    error BatchSettlementInvalidVoucherSignature(bytes32 channelId);
    /// @notice The claimed total exceeds what the voucher allows.
    error BatchSettlementClaimAboveCeiling(
        bytes32 channelId, uint128 totalClaimed, uint128 maxClaimableAmount
    );
    /// @notice The claimed total exceeds what the channel holds.
    error BatchSettlementClaimAboveBalance(bytes32 channelId, uint128 totalClaimed, uint128 balance);
    /// @notice A withdrawal is already pending on the channel.
    error BatchSettlementWithdrawalPending(bytes32 channelId);
    /// @notice No withdrawal is pending on the channel.
    error BatchSettlementNoWithdrawalPending(bytes32 channelId);
    /// @notice The withdrawal delay runs until `readyAt`.
    error BatchSettlementWithdrawalNotReady(bytes32 channelId, uint256 readyAt);
    /// @notice The withdrawal asks for more than the channel's unclaimed escrow.
    error BatchSettlementWithdrawalAboveAvailable(bytes32 channelId, uint128 amount, uint128 available);
    /// @notice The signed refund was made for another nonce than the channel's current one.
    error BatchSettlementInvalidRefundNonce(bytes32 channelId, uint256 expected, uint256 given);

    /// @notice Pulls `amount` of `config.token` into the channel through `collector` (given `collectorData`, e.g. a
    /// payer's ERC-3009 authorization), or from the caller's own balance (an ERC-20 allowance) when `collector`
    /// is address(0). Anyone may call: a collector only moves what the payer authorized for this channel.
    function deposit(
        ChannelConfig calldata config,
        uint128 amount,
        address collector,
        bytes calldata collectorData
    ) external;

    /// @notice Raises the claimed totals of many channels at once. The caller must be each row's receiver or
    /// receiver authorizer. Moves no tokens (see {settle}).
    function claim(VoucherClaim[] calldata voucherClaims) external;

    /// @notice {claim} relayed by anyone, authorized by the rows' common receiver authorizer's EIP-712 signature
    /// of `getClaimBatchDigest(voucherClaims)`.
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature)
        external;

    /// @notice Pays `receiver` everything it claimed in `token` and was not yet paid. Anyone may call.
    function settle(address receiver, address token) external;

    /// @notice Starts the payer side's timed withdrawal of `amount` of unclaimed escrow.
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external;

    /// @notice Completes a withdrawal once its delay has passed, paying the payer the amount asked, capped at the
    /// escrow still unclaimed.
    function finalizeWithdraw(ChannelConfig calldata config) external;

    /// @notice The receiver side returns up to `amount` of unclaimed escrow to the payer.
    function refund(ChannelConfig calldata config, uint128 amount) external;

    /// @notice {refund} relayed by anyone, authorized by the receiver authorizer's EIP-712 `Refund` signature for
    /// the channel's current `nonce`.
    function refundWithSignature(
        ChannelConfig calldata config,
        uint128 amount,
        uint256 nonce,
        bytes calldata receiverAuthorizerSignature
    ) external;

    /// @notice The channel's id: the EIP-712 hash of `config` under this contract's domain.
    function getChannelId(ChannelConfig calldata config) external view returns (bytes32);

    /// @notice The channel's escrow and claimed total.
    function channels(bytes32 channelId) external view returns (uint128 balance, uint128 totalClaimed);

    /// @notice The channel's pending withdrawal (zeros when none).
    function pendingWithdrawals(bytes32 channelId) external view returns (uint128 amount, uint40 initiatedAt);

    /// @notice What `receiver` claimed in `token` and how much of it was settled.
    function receivers(address receiver, address token)
        external
        view
        returns (uint128 totalClaimed, uint128 totalSettled);

    /// @notice The nonce the channel's next signed refund must carry.
    function refundNonce(bytes32 channelId) external view returns (uint256);

    /// @notice The EIP-712 digest the payer side signs for a voucher.
    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) external view returns (bytes32);

    /// @notice The EIP-712 digest the receiver authorizer signs for a refund.
    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) external view returns (bytes32);

    /// @notice The EIP-712 digest the receiver authorizer signs for a claim batch.
    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims) external view returns (bytes32);
}
