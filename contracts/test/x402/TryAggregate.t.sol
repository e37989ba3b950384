// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {TryAggregate} from "../../src/x402/TryAggregate.sol";
import {X402Addresses} from "../../src/x402/X402Addresses.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";

/// The x402 facilitator's channel-state read, as it makes it: one `tryAggregate` at Multicall3's address over
/// `channels`, `pendingWithdrawals`, `refundNonce` and the payer's token balance.
contract TryAggregateTest is BatchSettlementFixture {
    TryAggregate internal multicall = TryAggregate(X402Addresses.MULTICALL3);
    address internal payer;
    uint256 internal payerKey;
    IBatchSettlement.ChannelConfig internal config;
    bytes32 internal channelId;

    function setUp() public {
        vm.warp(1_700_000_000);
        _placeEscrow();
        (payer, payerKey) = makeAddrAndKey("payer");
        config = _config(payer, payer, makeAddr("treasury"), makeAddr("authorizer"));
        channelId = settlement.getChannelId(config);
    }

    function _stateReads() internal view returns (TryAggregate.Call[] memory calls) {
        calls = new TryAggregate.Call[](4);
        calls[0] = TryAggregate.Call(address(settlement), abi.encodeCall(settlement.channels, (channelId)));
        calls[1] = TryAggregate.Call(
            address(settlement), abi.encodeCall(settlement.pendingWithdrawals, (channelId))
        );
        calls[2] = TryAggregate.Call(address(settlement), abi.encodeCall(settlement.refundNonce, (channelId)));
        calls[3] = TryAggregate.Call(address(usdc), abi.encodeCall(usdc.balanceOf, (payer)));
    }

    function test_ReadsTheChannelStateInOneCall() public {
        _depositVia3009(config, payerKey, 7e6, 1, payer);
        _mint(payer, 3e6);
        vm.prank(payer);
        settlement.initiateWithdraw(config, 2e6);
        TryAggregate.Result[] memory results = multicall.tryAggregate(false, _stateReads());
        assertEq(results.length, 4);
        (uint128 balance, uint128 claimed) = abi.decode(results[0].returnData, (uint128, uint128));
        (uint128 pending, uint40 initiatedAt) = abi.decode(results[1].returnData, (uint128, uint40));
        assertEq(balance, 7e6);
        assertEq(claimed, 0);
        assertEq(pending, 2e6);
        assertEq(initiatedAt, block.timestamp);
        assertEq(abi.decode(results[2].returnData, (uint256)), 0);
        assertEq(abi.decode(results[3].returnData, (uint256)), 3e6);
        for (uint256 i; i < results.length; ++i) {
            assertTrue(results[i].success);
        }
    }

    function testFuzz_ReadsTheChannelStateInOneCall(uint128 deposit, uint128 refunded) public {
        deposit = uint128(bound(deposit, 1, 1e30));
        refunded = uint128(bound(refunded, 1, deposit));
        _depositVia3009(config, payerKey, deposit, 1, payer);
        vm.prank(config.receiver);
        settlement.refund(config, refunded);
        TryAggregate.Result[] memory results = multicall.tryAggregate(false, _stateReads());
        (uint128 balance,) = abi.decode(results[0].returnData, (uint128, uint128));
        assertEq(balance, deposit - refunded);
        assertEq(abi.decode(results[2].returnData, (uint256)), 1);
        assertEq(abi.decode(results[3].returnData, (uint256)), refunded);
    }

    /// A failing call is reported with its revert data, or fails the whole batch when success is required.
    function test_AFailingCall() public {
        TryAggregate.Call[] memory calls = new TryAggregate.Call[](2);
        calls[0] = TryAggregate.Call(address(settlement), abi.encodeCall(settlement.refundNonce, (channelId)));
        calls[1] = TryAggregate.Call(address(settlement), abi.encodeCall(settlement.refund, (config, 1)));
        TryAggregate.Result[] memory results = multicall.tryAggregate(false, calls);
        assertTrue(results[0].success);
        assertFalse(results[1].success);
        assertEq(
            results[1].returnData,
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementNotReceiverSide.selector, channelId, address(multicall)
            )
        );
        vm.expectRevert(abi.encodeWithSelector(TryAggregate.TryAggregateCallFailed.selector, 1));
        multicall.tryAggregate(true, calls);
    }

    function testFuzz_AFailingCall(uint8 n, uint8 failing) public {
        n = uint8(bound(n, 1, 8));
        failing = uint8(bound(failing, 0, n - 1));
        TryAggregate.Call[] memory calls = new TryAggregate.Call[](n);
        for (uint256 i; i < n; ++i) {
            calls[i] = i == failing
                ? TryAggregate.Call(
                    address(settlement), abi.encodeCall(settlement.finalizeWithdraw, (config))
                )
                : TryAggregate.Call(address(settlement), abi.encodeCall(settlement.refundNonce, (channelId)));
        }
        TryAggregate.Result[] memory results = multicall.tryAggregate(false, calls);
        for (uint256 i; i < n; ++i) {
            assertEq(results[i].success, i != failing);
        }
        vm.expectRevert(abi.encodeWithSelector(TryAggregate.TryAggregateCallFailed.selector, failing));
        multicall.tryAggregate(true, calls);
    }
}
