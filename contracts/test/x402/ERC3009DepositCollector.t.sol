// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC3009DepositCollector} from "../../src/x402/ERC3009DepositCollector.sol";
import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {X402Addresses} from "../../src/x402/X402Addresses.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";

/// The ERC-3009 collector: it redeems the payer's authorization for exactly one channel and one amount, once,
/// within its validity window, only for the settlement contract, and keeps nothing.
contract ERC3009DepositCollectorTest is BatchSettlementFixture {
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
        _mint(payer, 1_000e6);
    }

    function test_ServesOnlyTheCanonicalSettlement() public view {
        assertEq(ERC3009DepositCollector(collector).SETTLEMENT(), X402Addresses.BATCH_SETTLEMENT);
    }

    /// The settlement contract collects: the tokens pass through the collector and nothing stays there.
    function test_CollectForwardsEverything() public {
        bytes memory data = _erc3009Data(config, payerKey, 10e6, 5);
        vm.prank(address(settlement));
        ERC3009DepositCollector(collector).collect(payer, address(usdc), 10e6, channelId, data);
        assertEq(usdc.balanceOf(address(settlement)), 10e6);
        assertEq(usdc.balanceOf(collector), 0);
        assertTrue(usdc.authorizationState(payer, keccak256(abi.encode(channelId, uint256(5)))));
    }

    function testFuzz_CollectForwardsEverything(uint256 amount, uint256 salt) public {
        amount = bound(amount, 1, 1_000e6);
        bytes memory data = _erc3009Data(config, payerKey, amount, salt);
        vm.prank(address(settlement));
        ERC3009DepositCollector(collector).collect(payer, address(usdc), amount, channelId, data);
        assertEq(usdc.balanceOf(address(settlement)), amount);
        assertEq(usdc.balanceOf(payer), 1_000e6 - amount);
        assertEq(usdc.balanceOf(collector), 0);
    }

    /// The same authorization twice: the token refuses the used nonce.
    function test_AnAuthorizationDepositsOnce() public {
        bytes memory data = _erc3009Data(config, payerKey, 10e6, 5);
        settlement.deposit(config, 10e6, collector, data);
        bytes32 nonce = keccak256(abi.encode(channelId, uint256(5)));
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationUsed.selector, payer, nonce));
        settlement.deposit(config, 10e6, collector, data);
    }

    function testFuzz_AnAuthorizationDepositsOnce(uint256 salt, uint128 amount) public {
        amount = uint128(bound(amount, 1, 500e6));
        bytes memory data = _erc3009Data(config, payerKey, amount, salt);
        settlement.deposit(config, amount, collector, data);
        vm.expectRevert();
        settlement.deposit(config, amount, collector, data);
        (uint128 balance,) = settlement.channels(channelId);
        assertEq(balance, amount);
    }

    /// An authorization past its `validBefore` deposits nothing.
    function test_AnExpiredAuthorizationIsRefused() public {
        bytes memory data = _erc3009Data(config, payerKey, 10e6, 5);
        vm.warp(block.timestamp + VALID_FOR);
        vm.expectRevert(
            abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationExpired.selector, block.timestamp)
        );
        settlement.deposit(config, 10e6, collector, data);
    }

    function testFuzz_AnExpiredAuthorizationIsRefused(uint256 late) public {
        bytes memory data = _erc3009Data(config, payerKey, 10e6, 5);
        uint256 validBefore = block.timestamp + VALID_FOR;
        vm.warp(validBefore + bound(late, 0, 365 days));
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationExpired.selector, validBefore));
        settlement.deposit(config, 10e6, collector, data);
    }

    /// The authorization names the channel (through its nonce) and the amount: another salt, another amount or
    /// another channel id makes the signature fail.
    function testFuzz_TheAuthorizationBindsChannelAndAmount(
        uint256 salt,
        uint256 otherSalt,
        bytes32 otherChannel
    ) public {
        vm.assume(salt != otherSalt && otherChannel != channelId);
        bytes memory data = _erc3009Data(config, payerKey, 10e6, salt);
        (uint256 validAfter, uint256 validBefore,, bytes memory signature) =
            abi.decode(data, (uint256, uint256, uint256, bytes));
        bytes memory resalted = abi.encode(validAfter, validBefore, otherSalt, signature);
        vm.startPrank(address(settlement));
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        ERC3009DepositCollector(collector).collect(payer, address(usdc), 10e6, channelId, resalted);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        ERC3009DepositCollector(collector).collect(payer, address(usdc), 10e6 + 1, channelId, data);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        ERC3009DepositCollector(collector).collect(payer, address(usdc), 10e6, otherChannel, data);
        vm.stopPrank();
        assertEq(usdc.balanceOf(payer), 1_000e6);
    }
}
