// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {X402Addresses} from "../../src/x402/X402Addresses.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";
import {FeeOnTransferToken} from "../mocks/FeeOnTransferToken.sol";
import {MisbehavingCollector} from "../mocks/MisbehavingCollector.sol";
import {SignerWallet} from "../mocks/SignerWallet.sol";

/// The escrow's entry points one by one, each concrete test beside its fuzz twin: deposit (direct and through
/// the ERC-3009 collector), claim and claimWithSignature, settle, refund and refundWithSignature, the timed
/// withdrawal, and the views the x402 package reads.
contract BatchSettlementTest is BatchSettlementFixture {
    event ChannelCreated(bytes32 indexed channelId, IBatchSettlement.ChannelConfig config);
    event ChannelClosed(bytes32 indexed channelId, IBatchSettlement.ChannelConfig config);
    event Deposited(bytes32 indexed channelId, address indexed sender, uint128 amount, uint128 newBalance);
    event Claimed(
        bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed
    );
    event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount);
    event Refunded(bytes32 indexed channelId, address indexed sender, uint128 amount);
    event WithdrawInitiated(bytes32 indexed channelId, uint128 amount, uint40 finalizeAfter);
    event WithdrawFinalized(bytes32 indexed channelId, address indexed sender, uint128 amount);

    address internal payer;
    uint256 internal payerKey;
    address internal authorizer; // the receiver authorizer (the facilitator's or the agent's signing key)
    uint256 internal authorizerKey;
    address internal treasury = makeAddr("treasury"); // the receiver: the agent's treasury
    address internal relayer = makeAddr("relayer");
    address internal stranger = makeAddr("stranger");
    IBatchSettlement.ChannelConfig internal config;
    bytes32 internal channelId;

    function setUp() public {
        vm.warp(1_700_000_000);
        _placeEscrow();
        (payer, payerKey) = makeAddrAndKey("payer");
        (authorizer, authorizerKey) = makeAddrAndKey("authorizer");
        config = _config(payer, payer, treasury, authorizer);
        channelId = settlement.getChannelId(config);
    }

    // ------------------------------------------------------------------ deposit

    function test_DepositDirectCreatesTheChannel() public {
        usdc.mint(relayer, 100e6);
        vm.startPrank(relayer);
        usdc.approve(address(settlement), 100e6);
        vm.expectEmit(address(settlement));
        emit ChannelCreated(channelId, config);
        vm.expectEmit(address(settlement));
        emit Deposited(channelId, relayer, 100e6, 100e6);
        settlement.deposit(config, 100e6, address(0), "");
        vm.stopPrank();
        (uint128 balance, uint128 claimed) = _channel(config);
        assertEq(balance, 100e6);
        assertEq(claimed, 0);
        assertEq(usdc.balanceOf(address(settlement)), 100e6);
        assertEq(usdc.balanceOf(relayer), 0);
    }

    function testFuzz_DepositDirect(address funder, uint128 amount) public {
        vm.assume(funder != address(0) && funder != address(settlement));
        amount = uint128(bound(amount, 1, 1e30));
        _depositDirect(config, funder, amount);
        (uint128 balance,) = _channel(config);
        assertEq(balance, amount);
        assertEq(usdc.balanceOf(address(settlement)), amount);
    }

    function test_DepositVia3009ByARelayer() public {
        usdc.mint(payer, 100e6);
        bytes memory data = _erc3009Data(config, payerKey, 100e6, 7);
        vm.expectEmit(address(settlement));
        emit Deposited(channelId, relayer, 100e6, 100e6);
        vm.prank(relayer);
        settlement.deposit(config, 100e6, collector, data);
        (uint128 balance,) = _channel(config);
        assertEq(balance, 100e6);
        assertEq(usdc.balanceOf(payer), 0);
        assertEq(usdc.balanceOf(collector), 0);
        assertEq(usdc.balanceOf(address(settlement)), 100e6);
        assertTrue(usdc.authorizationState(payer, keccak256(abi.encode(channelId, uint256(7)))));
    }

    function testFuzz_DepositVia3009(uint128 amount, uint256 salt) public {
        amount = uint128(bound(amount, 1, 1e30));
        _depositVia3009(config, payerKey, amount, salt, relayer);
        (uint128 balance,) = _channel(config);
        assertEq(balance, amount);
        assertEq(usdc.balanceOf(address(settlement)), amount);
        assertEq(usdc.balanceOf(collector), 0);
    }

    function test_TopUpAddsWithoutRecreating() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        usdc.mint(payer, 5e6);
        bytes memory data = _erc3009Data(config, payerKey, 5e6, 2);
        vm.recordLogs();
        settlement.deposit(config, 5e6, collector, data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != ChannelCreated.selector, "a top-up creates nothing");
        }
        assertEq(logs[logs.length - 1].topics[0], Deposited.selector);
        (uint128 balance,) = _channel(config);
        assertEq(balance, 15e6);
    }

    function testFuzz_TopUp(uint128 first, uint128 second) public {
        first = uint128(bound(first, 1, 1e30));
        second = uint128(bound(second, 1, 1e30));
        _depositVia3009(config, payerKey, first, 1, relayer);
        _depositDirect(config, relayer, second);
        (uint128 balance,) = _channel(config);
        assertEq(balance, uint256(first) + second);
    }

    function test_DepositRefusesAnIncompleteConfig() public {
        IBatchSettlement.ChannelConfig memory bad = config;
        bad.receiverAuthorizer = address(0);
        usdc.mint(address(this), 1e6);
        usdc.approve(address(settlement), 1e6);
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidConfig.selector);
        settlement.deposit(bad, 1e6, address(0), "");
        bad = config;
        bad.payer = address(0);
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidConfig.selector);
        settlement.deposit(bad, 1e6, address(0), "");
        bad = config;
        bad.receiver = address(0);
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidConfig.selector);
        settlement.deposit(bad, 1e6, address(0), "");
        bad = config;
        bad.token = address(0);
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidConfig.selector);
        settlement.deposit(bad, 1e6, address(0), "");
    }

    function testFuzz_DepositRefusesAZeroField(uint8 field) public {
        IBatchSettlement.ChannelConfig memory bad = config;
        field = uint8(bound(field, 0, 3));
        if (field == 0) bad.payer = address(0);
        if (field == 1) bad.receiver = address(0);
        if (field == 2) bad.receiverAuthorizer = address(0);
        if (field == 3) bad.token = address(0);
        vm.expectRevert(IBatchSettlement.BatchSettlementInvalidConfig.selector);
        settlement.deposit(bad, 1e6, address(0), "");
    }

    function test_DepositRefusesWithdrawDelaysOutOfBounds() public {
        IBatchSettlement.ChannelConfig memory c = config;
        c.withdrawDelay = 899;
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementWithdrawDelayOutOfRange.selector, 899)
        );
        settlement.deposit(c, 1e6, address(0), "");
        c.withdrawDelay = 30 days + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementWithdrawDelayOutOfRange.selector, 30 days + 1
            )
        );
        settlement.deposit(c, 1e6, address(0), "");
        c.withdrawDelay = 900;
        _depositDirect(c, relayer, 1e6);
        c.withdrawDelay = 30 days;
        _depositDirect(c, relayer, 1e6);
    }

    function testFuzz_WithdrawDelayBounds(uint40 delay) public {
        IBatchSettlement.ChannelConfig memory c = config;
        c.withdrawDelay = delay;
        if (delay < 900 || delay > 30 days) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IBatchSettlement.BatchSettlementWithdrawDelayOutOfRange.selector, delay
                )
            );
            settlement.deposit(c, 1e6, address(0), "");
        } else {
            _depositDirect(c, relayer, 1e6);
            (uint128 balance,) = _channel(c);
            assertEq(balance, 1e6);
        }
    }

    function test_DepositRefusesZero() public {
        vm.expectRevert(IBatchSettlement.BatchSettlementZeroAmount.selector);
        settlement.deposit(config, 0, address(0), "");
    }

    function test_DepositRefusesAFeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken(100);
        IBatchSettlement.ChannelConfig memory c = config;
        c.token = address(fee);
        fee.mint(relayer, 100e6);
        vm.startPrank(relayer);
        fee.approve(address(settlement), 100e6);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementDepositMismatch.selector, 100e6, 99e6)
        );
        settlement.deposit(c, 100e6, address(0), "");
        vm.stopPrank();
    }

    function test_DepositRefusesACollectorThatDoesNotPayExactly() public {
        MisbehavingCollector bad = new MisbehavingCollector();
        usdc.mint(address(bad), 10e6);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementDepositMismatch.selector, 1e6, 0)
        );
        settlement.deposit(config, 1e6, address(bad), "");
        bad.setMode(MisbehavingCollector.Mode.PayShort, "");
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementDepositMismatch.selector, 1e6, 1e6 - 1)
        );
        settlement.deposit(config, 1e6, address(bad), "");
        bad.setMode(MisbehavingCollector.Mode.PayOver, "");
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementDepositMismatch.selector, 1e6, 1e6 + 1)
        );
        settlement.deposit(config, 1e6, address(bad), "");
    }

    function testFuzz_DepositRefusesAShortCollector(uint128 amount) public {
        amount = uint128(bound(amount, 1, 1e30));
        MisbehavingCollector bad = new MisbehavingCollector();
        usdc.mint(address(bad), amount);
        bad.setMode(MisbehavingCollector.Mode.PayShort, "");
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementDepositMismatch.selector, amount, amount - 1
            )
        );
        settlement.deposit(config, amount, address(bad), "");
    }

    // ------------------------------------------------------------------ claim

    function test_ClaimByTheReceiverSide() public {
        _depositVia3009(config, payerKey, 100e6, 1, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 10e6, 7e6));
        vm.expectEmit(address(settlement));
        emit Claimed(channelId, authorizer, 7e6, 7e6);
        vm.prank(authorizer);
        settlement.claim(rows);
        (uint128 balance, uint128 claimed) = _channel(config);
        assertEq(balance, 100e6, "a claim moves no tokens");
        assertEq(claimed, 7e6);
        (uint128 receiverClaimed, uint128 settled) = settlement.receivers(treasury, address(usdc));
        assertEq(receiverClaimed, 7e6);
        assertEq(settled, 0);
        assertEq(usdc.balanceOf(treasury), 0);
        // the receiver itself may claim too
        rows = _one(_row(config, payerKey, 20e6, 20e6));
        vm.prank(treasury);
        settlement.claim(rows);
        (, claimed) = _channel(config);
        assertEq(claimed, 20e6);
    }

    function testFuzz_ClaimByTheReceiverSide(uint128 deposit, uint128 ceiling, uint128 total) public {
        deposit = uint128(bound(deposit, 1, 1e30));
        ceiling = uint128(bound(ceiling, 1, type(uint128).max));
        total = uint128(bound(total, 1, ceiling < deposit ? ceiling : deposit));
        _depositVia3009(config, payerKey, deposit, 1, relayer);
        _claimBy(authorizer, _row(config, payerKey, ceiling, total));
        (uint128 balance, uint128 claimed) = _channel(config);
        assertEq(balance, deposit);
        assertEq(claimed, total);
        (uint128 receiverClaimed,) = settlement.receivers(treasury, address(usdc));
        assertEq(receiverClaimed, total);
    }

    function test_ClaimRefusesAThirdParty() public {
        _depositVia3009(config, payerKey, 100e6, 1, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 10e6, 10e6));
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementNotReceiverSide.selector, channelId, relayer
            )
        );
        vm.prank(relayer);
        settlement.claim(rows);
    }

    function testFuzz_ClaimRefusesAThirdParty(address caller) public {
        vm.assume(caller != treasury && caller != authorizer);
        _depositVia3009(config, payerKey, 100e6, 1, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 10e6, 10e6));
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementNotReceiverSide.selector, channelId, caller
            )
        );
        vm.prank(caller);
        settlement.claim(rows);
    }

    function test_ClaimWithSignatureRelayedByAnyone() public {
        _depositVia3009(config, payerKey, 100e6, 1, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 10e6, 9e6));
        bytes memory signature = _signBatch(authorizerKey, rows);
        vm.expectEmit(address(settlement));
        emit Claimed(channelId, stranger, 9e6, 9e6);
        vm.prank(stranger);
        settlement.claimWithSignature(rows, signature);
        (, uint128 claimed) = _channel(config);
        assertEq(claimed, 9e6);
    }

    /// Many payers' channels to one receiver, claimed in one transaction by a relayer.
    function test_ClaimWithSignatureBatchesManyChannels() public {
        _claimManyChannels(5, 3e6);
    }

    function testFuzz_ClaimWithSignatureBatchesManyChannels(uint8 n, uint128 each) public {
        _claimManyChannels(bound(n, 1, 12), uint128(bound(each, 1, 1e24)));
    }

    function _claimManyChannels(uint256 n, uint128 each) internal {
        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](n);
        for (uint256 i; i < n; ++i) {
            (address p, uint256 k) = makeAddrAndKey(string(abi.encodePacked("payer", i)));
            IBatchSettlement.ChannelConfig memory c = _config(p, p, treasury, authorizer);
            _depositVia3009(c, k, each, i, relayer);
            rows[i] = _row(c, k, each, each);
        }
        bytes memory signature = _signBatch(authorizerKey, rows);
        vm.prank(relayer);
        settlement.claimWithSignature(rows, signature);
        for (uint256 i; i < n; ++i) {
            (uint128 balance, uint128 claimed) = _channel(rows[i].voucher.channel);
            assertEq(claimed, each);
            assertEq(balance, each);
        }
        (uint128 receiverClaimed,) = settlement.receivers(treasury, address(usdc));
        assertEq(receiverClaimed, n * each);
    }

    /// Claims to two receivers and two tokens in one batch book each pair separately.
    function test_ClaimBooksEachReceiverAndToken() public {
        address other = makeAddr("otherTreasury");
        IBatchSettlement.ChannelConfig memory toOther = _config(payer, payer, other, authorizer);
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        _depositVia3009(toOther, payerKey, 10e6, 2, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](3);
        rows[0] = _row(config, payerKey, 2e6, 2e6);
        rows[1] = _row(toOther, payerKey, 3e6, 3e6);
        rows[2] = _row(config, payerKey, 5e6, 5e6); // the same channel again, higher
        vm.prank(authorizer);
        settlement.claim(rows);
        (uint128 mine,) = settlement.receivers(treasury, address(usdc));
        (uint128 theirs,) = settlement.receivers(other, address(usdc));
        assertEq(mine, 5e6);
        assertEq(theirs, 3e6);
    }

    function test_ClaimIsCumulative() public {
        _depositVia3009(config, payerKey, 100e6, 1, relayer);
        _claimBy(authorizer, _row(config, payerKey, 1e6, 1e6));
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 6e6, 5e6));
        vm.expectEmit(address(settlement));
        emit Claimed(channelId, authorizer, 4e6, 5e6);
        vm.prank(authorizer);
        settlement.claim(rows);
        (, uint128 claimed) = _channel(config);
        assertEq(claimed, 5e6);
        (uint128 receiverClaimed,) = settlement.receivers(treasury, address(usdc));
        assertEq(receiverClaimed, 5e6);
    }

    function testFuzz_ClaimIsCumulative(uint128[4] memory totals) public {
        _depositVia3009(config, payerKey, 1e30, 1, relayer);
        uint128 highest;
        for (uint256 i; i < totals.length; ++i) {
            uint128 total = uint128(bound(totals[i], 1, 1e30));
            _claimBy(authorizer, _row(config, payerKey, total, total));
            if (total > highest) highest = total;
            (, uint128 claimed) = _channel(config);
            assertEq(claimed, highest, "the claimed total is the highest claimed so far");
        }
        (uint128 receiverClaimed,) = settlement.receivers(treasury, address(usdc));
        assertEq(receiverClaimed, highest);
    }

    function test_ClaimAVoucherThePayerSignsWithoutAnAuthorizer() public {
        IBatchSettlement.ChannelConfig memory c = _config(payer, address(0), treasury, authorizer);
        _depositVia3009(c, payerKey, 10e6, 1, relayer);
        _claimBy(authorizer, _row(c, payerKey, 4e6, 4e6));
        (, uint128 claimed) = _channel(c);
        assertEq(claimed, 4e6);
    }

    /// A smart-contract wallet payer (payerAuthorizer zero): vouchers verify through ERC-1271.
    function test_ClaimAVoucherOfAContractWallet() public {
        (address owner, uint256 ownerKey) = makeAddrAndKey("walletOwner");
        SignerWallet wallet = new SignerWallet(owner);
        IBatchSettlement.ChannelConfig memory c = _config(address(wallet), address(0), treasury, authorizer);
        _depositDirect(c, relayer, 10e6);
        _claimBy(authorizer, _row(c, ownerKey, 4e6, 4e6));
        (, uint128 claimed) = _channel(c);
        assertEq(claimed, 4e6);
        // the wallet refuses a stranger's signature
        (, uint256 strangerKey) = makeAddrAndKey("strangerKey");
        bytes32 id = settlement.getChannelId(c);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(c, strangerKey, 5e6, 5e6));
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementInvalidVoucherSignature.selector, id)
        );
        vm.prank(authorizer);
        settlement.claim(rows);
    }

    function testFuzz_ClaimAVoucherOfAContractWallet(uint256 ownerKey, uint128 total) public {
        ownerKey = bound(ownerKey, 1, 1e70);
        total = uint128(bound(total, 1, 10e6));
        SignerWallet wallet = new SignerWallet(vm.addr(ownerKey));
        IBatchSettlement.ChannelConfig memory c = _config(address(wallet), address(0), treasury, authorizer);
        _depositDirect(c, relayer, 10e6);
        _claimBy(authorizer, _row(c, ownerKey, total, total));
        (, uint128 claimed) = _channel(c);
        assertEq(claimed, total);
    }

    function test_ClaimRefusesAnEmptyBatch() public {
        IBatchSettlement.VoucherClaim[] memory none = new IBatchSettlement.VoucherClaim[](0);
        vm.expectRevert(IBatchSettlement.BatchSettlementEmptyBatch.selector);
        settlement.claim(none);
        vm.expectRevert(IBatchSettlement.BatchSettlementEmptyBatch.selector);
        settlement.claimWithSignature(none, "");
    }

    function test_ClaimWithSignatureRefusesMixedAuthorizers() public {
        address otherAuthorizer = makeAddr("otherAuthorizer");
        IBatchSettlement.ChannelConfig memory c = _config(payer, payer, treasury, otherAuthorizer);
        _depositVia3009(config, payerKey, 1e6, 1, relayer);
        _depositVia3009(c, payerKey, 1e6, 2, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](2);
        rows[0] = _row(config, payerKey, 1e6, 1e6);
        rows[1] = _row(c, payerKey, 1e6, 1e6);
        bytes memory signature = _signBatch(authorizerKey, rows);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementMixedAuthorizers.selector, authorizer, otherAuthorizer
            )
        );
        settlement.claimWithSignature(rows, signature);
    }

    /// A receiver authorizer that is a contract (say, for key rotation) signs claim batches through ERC-1271.
    function test_ClaimWithSignatureOfAContractAuthorizer() public {
        SignerWallet wallet = new SignerWallet(authorizer);
        IBatchSettlement.ChannelConfig memory c = _config(payer, payer, treasury, address(wallet));
        _depositVia3009(c, payerKey, 10e6, 1, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(c, payerKey, 3e6, 3e6));
        settlement.claimWithSignature(rows, _signBatch(authorizerKey, rows));
        (, uint128 claimed) = _channel(c);
        assertEq(claimed, 3e6);
    }

    // ------------------------------------------------------------------ settle

    function test_SettlePaysTheReceiverWhatWasClaimed() public {
        address p2 = makeAddr("payer2");
        IBatchSettlement.ChannelConfig memory c2 = _config(p2, payer, treasury, authorizer);
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        _depositDirect(c2, relayer, 10e6);
        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](2);
        rows[0] = _row(config, payerKey, 4e6, 4e6);
        rows[1] = _row(c2, payerKey, 2e6, 1e6);
        vm.prank(authorizer);
        settlement.claim(rows);

        vm.expectEmit(address(settlement));
        emit Settled(treasury, address(usdc), stranger, 5e6);
        vm.prank(stranger);
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(treasury), 5e6);
        assertEq(usdc.balanceOf(address(settlement)), 15e6);
        (uint128 claimed, uint128 settled) = settlement.receivers(treasury, address(usdc));
        assertEq(claimed, 5e6);
        assertEq(settled, 5e6);
        // the channels still hold the claimed funds on their books until paid out; what is left is the payers'
        (uint128 balance, uint128 channelClaimed) = _channel(config);
        assertEq(balance - channelClaimed, 6e6);
    }

    function testFuzz_Settle(uint128 deposit, uint128 first, uint128 second) public {
        deposit = uint128(bound(deposit, 2, 1e30));
        first = uint128(bound(first, 1, deposit - 1));
        second = uint128(bound(second, first + 1, deposit));
        _depositVia3009(config, payerKey, deposit, 1, relayer);
        _claimBy(authorizer, _row(config, payerKey, first, first));
        settlement.settle(treasury, address(usdc));
        _claimBy(authorizer, _row(config, payerKey, second, second));
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(treasury), second);
        assertEq(usdc.balanceOf(address(settlement)), deposit - second);
    }

    function test_SettleWithNothingClaimedDoesNothing() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.recordLogs();
        settlement.settle(treasury, address(usdc));
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(usdc.balanceOf(treasury), 0);
    }

    function testFuzz_SettleTwicePaysOnce(uint128 amount) public {
        amount = uint128(bound(amount, 1, 1e30));
        _depositVia3009(config, payerKey, amount, 1, relayer);
        _claimBy(authorizer, _row(config, payerKey, amount, amount));
        settlement.settle(treasury, address(usdc));
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(treasury), amount);
        assertEq(usdc.balanceOf(address(settlement)), 0);
    }

    // ------------------------------------------------------------------ refund

    function test_RefundByTheReceiverSide() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        _claimBy(authorizer, _row(config, payerKey, 3e6, 3e6));
        vm.expectEmit(address(settlement));
        emit Refunded(channelId, treasury, 2e6);
        vm.prank(treasury);
        settlement.refund(config, 2e6);
        assertEq(usdc.balanceOf(payer), 2e6);
        (uint128 balance, uint128 claimed) = _channel(config);
        assertEq(balance, 8e6);
        assertEq(claimed, 3e6);
        assertEq(settlement.refundNonce(channelId), 1);
    }

    /// A refund returns what was asked, capped at the escrow nobody claimed.
    function testFuzz_RefundIsCappedAtTheUnclaimed(uint128 deposit, uint128 claimed, uint128 ask) public {
        deposit = uint128(bound(deposit, 1, 1e30));
        claimed = uint128(bound(claimed, 0, deposit));
        ask = uint128(bound(ask, 1, type(uint128).max));
        _depositVia3009(config, payerKey, deposit, 1, relayer);
        if (claimed != 0) {
            _claimBy(authorizer, _row(config, payerKey, claimed, claimed));
        }
        vm.prank(authorizer);
        settlement.refund(config, ask);
        uint128 unclaimed = deposit - claimed;
        uint128 expected = ask < unclaimed ? ask : unclaimed;
        assertEq(usdc.balanceOf(payer), expected);
        (uint128 balance, uint128 totalClaimed) = _channel(config);
        assertEq(balance, deposit - expected);
        assertEq(totalClaimed, claimed);
        assertEq(settlement.refundNonce(channelId), 1);
    }

    function test_RefundWithSignatureRelayed() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        bytes memory signature = _signRefund(authorizerKey, channelId, 0, 4e6);
        vm.expectEmit(address(settlement));
        emit Refunded(channelId, relayer, 4e6);
        vm.prank(relayer);
        settlement.refundWithSignature(config, 4e6, 0, signature);
        assertEq(usdc.balanceOf(payer), 4e6);
        assertEq(settlement.refundNonce(channelId), 1);
    }

    function testFuzz_RefundWithSignature(uint128 deposit, uint128 ask, uint8 earlierRefunds) public {
        deposit = uint128(bound(deposit, 1, 1e30));
        ask = uint128(bound(ask, 1, deposit));
        earlierRefunds = uint8(bound(earlierRefunds, 0, 5));
        _depositVia3009(config, payerKey, deposit, 1, relayer);
        for (uint256 i; i < earlierRefunds; ++i) {
            vm.prank(treasury);
            settlement.refund(config, 1); // may find nothing left: the nonce moves anyway
        }
        uint256 nonce = settlement.refundNonce(channelId);
        assertEq(nonce, earlierRefunds);
        (uint128 before,) = _channel(config);
        bytes memory signature = _signRefund(authorizerKey, channelId, nonce, ask);
        vm.prank(relayer);
        settlement.refundWithSignature(config, ask, nonce, signature);
        (uint128 balance,) = _channel(config);
        assertEq(before - balance, ask < before ? ask : before);
        assertEq(usdc.balanceOf(payer), deposit - balance);
    }

    function test_RefundOfNothingStillMovesTheNonce() public {
        _depositVia3009(config, payerKey, 5e6, 1, relayer);
        _claimBy(authorizer, _row(config, payerKey, 5e6, 5e6));
        vm.recordLogs();
        vm.prank(authorizer);
        settlement.refund(config, 1e6);
        assertEq(vm.getRecordedLogs().length, 0, "no Refunded, no transfer");
        assertEq(settlement.refundNonce(channelId), 1);
        assertEq(usdc.balanceOf(payer), 0);
    }

    function test_RefundRefusesZeroAndThirdParties() public {
        _depositVia3009(config, payerKey, 5e6, 1, relayer);
        vm.prank(authorizer);
        vm.expectRevert(IBatchSettlement.BatchSettlementZeroAmount.selector);
        settlement.refund(config, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotReceiverSide.selector, channelId, payer)
        );
        vm.prank(payer);
        settlement.refund(config, 1e6);
    }

    function testFuzz_RefundRefusesThirdParties(address caller) public {
        vm.assume(caller != treasury && caller != authorizer);
        _depositVia3009(config, payerKey, 5e6, 1, relayer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementNotReceiverSide.selector, channelId, caller
            )
        );
        vm.prank(caller);
        settlement.refund(config, 1e6);
    }

    function test_FullRefundClosesTheChannelAndItCanBeFundedAgain() public {
        _depositVia3009(config, payerKey, 5e6, 1, relayer);
        vm.expectEmit(address(settlement));
        emit ChannelClosed(channelId, config);
        vm.prank(authorizer);
        settlement.refund(config, 5e6);
        (uint128 balance,) = _channel(config);
        assertEq(balance, 0);
        usdc.mint(payer, 2e6);
        bytes memory data = _erc3009Data(config, payerKey, 2e6, 2);
        vm.expectEmit(address(settlement));
        emit ChannelCreated(channelId, config);
        settlement.deposit(config, 2e6, collector, data);
    }

    /// The facilitator's cooperative refund: claim the last voucher and refund the rest in one multicall.
    function test_MulticallClaimsThenRefunds() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        IBatchSettlement.VoucherClaim[] memory rows = _one(_row(config, payerKey, 3e6, 3e6));
        bytes[] memory calls = new bytes[](2);
        calls[0] =
            abi.encodeCall(IBatchSettlement.claimWithSignature, (rows, _signBatch(authorizerKey, rows)));
        calls[1] = abi.encodeCall(
            IBatchSettlement.refundWithSignature,
            (config, 7e6, 0, _signRefund(authorizerKey, channelId, 0, 7e6))
        );
        vm.prank(relayer);
        settlement.multicall(calls);
        assertEq(usdc.balanceOf(payer), 7e6);
        (uint128 balance, uint128 claimed) = _channel(config);
        assertEq(balance, 3e6);
        assertEq(claimed, 3e6);
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(treasury), 3e6);
        assertEq(usdc.balanceOf(address(settlement)), 0);
    }

    // ------------------------------------------------------------------ timed withdrawal

    function test_WithdrawAfterTheDelay() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.expectEmit(address(settlement));
        emit WithdrawInitiated(channelId, 6e6, uint40(block.timestamp) + DELAY);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 6e6);
        (uint128 amount, uint40 initiatedAt) = settlement.pendingWithdrawals(channelId);
        assertEq(amount, 6e6);
        assertEq(initiatedAt, block.timestamp);

        vm.warp(block.timestamp + DELAY);
        vm.expectEmit(address(settlement));
        emit WithdrawFinalized(channelId, payer, 6e6);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        assertEq(usdc.balanceOf(payer), 6e6);
        (uint128 balance,) = _channel(config);
        assertEq(balance, 4e6);
        (amount, initiatedAt) = settlement.pendingWithdrawals(channelId);
        assertEq(amount, 0);
        assertEq(initiatedAt, 0);
    }

    /// Finalizing fails one second before the delay is over and works from then on.
    function testFuzz_WithdrawDelay(uint40 delay, uint256 early, uint256 late) public {
        delay = uint40(bound(delay, 900, 30 days));
        IBatchSettlement.ChannelConfig memory c = config;
        c.withdrawDelay = delay;
        bytes32 id = settlement.getChannelId(c);
        _depositVia3009(c, payerKey, 10e6, 1, relayer);
        vm.prank(payer);
        settlement.initiateWithdraw(c, 10e6);
        uint256 readyAt = block.timestamp + delay;
        vm.warp(block.timestamp + bound(early, 0, delay - 1));
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementWithdrawalNotReady.selector, id, readyAt)
        );
        vm.prank(payer);
        settlement.finalizeWithdraw(c);
        vm.warp(readyAt + bound(late, 0, 365 days));
        vm.prank(payer);
        settlement.finalizeWithdraw(c);
        assertEq(usdc.balanceOf(payer), 10e6);
    }

    function test_WithdrawByThePayerAuthorizerPaysThePayer() public {
        (address hot,) = makeAddrAndKey("hotKey");
        IBatchSettlement.ChannelConfig memory c = _config(payer, hot, treasury, authorizer);
        _depositDirect(c, relayer, 10e6);
        vm.prank(hot);
        settlement.initiateWithdraw(c, 10e6);
        vm.warp(block.timestamp + DELAY);
        vm.prank(hot);
        settlement.finalizeWithdraw(c);
        assertEq(usdc.balanceOf(payer), 10e6);
        assertEq(usdc.balanceOf(hot), 0);
    }

    function testFuzz_WithdrawRefusesThirdParties(address caller) public {
        vm.assume(caller != payer);
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotPayerSide.selector, channelId, caller)
        );
        vm.prank(caller);
        settlement.initiateWithdraw(config, 1e6);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 1e6);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotPayerSide.selector, channelId, caller)
        );
        vm.prank(caller);
        settlement.finalizeWithdraw(config);
    }

    function test_WithdrawRefusesBadRequests() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.startPrank(payer);
        vm.expectRevert(IBatchSettlement.BatchSettlementZeroAmount.selector);
        settlement.initiateWithdraw(config, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementWithdrawalAboveAvailable.selector, channelId, 10e6 + 1, 10e6
            )
        );
        settlement.initiateWithdraw(config, 10e6 + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNoWithdrawalPending.selector, channelId)
        );
        settlement.finalizeWithdraw(config);
        settlement.initiateWithdraw(config, 1e6);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementWithdrawalPending.selector, channelId)
        );
        settlement.initiateWithdraw(config, 1e6);
        vm.stopPrank();
    }

    function testFuzz_WithdrawAtMostTheUnclaimed(uint128 deposit, uint128 claimed, uint128 ask) public {
        deposit = uint128(bound(deposit, 1, 1e30));
        claimed = uint128(bound(claimed, 0, deposit - 1));
        ask = uint128(bound(ask, 1, type(uint128).max));
        _depositVia3009(config, payerKey, deposit, 1, relayer);
        if (claimed != 0) {
            _claimBy(authorizer, _row(config, payerKey, claimed, claimed));
        }
        uint128 unclaimed = deposit - claimed;
        vm.prank(payer);
        if (ask > unclaimed) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IBatchSettlement.BatchSettlementWithdrawalAboveAvailable.selector,
                    channelId,
                    ask,
                    unclaimed
                )
            );
            settlement.initiateWithdraw(config, ask);
        } else {
            settlement.initiateWithdraw(config, ask);
            vm.warp(block.timestamp + DELAY);
            vm.prank(payer);
            settlement.finalizeWithdraw(config);
            assertEq(usdc.balanceOf(payer), ask);
        }
    }

    /// Claims that land during the delay come first: the withdrawal pays only what is still unclaimed.
    function test_ClaimDuringTheDelayComesFirst() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 10e6);
        vm.warp(block.timestamp + DELAY - 1);
        _claimBy(authorizer, _row(config, payerKey, 4e6, 4e6));
        vm.warp(block.timestamp + 1);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        assertEq(usdc.balanceOf(payer), 6e6);
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(treasury), 4e6);
        assertEq(usdc.balanceOf(address(settlement)), 0);
        (uint128 balance, uint128 claimed) = _channel(config);
        assertEq(balance, 4e6);
        assertEq(claimed, 4e6);
    }

    function testFuzz_ClaimDuringTheDelayComesFirst(uint128 deposit, uint128 claimed, uint40 claimAt) public {
        deposit = uint128(bound(deposit, 1, 1e30));
        claimed = uint128(bound(claimed, 1, deposit));
        _depositVia3009(config, payerKey, deposit, 1, relayer);
        vm.prank(payer);
        settlement.initiateWithdraw(config, deposit);
        vm.warp(block.timestamp + bound(claimAt, 0, DELAY - 1));
        _claimBy(authorizer, _row(config, payerKey, claimed, claimed));
        vm.warp(block.timestamp + DELAY);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
        assertEq(usdc.balanceOf(payer), deposit - claimed);
        settlement.settle(treasury, address(usdc));
        assertEq(usdc.balanceOf(treasury), claimed);
        assertEq(usdc.balanceOf(address(settlement)), 0);
    }

    function test_WithdrawingEverythingClosesTheChannel() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 10e6);
        vm.warp(block.timestamp + DELAY);
        vm.expectEmit(address(settlement));
        emit ChannelClosed(channelId, config);
        vm.prank(payer);
        settlement.finalizeWithdraw(config);
    }

    /// A refund during the delay shrinks the pending withdrawal; one that covers it ends it.
    function test_RefundShrinksOrEndsThePendingWithdrawal() public {
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 6e6);
        vm.prank(authorizer);
        settlement.refund(config, 2e6);
        (uint128 amount, uint40 initiatedAt) = settlement.pendingWithdrawals(channelId);
        assertEq(amount, 4e6);
        assertEq(initiatedAt, block.timestamp);
        vm.prank(authorizer);
        settlement.refund(config, 4e6);
        (amount, initiatedAt) = settlement.pendingWithdrawals(channelId);
        assertEq(amount, 0);
        assertEq(initiatedAt, 0);
        assertEq(usdc.balanceOf(payer), 6e6);
    }

    function testFuzz_RefundShrinksThePendingWithdrawal(uint128 ask, uint128 refunded) public {
        ask = uint128(bound(ask, 1, 10e6));
        refunded = uint128(bound(refunded, 1, 10e6));
        _depositVia3009(config, payerKey, 10e6, 1, relayer);
        vm.prank(payer);
        settlement.initiateWithdraw(config, ask);
        vm.prank(authorizer);
        settlement.refund(config, refunded);
        (uint128 amount,) = settlement.pendingWithdrawals(channelId);
        assertEq(amount, refunded >= ask ? 0 : ask - refunded);
        // whatever happened, the payer ends up with every unit nobody claimed
        if (amount != 0) {
            vm.warp(block.timestamp + DELAY);
            vm.prank(payer);
            settlement.finalizeWithdraw(config);
        }
        assertEq(usdc.balanceOf(payer), refunded > ask ? refunded : ask);
    }

    // ------------------------------------------------------------------ views

    function test_ChannelIdIsTheTypedDataHashOfTheConfig() public view {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("x402 Batch Settlement"),
                keccak256("1"),
                block.chainid,
                X402Addresses.BATCH_SETTLEMENT
            )
        );
        assertEq(settlement.DOMAIN_SEPARATOR(), domain);
        bytes32 structHash = keccak256(abi.encode(settlement.CHANNEL_CONFIG_TYPEHASH(), config));
        assertEq(channelId, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
    }

    function testFuzz_ChannelIdsDiffer(bytes32 salt) public view {
        vm.assume(salt != config.salt);
        IBatchSettlement.ChannelConfig memory c = config;
        c.salt = salt;
        assertTrue(settlement.getChannelId(c) != channelId);
    }

    /// A config whose address or delay words carry dirty upper bits is refused, as the ABI decoder would: one
    /// config, one channel id.
    function test_DirtyConfigIsRefused() public {
        bytes memory call = abi.encodeCall(IBatchSettlement.getChannelId, (config));
        (bool ok,) = address(settlement).staticcall(call);
        assertTrue(ok);
        call[4 + 11] = 0x01; // the byte just above the payer's 20
        (ok,) = address(settlement).staticcall(call);
        assertFalse(ok);
    }

    function testFuzz_DirtyConfigIsRefused(uint8 field, uint8 bit) public {
        field = uint8(bound(field, 0, 5)); // the five addresses and the uint40 delay
        bytes memory call = abi.encodeCall(IBatchSettlement.getChannelId, (config));
        uint256 clean = field < 5 ? 12 : 27; // bytes above the value in its 32-byte word
        uint256 at = 4 + 32 * uint256(field) + bound(bit, 0, clean * 8 - 1) / 8;
        call[at] = bytes1(uint8(1) << (bit % 8));
        (bool ok,) = address(settlement).staticcall(call);
        assertFalse(ok);
    }

    function test_Eip712Domain() public view {
        (bytes1 fields, string memory name, string memory version, uint256 chainId, address verifying,,) =
            IERC5267(address(settlement)).eip712Domain();
        assertEq(fields, hex"0f");
        assertEq(name, "x402 Batch Settlement");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, X402Addresses.BATCH_SETTLEMENT);
    }

    /// The domain follows the chain: a chain id change (a fork) gives other ids, so vouchers do not replay.
    function testFuzz_DomainFollowsTheChain(uint64 chainId) public {
        vm.assume(chainId != block.chainid && chainId != 0);
        vm.chainId(chainId);
        assertTrue(settlement.getChannelId(config) != channelId);
    }
}
