// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {BatchSettlementEIP712} from "./BatchSettlementEIP712.sol";
import {IBatchSettlement} from "./IBatchSettlement.sol";
import {IDepositCollector} from "./IDepositCollector.sol";

/// @title BatchSettlement
/// @notice The escrow of the x402 `batch-settlement` scheme, written from the scheme's specification and
/// ABI-compatible with the `x402` package (see {IBatchSettlement}; `multicall` is OpenZeppelin's).
///
/// What it guarantees:
/// - A receiver is never credited more from a channel than the highest voucher the payer side signed for that
///   channel, nor more than the channel holds: claimed totals only grow, each bounded by the voucher's ceiling
///   and the channel's balance, and a voucher signs one channel id (which binds chain and contract).
/// - The payer can always recover the escrow nobody claimed: `initiateWithdraw`, then `finalizeWithdraw` once the
///   channel's `withdrawDelay` has passed, needs nobody else; the receiver side can only claim signed vouchers
///   in the meantime.
/// - The contract's balance of each token is the sum of its channels' balances minus what `settle` paid out:
///   every unit is either a payer's unclaimed escrow or claimed and owed to a receiver.
///
/// @dev Holds no constructor-written state and no immutable, so its runtime code can be placed at the
/// scheme's canonical address on a local chain (`anvil_setCode`). Tokens must move exactly the amount asked
/// (deposits check it); a token that rebases or charges fees is refused at deposit.
contract BatchSettlement is IBatchSettlement, BatchSettlementEIP712, ReentrancyGuardTransient, Multicall {
    using SafeERC20 for IERC20;

    /// @notice The shortest withdrawal delay a channel may have (constants.py MIN_WITHDRAW_DELAY).
    uint40 public constant MIN_WITHDRAW_DELAY = 15 minutes;
    /// @notice The longest withdrawal delay a channel may have (constants.py MAX_WITHDRAW_DELAY).
    uint40 public constant MAX_WITHDRAW_DELAY = 30 days;

    /// @dev Claims of one batch credited to one receiver in one token, booked in one write.
    struct Tally {
        address receiver;
        address token;
        uint256 amount;
    }

    mapping(bytes32 channelId => Channel) private _channels;
    mapping(bytes32 channelId => PendingWithdrawal) private _pendingWithdrawals;
    mapping(bytes32 channelId => uint256) private _refundNonces;
    mapping(address receiver => mapping(address token => ReceiverTotals)) private _receivers;

    /// @inheritdoc IBatchSettlement
    function deposit(
        ChannelConfig calldata config,
        uint128 amount,
        address collector,
        bytes calldata collectorData
    ) external nonReentrant {
        _requireValidConfig(config);
        if (amount == 0) revert BatchSettlementZeroAmount();
        bytes32 channelId = _channelId(_domainSeparator(), config);
        Channel memory ch = _channels[channelId];
        uint128 newBalance = SafeCast.toUint128(uint256(ch.balance) + amount);
        _channels[channelId].balance = newBalance;

        IERC20 token = IERC20(config.token);
        uint256 before = token.balanceOf(address(this));
        if (collector == address(0)) {
            token.safeTransferFrom(msg.sender, address(this), amount);
        } else {
            IDepositCollector(collector).collect(config.payer, config.token, amount, channelId, collectorData);
        }
        // the books count what arrived, so a collector or token that delivers anything else is refused
        uint256 afterwards = token.balanceOf(address(this));
        if (afterwards != before + amount) {
            revert BatchSettlementDepositMismatch(amount, afterwards > before ? afterwards - before : 0);
        }
        if (ch.balance == 0 && ch.totalClaimed == 0) emit ChannelCreated(channelId, config);
        emit Deposited(channelId, msg.sender, amount, newBalance);
    }

    /// @inheritdoc IBatchSettlement
    /// @dev A row whose total does not exceed the channel's claimed total is skipped (a retried or stale claim
    /// moves nothing and does not hold up the rest of the batch).
    function claim(VoucherClaim[] calldata voucherClaims) external nonReentrant {
        if (voucherClaims.length == 0) revert BatchSettlementEmptyBatch();
        bytes32 domain = _domainSeparator();
        Tally memory tally;
        for (uint256 i; i < voucherClaims.length; ++i) {
            VoucherClaim calldata row = voucherClaims[i];
            ChannelConfig calldata config = row.voucher.channel;
            bytes32 channelId = _channelId(domain, config);
            if (msg.sender != config.receiver && msg.sender != config.receiverAuthorizer) {
                revert BatchSettlementNotReceiverSide(channelId, msg.sender);
            }
            _claim(domain, channelId, row, tally);
        }
        _book(tally);
    }

    /// @inheritdoc IBatchSettlement
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature)
        external
        nonReentrant
    {
        if (voucherClaims.length == 0) revert BatchSettlementEmptyBatch();
        bytes32 domain = _domainSeparator();
        address authorizer = voucherClaims[0].voucher.channel.receiverAuthorizer;
        (bytes32[] memory channelIds, bytes32 digest) = _claimBatch(domain, voucherClaims);
        if (!SignatureChecker.isValidSignatureNowCalldata(authorizer, digest, authorizerSignature)) {
            revert BatchSettlementInvalidAuthorizerSignature();
        }
        Tally memory tally;
        for (uint256 i; i < voucherClaims.length; ++i) {
            VoucherClaim calldata row = voucherClaims[i];
            // the signature speaks for one authorizer: every row must be one of its channels
            address rowAuthorizer = row.voucher.channel.receiverAuthorizer;
            if (rowAuthorizer != authorizer) {
                revert BatchSettlementMixedAuthorizers(authorizer, rowAuthorizer);
            }
            _claim(domain, channelIds[i], row, tally);
        }
        _book(tally);
    }

    /// @inheritdoc IBatchSettlement
    /// @dev Settling nothing is a no-op (no transfer, no event), so a scheduled settle never fails for lack of claims.
    function settle(address receiver, address token) external nonReentrant {
        ReceiverTotals memory totals = _receivers[receiver][token];
        uint128 amount = totals.totalClaimed - totals.totalSettled;
        if (amount == 0) return;
        _receivers[receiver][token].totalSettled = totals.totalClaimed;
        IERC20(token).safeTransfer(receiver, amount);
        emit Settled(receiver, token, msg.sender, amount);
    }

    /// @inheritdoc IBatchSettlement
    /// @dev The payer or the payer authorizer; one withdrawal at a time; at most the escrow unclaimed now.
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        bytes32 channelId = _channelId(_domainSeparator(), config);
        _requirePayerSide(channelId, config);
        if (amount == 0) revert BatchSettlementZeroAmount();
        if (_pendingWithdrawals[channelId].initiatedAt != 0) {
            revert BatchSettlementWithdrawalPending(channelId);
        }
        uint128 available = _available(_channels[channelId]);
        if (amount > available) revert BatchSettlementWithdrawalAboveAvailable(channelId, amount, available);
        uint40 now_ = uint40(block.timestamp);
        _pendingWithdrawals[channelId] = PendingWithdrawal(amount, now_);
        emit WithdrawInitiated(channelId, amount, now_ + config.withdrawDelay);
    }

    /// @inheritdoc IBatchSettlement
    /// @dev Claims that landed during the delay come first: the payer gets what is still unclaimed, up to the
    /// amount asked.
    function finalizeWithdraw(ChannelConfig calldata config) external nonReentrant {
        bytes32 channelId = _channelId(_domainSeparator(), config);
        _requirePayerSide(channelId, config);
        PendingWithdrawal memory pending = _pendingWithdrawals[channelId];
        if (pending.initiatedAt == 0) revert BatchSettlementNoWithdrawalPending(channelId);
        uint256 readyAt = uint256(pending.initiatedAt) + config.withdrawDelay;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < readyAt) revert BatchSettlementWithdrawalNotReady(channelId, readyAt);
        delete _pendingWithdrawals[channelId];
        uint128 amount = _min(pending.amount, _available(_channels[channelId]));
        _payOut(channelId, config, amount);
        emit WithdrawFinalized(channelId, msg.sender, amount);
        _closeIfEmpty(channelId, config, amount);
    }

    /// @inheritdoc IBatchSettlement
    function refund(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        bytes32 channelId = _channelId(_domainSeparator(), config);
        if (msg.sender != config.receiver && msg.sender != config.receiverAuthorizer) {
            revert BatchSettlementNotReceiverSide(channelId, msg.sender);
        }
        _refund(channelId, config, amount);
    }

    /// @inheritdoc IBatchSettlement
    function refundWithSignature(
        ChannelConfig calldata config,
        uint128 amount,
        uint256 nonce,
        bytes calldata receiverAuthorizerSignature
    ) external nonReentrant {
        bytes32 domain = _domainSeparator();
        bytes32 channelId = _channelId(domain, config);
        uint256 expected = _refundNonces[channelId];
        if (nonce != expected) revert BatchSettlementInvalidRefundNonce(channelId, expected, nonce);
        bytes32 digest = _refundDigest(domain, channelId, nonce, amount);
        if (!SignatureChecker.isValidSignatureNowCalldata(
                config.receiverAuthorizer, digest, receiverAuthorizerSignature
            )) {
            revert BatchSettlementInvalidAuthorizerSignature();
        }
        _refund(channelId, config, amount);
    }

    /// @inheritdoc IBatchSettlement
    function getChannelId(ChannelConfig calldata config) external view returns (bytes32) {
        return _channelId(_domainSeparator(), config);
    }

    /// @inheritdoc IBatchSettlement
    function channels(bytes32 channelId) external view returns (uint128 balance, uint128 totalClaimed) {
        Channel memory ch = _channels[channelId];
        return (ch.balance, ch.totalClaimed);
    }

    /// @inheritdoc IBatchSettlement
    function pendingWithdrawals(bytes32 channelId)
        external
        view
        returns (uint128 amount, uint40 initiatedAt)
    {
        PendingWithdrawal memory pending = _pendingWithdrawals[channelId];
        return (pending.amount, pending.initiatedAt);
    }

    /// @inheritdoc IBatchSettlement
    function receivers(address receiver, address token)
        external
        view
        returns (uint128 totalClaimed, uint128 totalSettled)
    {
        ReceiverTotals memory totals = _receivers[receiver][token];
        return (totals.totalClaimed, totals.totalSettled);
    }

    /// @inheritdoc IBatchSettlement
    function refundNonce(bytes32 channelId) external view returns (uint256) {
        return _refundNonces[channelId];
    }

    /// @inheritdoc IBatchSettlement
    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) external view returns (bytes32) {
        return _voucherDigest(_domainSeparator(), channelId, maxClaimableAmount);
    }

    /// @inheritdoc IBatchSettlement
    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount)
        external
        view
        returns (bytes32)
    {
        return _refundDigest(_domainSeparator(), channelId, nonce, amount);
    }

    /// @inheritdoc IBatchSettlement
    /// @dev Defined for an empty batch too (the hash of an empty array), though no claim accepts one.
    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims)
        external
        view
        returns (bytes32 digest)
    {
        (, digest) = _claimBatch(_domainSeparator(), voucherClaims);
    }

    /// @dev The rows' channel ids and the ClaimBatch digest over them.
    function _claimBatch(bytes32 domain, VoucherClaim[] calldata voucherClaims)
        private
        pure
        returns (bytes32[] memory channelIds, bytes32 digest)
    {
        channelIds = new bytes32[](voucherClaims.length);
        bytes32[] memory entryHashes = new bytes32[](voucherClaims.length);
        for (uint256 i; i < voucherClaims.length; ++i) {
            // one lookup of the row: each indexed access to an array of dynamic structs costs ~500 gas of checks
            VoucherClaim calldata row = voucherClaims[i];
            channelIds[i] = _channelId(domain, row.voucher.channel);
            entryHashes[i] = _claimEntryHash(channelIds[i], row.voucher.maxClaimableAmount, row.totalClaimed);
        }
        digest = _claimBatchDigest(domain, entryHashes);
    }

    /// @dev Raises one channel's claimed total to the row's, after checking the row against the voucher's
    /// ceiling, the channel's balance and the payer side's signature; adds the increase to `tally`.
    function _claim(bytes32 domain, bytes32 channelId, VoucherClaim calldata row, Tally memory tally)
        private
    {
        Channel memory ch = _channels[channelId];
        uint128 total = row.totalClaimed;
        // the channel was claimed this far already (a retry, or an older voucher): nothing to add, and a
        // claimed total never goes down
        if (total <= ch.totalClaimed) return;
        uint128 ceiling = row.voucher.maxClaimableAmount;
        if (total > ceiling) revert BatchSettlementClaimAboveCeiling(channelId, total, ceiling);
        if (total > ch.balance) revert BatchSettlementClaimAboveBalance(channelId, total, ch.balance);
        ChannelConfig calldata config = row.voucher.channel;
        if (!_isVoucherSigned(config, _voucherDigest(domain, channelId, ceiling), row.signature)) {
            revert BatchSettlementInvalidVoucherSignature(channelId);
        }
        uint128 increase = total - ch.totalClaimed;
        _channels[channelId] = Channel(ch.balance, total);
        emit Claimed(channelId, msg.sender, increase, total);
        (address receiver, address token) = (config.receiver, config.token);
        if (receiver != tally.receiver || token != tally.token) {
            _book(tally);
            (tally.receiver, tally.token, tally.amount) = (receiver, token, 0);
        }
        tally.amount += increase;
    }

    function _book(Tally memory tally) private {
        if (tally.amount == 0) return;
        ReceiverTotals storage totals = _receivers[tally.receiver][tally.token];
        totals.totalClaimed = SafeCast.toUint128(totals.totalClaimed + tally.amount);
    }

    /// @dev A payer authorizer is a key committed in the config: ECDSA only, so a voucher is checked without
    /// reading the chain. Without one the payer signs: an EOA by ECDSA, a contract wallet by ERC-1271.
    function _isVoucherSigned(ChannelConfig calldata config, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool)
    {
        address authorizer = config.payerAuthorizer;
        if (authorizer == address(0)) {
            return SignatureChecker.isValidSignatureNowCalldata(config.payer, digest, signature);
        }
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        return err == ECDSA.RecoverError.NoError && signer == authorizer;
    }

    /// @dev The nonce moves first, so any refund (even one that finds nothing to return) voids signatures made
    /// for the previous nonce. A pending withdrawal shrinks by what the refund returned, and ends if covered.
    function _refund(bytes32 channelId, ChannelConfig calldata config, uint128 amount) private {
        if (amount == 0) revert BatchSettlementZeroAmount();
        ++_refundNonces[channelId];
        uint128 refunded = _min(amount, _available(_channels[channelId]));
        if (refunded == 0) return;
        PendingWithdrawal storage pending = _pendingWithdrawals[channelId];
        if (pending.initiatedAt != 0) {
            if (refunded >= pending.amount) delete _pendingWithdrawals[channelId];
            else pending.amount -= refunded;
        }
        _payOut(channelId, config, refunded);
        emit Refunded(channelId, msg.sender, refunded);
        _closeIfEmpty(channelId, config, refunded);
    }

    /// @dev Returns `amount` of the channel's unclaimed escrow to the payer.
    function _payOut(bytes32 channelId, ChannelConfig calldata config, uint128 amount) private {
        if (amount == 0) return;
        _channels[channelId].balance -= amount;
        IERC20(config.token).safeTransfer(config.payer, amount);
    }

    function _closeIfEmpty(bytes32 channelId, ChannelConfig calldata config, uint128 paidOut) private {
        if (paidOut != 0 && _channels[channelId].balance == 0) emit ChannelClosed(channelId, config);
    }

    function _requirePayerSide(bytes32 channelId, ChannelConfig calldata config) private view {
        // msg.sender is never address(0), so a zero payer authorizer matches nobody
        if (msg.sender != config.payer && msg.sender != config.payerAuthorizer) {
            revert BatchSettlementNotPayerSide(channelId, msg.sender);
        }
    }

    function _requireValidConfig(ChannelConfig calldata config) private pure {
        if (
            config.payer == address(0) || config.receiver == address(0)
                || config.receiverAuthorizer == address(0) || config.token == address(0)
        ) revert BatchSettlementInvalidConfig();
        uint40 delay = config.withdrawDelay;
        if (delay < MIN_WITHDRAW_DELAY || delay > MAX_WITHDRAW_DELAY) {
            revert BatchSettlementWithdrawDelayOutOfRange(delay);
        }
    }

    function _available(Channel storage ch) private view returns (uint128) {
        return ch.balance - ch.totalClaimed;
    }

    function _min(uint128 a, uint128 b) private pure returns (uint128) {
        return a < b ? a : b;
    }
}
