// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ERC3009DepositCollector} from "../../src/x402/ERC3009DepositCollector.sol";
import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";
import {MisbehavingCollector} from "../mocks/MisbehavingCollector.sol";
import {ReentrantToken} from "../mocks/ReentrantToken.sol";

/// Replays and forgeries against the escrow, each beside its fuzz twin: a voucher for another channel or chain,
/// a signature by the wrong key, claims above the voucher or the deposit, the same claim twice, a lower
/// cumulative total, a withdrawal racing a claim inside the delay, a redirected deposit authorization, a replayed
/// refund or claim-batch signature, and reentry through a collector or a token.
contract BatchSettlementAttackTest is BatchSettlementFixture {
    address internal payer;
    uint256 internal payerKey;
    address internal authorizer;
    uint256 internal authorizerKey;
    address internal treasury = makeAddr("treasury");
    address internal attacker;
    uint256 internal attackerKey;
    IBatchSettlement.ChannelConfig internal config;
    bytes32 internal channelId;

    function setUp() public {
        vm.warp(1_700_000_000);
        _placeEscrow();
        (payer, payerKey) = makeAddrAndKey("payer");
        (authorizer, authorizerKey) = makeAddrAndKey("authorizer");
        (attacker, attackerKey) = makeAddrAndKey("attacker");
        config = _config(payer, payer, treasury, authorizer);
        channelId = settlement.getChannelId(config);
        _depositVia3009(config, payerKey, 100e6, 1, attacker);
    }

    function _claimReverts(IBatchSettlement.VoucherClaim memory row, bytes memory reason) internal {
        IBatchSettlement.VoucherClaim[] memory rows = _one(row);
        vm.expectRevert(reason);
        vm.prank(authorizer);
        settlement.claim(rows);
    }

    // ------------------------------------------------------------------ forged and misdirected vouchers

    /// The payer's voucher for one channel claims nothing from another channel of the same payer.
    function test_Attack_VoucherForAnotherChannel() public {
        IBatchSettlement.ChannelConfig memory other = config;
        other.salt = bytes32(uint256(1));
        _depositVia3009(other, payerKey, 100e6, 2, attacker);
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 50e6, 50e6);
        row.voucher.channel = other; // the signature is over `config`'s id
        _claimReverts(
            row,
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector,
                settlement.getChannelId(other)
            )
        );
    }

    function testFuzz_Attack_VoucherForAnotherChannel(bytes32 salt, address receiver) public {
        vm.assume(salt != config.salt && receiver != address(0));
        IBatchSettlement.ChannelConfig memory other = config;
        (other.salt, other.receiver) = (salt, receiver);
        _depositVia3009(other, payerKey, 100e6, 2, attacker);
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 50e6, 50e6);
        row.voucher.channel = other;
        _claimReverts(
            row,
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector,
                settlement.getChannelId(other)
            )
        );
    }

    /// A voucher signed on another chain (same contract address, same config) claims nothing here.
    function test_Attack_VoucherFromAnotherChain() public {
        uint256 here = block.chainid;
        vm.chainId(8453);
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 50e6, 50e6);
        vm.chainId(here);
        _claimReverts(
            row,
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector, channelId
            )
        );
    }

    function testFuzz_Attack_VoucherFromAnotherChain(uint64 chainId) public {
        uint256 here = block.chainid;
        vm.assume(chainId != here && chainId != 0);
        vm.chainId(chainId);
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 50e6, 50e6);
        vm.chainId(here);
        _claimReverts(
            row,
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector, channelId
            )
        );
    }

    function test_Attack_VoucherSignedByTheWrongKey() public {
        _claimReverts(
            _row(config, attackerKey, 50e6, 50e6),
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector, channelId
            )
        );
    }

    function testFuzz_Attack_VoucherSignedByTheWrongKey(uint256 key) public {
        key = bound(key, 1, 1e70);
        vm.assume(key != payerKey);
        _claimReverts(
            _row(config, key, 50e6, 50e6),
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector, channelId
            )
        );
    }

    /// Where a payer authorizer is committed, even the payer's own key does not sign vouchers (ECDSA only).
    function test_Attack_PayerKeyWhenAnAuthorizerIsCommitted() public {
        (address hot,) = makeAddrAndKey("hot");
        IBatchSettlement.ChannelConfig memory c = _config(payer, hot, treasury, authorizer);
        _depositVia3009(c, payerKey, 10e6, 3, attacker);
        _claimReverts(
            _row(c, payerKey, 5e6, 5e6),
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector, settlement.getChannelId(c)
            )
        );
    }

    function testFuzz_Attack_MalformedVoucherSignature(bytes memory signature) public {
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 50e6, 50e6);
        vm.assume(keccak256(signature) != keccak256(row.signature));
        row.signature = signature;
        _claimReverts(
            row,
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector, channelId
            )
        );
    }

    // ------------------------------------------------------------------ claiming more than signed or held

    function test_Attack_ClaimAboveTheVoucher() public {
        _claimReverts(
            _row(config, payerKey, 50e6, 50e6 + 1),
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementClaimAboveCeiling.selector, channelId, 50e6 + 1, 50e6
            )
        );
    }

    function testFuzz_Attack_ClaimAboveTheVoucher(uint128 ceiling, uint128 total) public {
        ceiling = uint128(bound(ceiling, 0, 100e6 - 1));
        total = uint128(bound(total, ceiling + 1, type(uint128).max));
        _claimReverts(
            _row(config, payerKey, ceiling, total),
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementClaimAboveCeiling.selector, channelId, total, ceiling
            )
        );
    }

    function test_Attack_ClaimAboveTheDeposit() public {
        _claimReverts(
            _row(config, payerKey, 1_000e6, 100e6 + 1),
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementClaimAboveBalance.selector, channelId, 100e6 + 1, 100e6
            )
        );
    }

    function testFuzz_Attack_ClaimAboveTheDeposit(uint128 total) public {
        total = uint128(bound(total, 100e6 + 1, type(uint128).max));
        _claimReverts(
            _row(config, payerKey, type(uint128).max, total),
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementClaimAboveBalance.selector, channelId, total, 100e6
            )
        );
    }

    // ------------------------------------------------------------------ replays

    /// The same claim twice (a retried transaction, or twice in one batch) credits the receiver once.
    function test_Attack_ClaimTwice() public {
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 30e6, 30e6);
        _claimBy(authorizer, row);
        _claimBy(authorizer, row);
        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](2);
        (rows[0], rows[1]) = (row, row);
        vm.prank(authorizer);
        settlement.claim(rows);
        settlement.claimWithSignature(rows, _signBatch(authorizerKey, rows));
        settlement.settle(treasury, address(usdc));
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(treasury), 30e6);
        (uint128 claimed,) = settlement.receivers(treasury, address(usdc));
        assertEq(claimed, 30e6);
    }

    function testFuzz_Attack_ClaimTwice(uint128 total, uint8 times) public {
        total = uint128(bound(total, 1, 100e6));
        times = uint8(bound(times, 2, 6));
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, total, total);
        for (uint256 i; i < times; ++i) {
            _claimBy(authorizer, row);
            settlement.settle(treasury, address(usdc));
        }
        assertEq(usdc.balanceOf(treasury), total);
        assertEq(usdc.balanceOf(address(settlement)), 100e6 - total);
    }

    /// A lower cumulative total (an older voucher) never lowers what was claimed, nor re-credits it.
    function test_Attack_LowerTheCumulativeTotal() public {
        _claimBy(authorizer, _row(config, payerKey, 70e6, 70e6));
        _claimBy(authorizer, _row(config, payerKey, 50e6, 50e6));
        (, uint128 claimed) = _channel(config);
        assertEq(claimed, 70e6);
        (uint128 receiverClaimed,) = settlement.receivers(treasury, address(usdc));
        assertEq(receiverClaimed, 70e6);
    }

    function testFuzz_Attack_LowerTheCumulativeTotal(uint128 high, uint128 low) public {
        high = uint128(bound(high, 1, 100e6));
        low = uint128(bound(low, 0, high));
        _claimBy(authorizer, _row(config, payerKey, high, high));
        _claimBy(authorizer, _row(config, payerKey, high, low));
        (, uint128 claimed) = _channel(config);
        assertEq(claimed, high);
        (uint128 receiverClaimed,) = settlement.receivers(treasury, address(usdc));
        assertEq(receiverClaimed, high);
    }

    /// A channel refilled after being emptied does not revive vouchers already claimed.
    function test_Attack_RefillDoesNotReviveClaimedVouchers() public {
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 40e6, 40e6);
        _claimBy(authorizer, row);
        vm.prank(authorizer);
        settlement.refund(config, 60e6);
        _depositVia3009(config, payerKey, 100e6, 9, attacker);
        _claimBy(authorizer, row);
        (uint128 balance, uint128 claimed) = _channel(config);
        assertEq(claimed, 40e6);
        assertEq(balance, 140e6);
    }

    function test_Attack_ReplayASignedRefund() public {
        bytes memory signature = _signRefund(authorizerKey, channelId, 0, 10e6);
        settlement.refundWithSignature(config, 10e6, 0, signature);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementInvalidRefundNonce.selector, channelId, 1, 0
            )
        );
        settlement.refundWithSignature(config, 10e6, 0, signature);
        assertEq(usdc.balanceOf(payer), 10e6);
    }

    function testFuzz_Attack_TamperWithASignedRefund(uint128 amount, bytes32 salt) public {
        amount = uint128(bound(amount, 1, 100e6));
        vm.assume(salt != config.salt);
        bytes memory signature = _signRefund(authorizerKey, channelId, 0, amount);
        // another amount
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidAuthorizerSignature.selector);
        settlement.refundWithSignature(config, amount + 1, 0, signature);
        // another channel
        IBatchSettlement.ChannelConfig memory other = config;
        other.salt = salt;
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidAuthorizerSignature.selector);
        settlement.refundWithSignature(other, amount, 0, signature);
        // a refund signed by anyone but the receiver authorizer
        bytes memory forged = _signRefund(attackerKey, channelId, 0, amount);
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidAuthorizerSignature.selector);
        settlement.refundWithSignature(config, amount, 0, forged);
    }

    /// A relayer cannot change a signed claim batch: other totals, other rows, another signer.
    function test_Attack_TamperWithASignedClaimBatch() public {
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 80e6, 20e6));
        bytes memory signature = _signBatch(authorizerKey, rows);
        rows[0].totalClaimed = 80e6;
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidAuthorizerSignature.selector);
        settlement.claimWithSignature(rows, signature);
        rows[0].totalClaimed = 20e6;
        bytes memory forged = _signBatch(attackerKey, rows);
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidAuthorizerSignature.selector);
        settlement.claimWithSignature(rows, forged);
        settlement.claimWithSignature(rows, signature);
        (, uint128 claimed) = _channel(config);
        assertEq(claimed, 20e6);
    }

    function testFuzz_Attack_TamperWithASignedClaimBatch(uint128 signedTotal, uint128 relayedTotal) public {
        signedTotal = uint128(bound(signedTotal, 1, 100e6));
        relayedTotal = uint128(bound(relayedTotal, 1, 100e6));
        vm.assume(signedTotal != relayedTotal);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 100e6, signedTotal));
        bytes memory signature = _signBatch(authorizerKey, rows);
        rows[0].totalClaimed = relayedTotal;
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidAuthorizerSignature.selector);
        settlement.claimWithSignature(rows, signature);
    }

    // ------------------------------------------------------------------ withdrawal racing a claim

    /// The payer asks to withdraw everything and tries to finalize before the receiver's claim lands: inside
    /// the delay it cannot, the claim lands, and the withdrawal then pays only what is unclaimed.
    function test_Attack_WithdrawalFrontRunsAClaimInsideTheDelay() public {
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 60e6, 60e6);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 100e6);
        vm.warp(block.timestamp + DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementWithdrawalNotReady.selector, channelId, block.timestamp + 1
            )
        );
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        _claimBy(authorizer, row);
        vm.warp(block.timestamp + 1);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(payer), 40e6);
        assertEq(usdc.balanceOf(treasury), 60e6);
    }

    function testFuzz_Attack_WithdrawalFrontRunsAClaimInsideTheDelay(uint256 tryAt, uint128 total) public {
        total = uint128(bound(total, 1, 100e6));
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, total, total);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 100e6);
        uint256 readyAt = block.timestamp + DELAY;
        vm.warp(block.timestamp + bound(tryAt, 0, DELAY - 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementWithdrawalNotReady.selector, channelId, readyAt
            )
        );
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        _claimBy(authorizer, row);
        vm.warp(readyAt);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(payer), 100e6 - total);
        assertEq(usdc.balanceOf(treasury), total);
    }

    /// A claim that arrives after the payer finalized finds the escrow gone: the receiver must claim within the
    /// delay (the runtime claims as soon as it sees WithdrawInitiated).
    function test_ClaimAfterTheWithdrawalFindsNothing() public {
        IBatchSettlement.VoucherClaim memory row = _row(config, payerKey, 60e6, 60e6);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 100e6);
        vm.warp(block.timestamp + DELAY);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        _claimReverts(
            row,
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementClaimAboveBalance.selector, channelId, 60e6, 0
            )
        );
    }

    // ------------------------------------------------------------------ deposits redirected or re-entered

    /// A relayer that sees a payer's ERC-3009 deposit cannot put it into a channel of its own choosing (here one
    /// where the attacker signs vouchers and receives): the authorization's nonce binds the channel id.
    function test_Attack_RedirectADepositAuthorization() public {
        usdc.mint(payer, 50e6);
        bytes memory data = _erc3009Data(config, payerKey, 50e6, 77);
        IBatchSettlement.ChannelConfig memory mine = _config(payer, attacker, attacker, attacker);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        vm.prank(attacker);
        settlement.deposit(mine, 50e6, collector, data);
        // nor change the amount
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        settlement.deposit(config, 50e6 - 1, collector, data);
        // the payer's own deposit still goes through, once
        settlement.deposit(config, 50e6, collector, data);
        vm.expectRevert();
        settlement.deposit(config, 50e6, collector, data);
        (uint128 balance,) = _channel(config);
        assertEq(balance, 150e6);
    }

    function testFuzz_Attack_RedirectADepositAuthorization(bytes32 salt, address receiver) public {
        vm.assume(salt != config.salt && receiver != address(0));
        usdc.mint(payer, 50e6);
        bytes memory data = _erc3009Data(config, payerKey, 50e6, 77);
        IBatchSettlement.ChannelConfig memory mine = _config(payer, attacker, receiver, attacker);
        mine.salt = salt;
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        settlement.deposit(mine, 50e6, collector, data);
        assertEq(usdc.balanceOf(payer), 50e6);
    }

    /// Calling the collector directly with a payer's authorization would send the tokens to the caller: refused.
    function test_Attack_RedeemAnAuthorizationThroughTheCollector() public {
        usdc.mint(payer, 50e6);
        bytes memory data = _erc3009Data(config, payerKey, 50e6, 77);
        vm.expectRevert(
            abi.encodeWithSelector(
                ERC3009DepositCollector.ERC3009DepositCollectorNotSettlement.selector, attacker
            )
        );
        vm.prank(attacker);
        ERC3009DepositCollector(collector).collect(payer, address(usdc), 50e6, channelId, data);
        assertEq(usdc.balanceOf(payer), 50e6);
    }

    function testFuzz_Attack_RedeemAnAuthorizationThroughTheCollector(address caller) public {
        vm.assume(caller != address(settlement));
        usdc.mint(payer, 50e6);
        bytes memory data = _erc3009Data(config, payerKey, 50e6, 77);
        vm.expectRevert(
            abi.encodeWithSelector(
                ERC3009DepositCollector.ERC3009DepositCollectorNotSettlement.selector, caller
            )
        );
        vm.prank(caller);
        ERC3009DepositCollector(collector).collect(payer, address(usdc), 50e6, channelId, data);
    }

    /// A collector that calls back into the escrow mid-deposit (to settle or claim on stale books) is refused.
    function test_Attack_ReenterThroughACollector() public {
        _claimBy(authorizer, _row(config, payerKey, 10e6, 10e6));
        MisbehavingCollector bad = new MisbehavingCollector();
        usdc.mint(address(bad), 5e6);
        bad.setMode(
            MisbehavingCollector.Mode.Reenter, abi.encodeCall(settlement.settle, (treasury, address(usdc)))
        );
        settlement.deposit(config, 5e6, address(bad), "");
        assertFalse(bad.reentrySucceeded());
        assertEq(
            bad.reentryResult(),
            abi.encodePacked(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
        );
        assertEq(usdc.balanceOf(treasury), 0);
        (uint128 balance,) = _channel(config);
        assertEq(balance, 105e6);
    }

    /// A token that calls back on transfer cannot settle twice: the second settle is refused mid-transfer.
    function test_Attack_ReenterThroughTheToken() public {
        ReentrantToken token = new ReentrantToken();
        IBatchSettlement.ChannelConfig memory c = config;
        c.token = address(token);
        token.mint(attacker, 10e6);
        vm.startPrank(attacker);
        token.approve(address(settlement), 10e6);
        settlement.deposit(c, 10e6, address(0), "");
        vm.stopPrank();
        _claimBy(authorizer, _row(c, payerKey, 4e6, 4e6));
        token.setHook(address(settlement), abi.encodeCall(settlement.settle, (treasury, address(token))));
        settlement.settle(treasury, address(token));
        assertTrue(token.reentered());
        assertFalse(token.reentrySucceeded());
        assertEq(token.balanceOf(treasury), 4e6);
        assertEq(token.balanceOf(address(settlement)), 6e6);
    }

    // ------------------------------------------------------------------ who may move escrow

    function testFuzz_Attack_StrangerCannotMoveEscrow(address caller) public {
        vm.assume(caller != payer && caller != treasury && caller != authorizer);
        vm.startPrank(caller);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotPayerSide.selector, channelId, caller)
        );
        settlement.initiateWithdraw(config, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementNotReceiverSide.selector, channelId, caller
            )
        );
        settlement.refund(config, 1);
        vm.stopPrank();
        // settle is open to anyone but pays only the receiver
        settlement.settle(caller, address(usdc));
        (uint128 balance,) = _channel(config);
        assertEq(balance, 100e6);
        assertEq(usdc.balanceOf(address(settlement)), 100e6);
    }

    /// The receiver side cannot withdraw for the payer, nor stop the payer's withdrawal.
    function test_Attack_ReceiverCannotTakeOrBlockTheWithdrawal() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementNotPayerSide.selector, channelId, authorizer
            )
        );
        vm.prank(authorizer);
        settlement.initiateWithdraw(config, 1);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 100e6);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotPayerSide.selector, channelId, treasury)
        );
        vm.prank(treasury);
        settlement.finalizeWithdraw(config);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        assertEq(usdc.balanceOf(payer), 100e6);
    }
}
