// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC3009DepositCollector} from "../../../src/x402/ERC3009DepositCollector.sol";
import {IBatchSettlement} from "../../../src/x402/IBatchSettlement.sol";
import {MockUSDC} from "../../../src/MockUSDC.sol";
import {BatchSettlementFixture} from "../../utils/BatchSettlementFixture.sol";
import {MisbehavingCollector} from "../../mocks/MisbehavingCollector.sol";
import {ChannelHandler} from "./ChannelHandler.sol";

/// @notice Everyone who would like a cut of the escrow: a receiver side holding the facilitator's key that claims
/// above the voucher or the deposit, claims a voucher on another channel, forges vouchers, lowers or repeats
/// totals; a stranger that withdraws, refunds or finalizes for others; a relayer that redirects a payer's
/// ERC-3009 deposit into a channel of its own, redeems it through the collector, or deposits through a collector
/// that pays short; anyone replaying a signed refund. Every attempt must revert or change nothing;
/// `ghostBreaches` counts those that did not.
contract EscrowAttackerHandler is BatchSettlementFixture {
    ChannelHandler internal world;
    address internal attacker;
    uint256 internal attackerKey;
    MisbehavingCollector internal shortCollector;
    uint256 internal _salt = 1 << 128; // apart from the honest payers' salts

    uint256 public ghostBreaches;
    uint256 public ghostAttempts;

    constructor(ChannelHandler world_, MockUSDC usdc_) {
        world = world_;
        usdc = usdc_;
        (attacker, attackerKey) = makeAddrAndKey("attacker");
        shortCollector = new MisbehavingCollector();
        shortCollector.setMode(MisbehavingCollector.Mode.PayShort, "");
    }

    /// The receiver side claims more than the latest voucher allows.
    function overclaim(uint256 seed, uint256 extra, bool viaSignature) external {
        uint256 i = seed % world.channelCount();
        (uint128 ceiling, bytes memory signature) = world.voucherOf(i);
        if (signature.length == 0) return;
        uint128 total = ceiling + uint128(bound(extra, 1, 1e24));
        _claimMustFail(_row(i, ceiling, signature, total), viaSignature);
    }

    /// The receiver side claims within the voucher but beyond what the channel holds.
    function claimAboveBalance(uint256 seed, uint256 total, bool viaSignature) external {
        uint256 i = seed % world.channelCount();
        (uint128 ceiling, bytes memory signature) = world.voucherOf(i);
        (uint128 balance,) = settlement.channels(settlement.getChannelId(world.configOf(i)));
        if (signature.length == 0 || ceiling <= balance) return;
        _claimMustFail(_row(i, ceiling, signature, uint128(bound(total, balance + 1, ceiling))), viaSignature);
    }

    /// One channel's voucher presented for another channel (another payer, or the same payer's other receiver).
    function claimOnAnotherChannel(uint256 from, uint256 to, uint256 total, bool viaSignature) external {
        uint256 n = world.channelCount();
        (uint256 i, uint256 j) = (from % n, to % n);
        if (i == j) j = (j + 1) % n;
        (uint128 ceiling, bytes memory signature) = world.voucherOf(i);
        if (signature.length == 0) return;
        (uint128 balance, uint128 claimed) = settlement.channels(settlement.getChannelId(world.configOf(j)));
        uint128 cap = ceiling < balance ? ceiling : balance;
        if (cap <= claimed) return; // it would be skipped as a stale row, not checked
        _claimMustFail(_row(j, ceiling, signature, uint128(bound(total, claimed + 1, cap))), viaSignature);
    }

    /// The receiver side signs a voucher with a key that is not the payer side's.
    function forgeVoucher(uint256 seed, uint256 key, uint256 total, bool viaSignature) external {
        uint256 i = seed % world.channelCount();
        IBatchSettlement.ChannelConfig memory c = world.configOf(i);
        key = bound(key, 1, 1e70);
        address signer = vm.addr(key);
        // the one key that may sign this channel's vouchers (the wallet's owner, through the wallet)
        address entitled = c.payerAuthorizer == address(0) ? world.walletOwner() : c.payerAuthorizer;
        if (signer == entitled) return;
        bytes32 id = settlement.getChannelId(c);
        (uint128 balance, uint128 claimed) = settlement.channels(id);
        if (balance <= claimed) return;
        uint128 t = uint128(bound(total, claimed + 1, balance));
        _claimMustFail(_row(i, t, _signVoucher(key, id, t), t), viaSignature);
    }

    /// The receiver side repeats an older or equal total: nothing may change.
    function lowerTotal(uint256 seed, uint256 total) external {
        uint256 i = seed % world.channelCount();
        (uint128 ceiling, bytes memory signature) = world.voucherOf(i);
        bytes32 id = settlement.getChannelId(world.configOf(i));
        (, uint128 claimed) = settlement.channels(id);
        if (signature.length == 0) return;
        (uint128 before,) = settlement.receivers(world.configOf(i).receiver, address(usdc));
        IBatchSettlement.VoucherClaim[] memory rows =
            _one(_row(i, ceiling, signature, uint128(bound(total, 0, claimed))));
        ++ghostAttempts;
        vm.prank(world.authorizer());
        try settlement.claim(rows) {} catch {}
        (, uint128 afterwards) = settlement.channels(id);
        (uint128 receiverAfter,) = settlement.receivers(world.configOf(i).receiver, address(usdc));
        if (afterwards != claimed || receiverAfter != before) ++ghostBreaches;
    }

    /// A stranger moves a channel's escrow: withdraws, finalizes or refunds it.
    function strangerMovesEscrow(uint256 seed, uint256 amount, uint8 how) external {
        IBatchSettlement.ChannelConfig memory c = world.configOf(seed % world.channelCount());
        uint128 value = uint128(bound(amount, 1, 1e24));
        ++ghostAttempts;
        vm.prank(attacker);
        how = how % 3;
        if (how == 0) {
            try settlement.initiateWithdraw(c, value) {
                ++ghostBreaches;
            } catch {}
        } else if (how == 1) {
            try settlement.finalizeWithdraw(c) {
                ++ghostBreaches;
            } catch {}
        } else {
            try settlement.refund(c, value) {
                ++ghostBreaches;
            } catch {}
        }
    }

    /// A relayer holding a payer's ERC-3009 deposit puts it into another channel: one of the world's, or one where
    /// the attacker signs vouchers and receives.
    function redirectDeposit(uint256 from, uint256 to, uint256 amount, bool own) external {
        uint256 n = world.channelCount();
        (uint256 i, uint256 j) = (from % n, to % n);
        if (i == j) j = (j + 1) % n;
        IBatchSettlement.ChannelConfig memory signedFor = world.configOf(i);
        IBatchSettlement.ChannelConfig memory target =
            own ? _config(signedFor.payer, attacker, attacker, attacker) : world.configOf(j);
        uint128 value = uint128(bound(amount, 1, 1e12));
        bytes memory data = _erc3009DataFor(
            settlement.getChannelId(signedFor), signedFor.payer, world.depositKey(i), value, ++_salt
        );
        _mint(signedFor.payer, value);
        ++ghostAttempts;
        vm.prank(attacker);
        try settlement.deposit(target, value, collector, data) {
            ++ghostBreaches;
        } catch {}
        // the authorization is still good for its own channel: redeem it through the collector directly
        vm.prank(attacker);
        try ERC3009DepositCollector(collector)
            .collect(signedFor.payer, address(usdc), value, settlement.getChannelId(signedFor), data) {
            ++ghostBreaches;
        } catch {}
    }

    /// A deposit through a collector that delivers one unit short.
    function shortDeposit(uint256 seed, uint256 amount) external {
        IBatchSettlement.ChannelConfig memory c = world.configOf(seed % world.channelCount());
        uint128 value = uint128(bound(amount, 1, 1e12));
        _mint(address(shortCollector), value);
        ++ghostAttempts;
        try settlement.deposit(c, value, address(shortCollector), "") {
            ++ghostBreaches;
        } catch {}
    }

    /// Anyone replays the last signed refund.
    function replayRefund() external {
        bytes memory signature = world.lastRefundSignature();
        if (signature.length == 0) return;
        IBatchSettlement.ChannelConfig memory c = world.configOf(world.lastRefundChannel());
        uint128 amount = world.lastRefundAmount();
        uint256 nonce = world.lastRefundNonce();
        ++ghostAttempts;
        vm.prank(attacker);
        try settlement.refundWithSignature(c, amount, nonce, signature) {
            ++ghostBreaches;
        } catch {}
    }

    function _row(uint256 i, uint128 ceiling, bytes memory signature, uint128 total)
        private
        view
        returns (IBatchSettlement.VoucherClaim memory)
    {
        return IBatchSettlement.VoucherClaim({
            voucher: IBatchSettlement.Voucher({channel: world.configOf(i), maxClaimableAmount: ceiling}),
            signature: signature,
            totalClaimed: total
        });
    }

    function _claimMustFail(IBatchSettlement.VoucherClaim memory row, bool viaSignature) private {
        IBatchSettlement.VoucherClaim[] memory rows = _one(row);
        ++ghostAttempts;
        if (viaSignature) {
            // the attacker holds the facilitator's key: the batch signature is genuine, the voucher is not
            bytes memory signature = _signBatch(world.authorizerKey(), rows);
            try settlement.claimWithSignature(rows, signature) {
                ++ghostBreaches;
            } catch {}
        } else {
            vm.prank(world.authorizer());
            try settlement.claim(rows) {
                ++ghostBreaches;
            } catch {}
        }
    }
}
