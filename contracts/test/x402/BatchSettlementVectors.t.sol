// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";
import {MockERC20} from "../mocks/MockERC20.sol";

/// What the `x402` package (2.25) computes and signs, accepted by the escrow at its canonical address on chain
/// 31337. The vectors were printed by the package's own functions:
///
///     payer = Account.from_key(0xA11CE), receiver_auth = Account.from_key(0xB0B), net = "eip155:31337"
///     cfg = ChannelConfig(payer=payer.address, payer_authorizer=payer.address, receiver=0x...dEaD,
///                         receiver_authorizer=receiver_auth.address, token=0x1111...1111,
///                         withdraw_delay=900, salt=0x...2a)
///     compute_channel_id(cfg, net)
///     sign_voucher(EthAccountSigner(payer), channel_id, 1_000_000, net)
///     sign_claim_batch(LocalAuthorizerSigner(receiver_auth),
///                      [VoucherClaim(cfg, "1000000", voucher_signature, "750000")], net)
///     sign_refund(LocalAuthorizerSigner(receiver_auth), channel_id, 5000, 3, net)
///     build_erc3009_deposit_nonce(channel_id, "0x" + "07" * 32)
contract BatchSettlementVectorsTest is BatchSettlementFixture {
    bytes32 internal constant CHANNEL_ID = 0x19cafb9beb7fe22980446c2318f5efad4fc1eaecb58820c0221c5946bb6b66ec;
    bytes internal constant VOUCHER_SIGNATURE =
        hex"e0531d53c8b2a10b7103e9e1f234b8d7a943734faf23bed239684c8e5ff24c5851c21d7ae8277f1004a64165c1d980cb4fbe97c854a331075cb2723e9f9d82cc1b";
    bytes internal constant CLAIM_BATCH_SIGNATURE =
        hex"bb5c4243b53494b74f69a59dcf2546180aa764081f6abe27234c605c3d247fea1772311cec22693a695a21ea287578ddb9ad81409484bb8cb0d312f46192beb71b";
    bytes internal constant REFUND_SIGNATURE =
        hex"f433037179a2e89bf8665720210f7cd068b64bcdd0841340998c5462a2dcb4b944da0e5967c37dc940f991b7cb447415232b7899df5cee8f2bd147e13d7148e71b";
    bytes32 internal constant ERC3009_NONCE =
        0xa219f92ceb33e9ca6cc2fd7376dab43f4ef9c31ebfca508591fb5b3e949247e0;
    address internal constant TOKEN = 0x1111111111111111111111111111111111111111;
    address internal constant RECEIVER = 0x000000000000000000000000000000000000dEaD;

    IBatchSettlement.ChannelConfig internal config;
    MockERC20 internal token = MockERC20(TOKEN);

    function setUp() public {
        _placeEscrow();
        assertEq(block.chainid, 31337);
        address payer = vm.addr(0xA11CE);
        assertEq(payer, 0xe05fcC23807536bEe418f142D19fa0d21BB0cfF7);
        assertEq(vm.addr(0xB0B), 0x0376AAc07Ad725E01357B1725B5ceC61aE10473c);
        config = IBatchSettlement.ChannelConfig({
            payer: payer,
            payerAuthorizer: payer,
            receiver: RECEIVER,
            receiverAuthorizer: vm.addr(0xB0B),
            token: TOKEN,
            withdrawDelay: 900,
            salt: bytes32(uint256(0x2a))
        });
        vm.etch(TOKEN, address(new MockERC20("Vector USD", "VUSD", 6)).code);
    }

    function test_ChannelIdMatchesThePackage() public view {
        assertEq(settlement.getChannelId(config), CHANNEL_ID);
    }

    function test_Erc3009NonceMatchesThePackage() public pure {
        assertEq(
            keccak256(
                abi.encode(
                    CHANNEL_ID, uint256(0x0707070707070707070707070707070707070707070707070707070707070707)
                )
            ),
            ERC3009_NONCE
        );
    }

    /// The package's voucher and claim-batch signatures claim; its refund signature refunds at nonce 3.
    function test_PackageSignaturesAreAccepted() public {
        token.mint(address(this), 1_000_000);
        token.approve(address(settlement), 1_000_000);
        settlement.deposit(config, 1_000_000, address(0), "");

        IBatchSettlement.VoucherClaim[] memory rows = new IBatchSettlement.VoucherClaim[](1);
        rows[0] = IBatchSettlement.VoucherClaim({
            voucher: IBatchSettlement.Voucher({channel: config, maxClaimableAmount: 1_000_000}),
            signature: VOUCHER_SIGNATURE,
            totalClaimed: 750_000
        });
        settlement.claimWithSignature(rows, CLAIM_BATCH_SIGNATURE);
        (uint128 balance, uint128 claimed) = settlement.channels(CHANNEL_ID);
        assertEq(balance, 1_000_000);
        assertEq(claimed, 750_000);

        vm.startPrank(RECEIVER);
        for (uint256 i; i < 3; ++i) {
            settlement.refund(config, 1);
        }
        vm.stopPrank();
        settlement.refundWithSignature(config, 5000, 3, REFUND_SIGNATURE);
        assertEq(token.balanceOf(config.payer), 5003);
        settlement.settle(RECEIVER, TOKEN);
        assertEq(token.balanceOf(RECEIVER), 750_000);
    }
}
