// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {BatchSettlement} from "../../src/x402/BatchSettlement.sol";
import {ERC3009DepositCollector} from "../../src/x402/ERC3009DepositCollector.sol";
import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {TryAggregate} from "../../src/x402/TryAggregate.sol";
import {X402Addresses} from "../../src/x402/X402Addresses.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";

/// @notice The batch-settlement escrow as the embedded chain runs it: the runtime code of the settlement contract,
/// of the ERC-3009 collector and of TryAggregate (as Multicall3) placed at the x402 package's canonical addresses
/// (no constructor runs, as with `anvil_setCode`), MockUSDC as the token, and helpers that sign what the package's
/// client and receiver authorizer sign.
abstract contract BatchSettlementFixture is Test {
    uint40 internal constant DELAY = 1 hours;
    uint256 internal constant VALID_FOR = 1 hours;

    BatchSettlement internal settlement = BatchSettlement(X402Addresses.BATCH_SETTLEMENT);
    address internal collector = X402Addresses.ERC3009_DEPOSIT_COLLECTOR;
    MockUSDC internal usdc;

    function _placeEscrow() internal {
        vm.etch(X402Addresses.BATCH_SETTLEMENT, type(BatchSettlement).runtimeCode);
        vm.etch(X402Addresses.ERC3009_DEPOSIT_COLLECTOR, type(ERC3009DepositCollector).runtimeCode);
        vm.etch(X402Addresses.MULTICALL3, type(TryAggregate).runtimeCode);
        usdc = new MockUSDC();
    }

    /// Mints as the token's owner, so handlers can mint too.
    function _mint(address to, uint256 amount) internal {
        address owner = usdc.owner();
        vm.prank(owner);
        usdc.mint(to, amount);
    }

    function _config(address payer, address payerAuthorizer, address receiver, address receiverAuthorizer)
        internal
        view
        returns (IBatchSettlement.ChannelConfig memory)
    {
        return IBatchSettlement.ChannelConfig({
            payer: payer,
            payerAuthorizer: payerAuthorizer,
            receiver: receiver,
            receiverAuthorizer: receiverAuthorizer,
            token: address(usdc),
            withdrawDelay: DELAY,
            salt: bytes32(0)
        });
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _signVoucher(uint256 key, bytes32 channelId, uint128 maxClaimableAmount)
        internal
        view
        returns (bytes memory)
    {
        return _sign(key, settlement.getVoucherDigest(channelId, maxClaimableAmount));
    }

    /// One claim row: `key` signs a voucher for `maxClaimableAmount`, the receiver claims `totalClaimed` under it.
    function _row(
        IBatchSettlement.ChannelConfig memory config,
        uint256 key,
        uint128 maxClaimableAmount,
        uint128 totalClaimed
    ) internal view returns (IBatchSettlement.VoucherClaim memory) {
        bytes32 channelId = settlement.getChannelId(config);
        return IBatchSettlement.VoucherClaim({
            voucher: IBatchSettlement.Voucher({channel: config, maxClaimableAmount: maxClaimableAmount}),
            signature: _signVoucher(key, channelId, maxClaimableAmount),
            totalClaimed: totalClaimed
        });
    }

    function _one(IBatchSettlement.VoucherClaim memory row)
        internal
        pure
        returns (IBatchSettlement.VoucherClaim[] memory rows)
    {
        rows = new IBatchSettlement.VoucherClaim[](1);
        rows[0] = row;
    }

    /// `by` claims one row (built before the prank: building it calls the contract).
    function _claimBy(address by, IBatchSettlement.VoucherClaim memory row) internal {
        IBatchSettlement.VoucherClaim[] memory rows = _one(row);
        vm.prank(by);
        settlement.claim(rows);
    }

    function _signBatch(uint256 key, IBatchSettlement.VoucherClaim[] memory rows)
        internal
        view
        returns (bytes memory)
    {
        return _sign(key, settlement.getClaimBatchDigest(rows));
    }

    function _signRefund(uint256 key, bytes32 channelId, uint256 nonce, uint128 amount)
        internal
        view
        returns (bytes memory)
    {
        return _sign(key, settlement.getRefundDigest(channelId, nonce, amount));
    }

    /// `collectorData` for an ERC-3009 deposit of `amount` into the channel, signed by the payer's `key`, as the
    /// package's client builds it (ReceiveWithAuthorization to the collector, nonce bound to the channel).
    function _erc3009Data(
        IBatchSettlement.ChannelConfig memory config,
        uint256 key,
        uint256 amount,
        uint256 salt
    ) internal view returns (bytes memory) {
        return _erc3009DataFor(settlement.getChannelId(config), config.payer, key, amount, salt);
    }

    function _erc3009DataFor(bytes32 channelId, address payer, uint256 key, uint256 amount, uint256 salt)
        internal
        view
        returns (bytes memory)
    {
        uint256 validBefore = block.timestamp + VALID_FOR;
        bytes32 structHash = keccak256(
            abi.encode(
                usdc.RECEIVE_WITH_AUTHORIZATION_TYPEHASH(),
                payer,
                collector,
                amount,
                uint256(0),
                validBefore,
                keccak256(abi.encode(channelId, salt))
            )
        );
        bytes memory signature =
            _sign(key, keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash)));
        return abi.encode(uint256(0), validBefore, salt, signature);
    }

    /// Mints `amount` to the payer and deposits it through the ERC-3009 collector, relayed by `relayer`.
    function _depositVia3009(
        IBatchSettlement.ChannelConfig memory config,
        uint256 key,
        uint128 amount,
        uint256 salt,
        address relayer
    ) internal {
        _mint(config.payer, amount);
        bytes memory data = _erc3009Data(config, key, amount, salt);
        vm.prank(relayer);
        settlement.deposit(config, amount, collector, data);
    }

    /// Mints `amount` to `from`, which deposits it from its own balance (collector address(0)).
    function _depositDirect(IBatchSettlement.ChannelConfig memory config, address from, uint128 amount)
        internal
    {
        _mint(from, amount);
        vm.startPrank(from);
        usdc.approve(address(settlement), amount);
        settlement.deposit(config, amount, address(0), "");
        vm.stopPrank();
    }

    function _channel(IBatchSettlement.ChannelConfig memory config)
        internal
        view
        returns (uint128 balance, uint128 totalClaimed)
    {
        return settlement.channels(settlement.getChannelId(config));
    }
}
