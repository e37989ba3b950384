// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchSettlement} from "../../../src/x402/IBatchSettlement.sol";
import {MockUSDC} from "../../../src/MockUSDC.sol";
import {BatchSettlementFixture} from "../../utils/BatchSettlementFixture.sol";
import {SignerWallet} from "../../mocks/SignerWallet.sol";

/// @notice The honest side of the batch-settlement escrow: three payers (an EOA signing its own vouchers, an EOA
/// with a separate voucher key, a contract wallet signing through ERC-1271) each with a channel to two agents'
/// treasuries whose claims one facilitator key authorizes. Payers deposit (ERC-3009 or from a funder's
/// allowance) and sign a voucher per call served; the facilitator claims (one channel, or every channel in one
/// batch) and settles; the receiver side refunds; payers withdraw through the delay; time passes.
/// Ghosts: the highest voucher each payer signed, what each channel took in and gave back, what each treasury
/// was paid.
contract ChannelHandler is BatchSettlementFixture {
    uint128 internal constant PRICE = 10_000;
    uint256 internal constant RECEIVERS = 2;

    IBatchSettlement.ChannelConfig[] internal _configs;
    uint256[] internal _voucherKeys; // signs the channel's vouchers
    uint256[] internal _depositKeys; // signs the channel's ERC-3009 deposits (the payer's, or its wallet owner's)
    address[] internal _receivers;
    address public authorizer;
    address public walletOwner;
    uint256 internal _authorizerKey;
    address internal relayer = makeAddr("relayer");
    uint256 internal _salt;

    mapping(uint256 channel => uint128) public signedCeiling; // the highest voucher the payer signed
    mapping(uint256 channel => bytes) internal _voucherSignature; // the signature of that voucher
    mapping(uint256 channel => uint256) public deposited;
    mapping(uint256 channel => uint256) public returned; // to the payer by refunds and withdrawals
    mapping(address receiver => uint256) public settledTo;

    // the last signed refund, which the adversary replays
    uint256 public lastRefundChannel;
    uint128 public lastRefundAmount;
    uint256 public lastRefundNonce;
    bytes public lastRefundSignature;

    uint256 public ghostClaims;
    uint256 public ghostSettlements;
    uint256 public ghostRefunds;
    uint256 public ghostWithdrawals;
    uint256 public ghostDeposits3009;
    uint256 public ghostWrongRefunds; // refunds that returned other than min(asked, unclaimed)
    uint256 public ghostEarlyWithdrawals; // withdrawals finalized before their delay was over

    constructor(MockUSDC usdc_) {
        usdc = usdc_;
        (authorizer, _authorizerKey) = makeAddrAndKey("facilitatorAuthorizer");
        for (uint256 r; r < RECEIVERS; ++r) {
            _receivers.push(makeAddr(string.concat("treasury", vm.toString(r))));
        }
        (address self, uint256 selfKey) = makeAddrAndKey("selfSigningPayer");
        (address cold, uint256 coldKey) = makeAddrAndKey("payerWithHotKey");
        (address hot, uint256 hotKey) = makeAddrAndKey("hotKey");
        (address owner, uint256 ownerKey) = makeAddrAndKey("walletOwner");
        walletOwner = owner;
        address wallet = address(new SignerWallet(owner));
        for (uint256 r; r < RECEIVERS; ++r) {
            _addChannel(self, self, selfKey, selfKey, r);
            _addChannel(cold, hot, hotKey, coldKey, r);
            _addChannel(wallet, address(0), ownerKey, ownerKey, r);
        }
    }

    function _addChannel(
        address payer,
        address payerAuthorizer,
        uint256 voucherKey,
        uint256 depositorKey,
        uint256 r
    ) private {
        IBatchSettlement.ChannelConfig memory c = _config(payer, payerAuthorizer, _receivers[r], authorizer);
        c.withdrawDelay = r == 0 ? 900 : DELAY; // the shortest delay the scheme allows, and an hour
        _configs.push(c);
        _voucherKeys.push(voucherKey);
        _depositKeys.push(depositorKey);
    }

    // ------------------------------------------------------------------ actions

    function deposit(uint256 seed, uint256 amount, bool via3009) external {
        uint256 i = seed % _configs.length;
        IBatchSettlement.ChannelConfig memory c = _configs[i];
        uint128 value = uint128(bound(amount, 1, 1_000_000e6));
        if (via3009) {
            _mint(c.payer, value);
            bytes memory data =
                _erc3009DataFor(settlement.getChannelId(c), c.payer, _depositKeys[i], value, ++_salt);
            vm.prank(relayer);
            settlement.deposit(c, value, collector, data);
            ++ghostDeposits3009;
        } else {
            _depositDirect(c, relayer, value);
        }
        deposited[i] += value;
    }

    /// The agent served `calls` calls: the payer signs the next cumulative voucher.
    function serve(uint256 seed, uint256 calls) external {
        uint256 i = seed % _configs.length;
        uint128 ceiling = signedCeiling[i] + uint128(bound(calls, 1, 1_000)) * PRICE;
        _voucherSignature[i] = _signVoucher(_voucherKeys[i], settlement.getChannelId(_configs[i]), ceiling);
        signedCeiling[i] = ceiling;
    }

    /// The facilitator claims one channel's latest voucher (up to `total`, within what the channel holds).
    function claim(uint256 seed, uint256 total, bool viaSignature) external {
        uint256 i = seed % _configs.length;
        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](1);
        bool any;
        (rows[0], any) = _claimRow(i, total);
        if (!any) return;
        _send(rows, viaSignature);
    }

    /// The facilitator claims every channel's latest voucher in one relayed transaction.
    function claimAll() external {
        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](_configs.length);
        uint256 n;
        for (uint256 i; i < _configs.length; ++i) {
            bool any;
            (rows[n], any) = _claimRow(i, type(uint256).max);
            if (any) ++n;
        }
        if (n == 0) return;
        assembly ("memory-safe") {
            mstore(rows, n)
        }
        _send(rows, true);
    }

    function settle(uint256 seed) external {
        address receiver = _receivers[seed % RECEIVERS];
        uint256 before = usdc.balanceOf(receiver);
        settlement.settle(receiver, address(usdc));
        uint256 paid = usdc.balanceOf(receiver) - before;
        settledTo[receiver] += paid;
        if (paid != 0) ++ghostSettlements;
    }

    function refund(uint256 seed, uint256 amount, bool viaSignature) external {
        uint256 i = seed % _configs.length;
        IBatchSettlement.ChannelConfig memory c = _configs[i];
        bytes32 id = settlement.getChannelId(c);
        (uint128 balance, uint128 claimed) = settlement.channels(id);
        uint256 unclaimed = balance > claimed ? balance - claimed : 0;
        uint128 ask = uint128(bound(amount, 1, unclaimed * 2 + 1));
        uint256 before = usdc.balanceOf(c.payer);
        if (viaSignature) {
            uint256 nonce = settlement.refundNonce(id);
            bytes memory signature = _signRefund(_authorizerKey, id, nonce, ask);
            vm.prank(relayer);
            settlement.refundWithSignature(c, ask, nonce, signature);
            (lastRefundChannel, lastRefundAmount, lastRefundNonce, lastRefundSignature) =
            (i, ask, nonce, signature);
        } else {
            vm.prank(c.receiver);
            settlement.refund(c, ask);
        }
        uint256 back = usdc.balanceOf(c.payer) - before;
        if (back != (ask < unclaimed ? ask : unclaimed)) ++ghostWrongRefunds;
        returned[i] += back;
        if (back != 0) ++ghostRefunds;
    }

    function initiateWithdraw(uint256 seed, uint256 amount) external {
        uint256 i = seed % _configs.length;
        IBatchSettlement.ChannelConfig memory c = _configs[i];
        bytes32 id = settlement.getChannelId(c);
        (, uint40 initiatedAt) = settlement.pendingWithdrawals(id);
        (uint128 balance, uint128 claimed) = settlement.channels(id);
        if (initiatedAt != 0 || balance == claimed) return;
        uint128 ask = uint128(bound(amount, 1, balance - claimed));
        vm.prank(c.payerAuthorizer == address(0) ? c.payer : c.payerAuthorizer);
        settlement.initiateWithdraw(c, ask);
    }

    /// The payer finalizes the first pending withdrawal from `seed` on; before the delay is over it must be
    /// refused, unless `wait` (then time passes to the end of the delay first).
    function finalizeWithdraw(uint256 seed, bool wait) external {
        for (uint256 k; k < _configs.length; ++k) {
            uint256 i = (seed % _configs.length + k) % _configs.length;
            IBatchSettlement.ChannelConfig memory c = _configs[i];
            bytes32 id = settlement.getChannelId(c);
            (, uint40 initiatedAt) = settlement.pendingWithdrawals(id);
            if (initiatedAt == 0) continue;
            uint256 readyAt = uint256(initiatedAt) + c.withdrawDelay;
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp < readyAt) {
                if (!wait) {
                    uint256 held = usdc.balanceOf(c.payer);
                    vm.prank(c.payer);
                    try settlement.finalizeWithdraw(c) {
                        ++ghostEarlyWithdrawals;
                        returned[i] += usdc.balanceOf(c.payer) - held;
                    } catch {}
                    return;
                }
                vm.warp(readyAt);
            }
            uint256 before = usdc.balanceOf(c.payer);
            vm.prank(c.payer);
            settlement.finalizeWithdraw(c);
            returned[i] += usdc.balanceOf(c.payer) - before;
            ++ghostWithdrawals;
            return;
        }
    }

    function passTime(uint256 secondsToPass) external {
        vm.warp(block.timestamp + bound(secondsToPass, 1, 2 hours));
    }

    // ------------------------------------------------------------------ what the invariants and the adversary read

    function channelCount() external view returns (uint256) {
        return _configs.length;
    }

    function configOf(uint256 i) external view returns (IBatchSettlement.ChannelConfig memory) {
        return _configs[i];
    }

    function voucherOf(uint256 i) external view returns (uint128 ceiling, bytes memory signature) {
        return (signedCeiling[i], _voucherSignature[i]);
    }

    function receivers() external view returns (address[] memory) {
        return _receivers;
    }

    function authorizerKey() external view returns (uint256) {
        return _authorizerKey;
    }

    function depositKey(uint256 i) external view returns (uint256) {
        return _depositKeys[i];
    }

    // ------------------------------------------------------------------ internals

    /// The row claiming channel `i`'s latest voucher up to `total`, if it would raise the claimed total.
    function _claimRow(uint256 i, uint256 total)
        private
        view
        returns (IBatchSettlement.VoucherClaim memory row, bool any)
    {
        uint128 ceiling = signedCeiling[i];
        (uint128 balance, uint128 claimed) = settlement.channels(settlement.getChannelId(_configs[i]));
        uint128 cap = ceiling < balance ? ceiling : balance;
        if (cap <= claimed) return (row, false);
        row = IBatchSettlement.VoucherClaim({
            voucher: IBatchSettlement.Voucher({channel: _configs[i], maxClaimableAmount: ceiling}),
            signature: _voucherSignature[i],
            totalClaimed: uint128(bound(total, claimed + 1, cap))
        });
        return (row, true);
    }

    function _send(IBatchSettlement.VoucherClaim[] memory rows, bool viaSignature) private {
        if (viaSignature) {
            bytes memory signature = _signBatch(_authorizerKey, rows);
            vm.prank(relayer);
            settlement.claimWithSignature(rows, signature);
        } else {
            vm.prank(authorizer);
            settlement.claim(rows);
        }
        ghostClaims += rows.length;
    }
}
