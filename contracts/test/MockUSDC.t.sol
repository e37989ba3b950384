// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MockUSDC} from "../src/MockUSDC.sol";

/// A smart-contract wallet that accepts whatever its owner key signs (ERC-1271).
contract OwnedWallet is IERC1271 {
    address internal immutable _owner;

    constructor(address owner_) {
        _owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        (address signer,,) = ECDSA.tryRecover(hash, signature);
        return signer == _owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

contract MockUSDCTest is Test {
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);
    event Transfer(address indexed from, address indexed to, uint256 value);

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    MockUSDC internal usdc;
    address internal alice;
    uint256 internal aliceKey;
    address internal bob = makeAddr("bob");
    address internal relayer = makeAddr("relayer");

    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal validAfter = T0 - 1;
    uint256 internal validBefore = T0 + 3600;
    bytes32 internal nonce = keccak256("nonce-1");

    function setUp() public {
        vm.warp(T0);
        (alice, aliceKey) = makeAddrAndKey("alice");
        usdc = new MockUSDC();
        usdc.mint(alice, 1_000e6);
    }

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash));
    }

    function _authDigest(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 after_,
        uint256 before_,
        bytes32 n
    ) internal view returns (bytes32) {
        return _digest(keccak256(abi.encode(typehash, from, to, value, after_, before_, n)));
    }

    function _signTransfer(uint256 key, address from, address to, uint256 value)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 th = usdc.TRANSFER_WITH_AUTHORIZATION_TYPEHASH();
        return vm.sign(key, _authDigest(th, from, to, value, validAfter, validBefore, nonce));
    }

    function _signReceive(uint256 key, address from, address to, uint256 value)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 th = usdc.RECEIVE_WITH_AUTHORIZATION_TYPEHASH();
        return vm.sign(key, _authDigest(th, from, to, value, validAfter, validBefore, nonce));
    }

    function _signCancel(uint256 key, address authorizer, bytes32 n)
        internal
        view
        returns (uint8, bytes32, bytes32)
    {
        return
            vm.sign(key, _digest(keccak256(abi.encode(usdc.CANCEL_AUTHORIZATION_TYPEHASH(), authorizer, n))));
    }

    // ---------------------------------------------------------------- metadata

    function test_metadata() public view {
        assertEq(usdc.name(), "USD Coin");
        assertEq(usdc.symbol(), "USDC");
        assertEq(usdc.decimals(), 6);
        assertEq(usdc.version(), "1");
        assertEq(usdc.owner(), address(this));
    }

    function test_domainSeparator_matchesUSDC() public view {
        bytes32 expected = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("USD Coin"), keccak256("1"), block.chainid, address(usdc))
        );
        assertEq(usdc.DOMAIN_SEPARATOR(), expected);
    }

    function test_typehashes_matchEIP3009() public view {
        assertEq(
            usdc.TRANSFER_WITH_AUTHORIZATION_TYPEHASH(),
            0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267
        );
        assertEq(
            usdc.RECEIVE_WITH_AUTHORIZATION_TYPEHASH(),
            0xd099cc98ef71107a616c4f0f941f04c322d8e254fe26b3c6668db87aae413de8
        );
        assertEq(
            usdc.CANCEL_AUTHORIZATION_TYPEHASH(),
            0x158b0a9edf7a828aad02f63cd515c68ef2f50ba807396f6d12842833a1597429
        );
    }

    /// The x402 facilitator calls USDC's exact selector (0xe3ee160e) for 65-byte signatures.
    function test_transferWithAuthorization_usdcSelector() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1e6);
        (bool ok,) = address(usdc)
            .call(
                abi.encodeWithSelector(
                    bytes4(0xe3ee160e), alice, bob, 1e6, validAfter, validBefore, nonce, v, r, s
                )
            );
        assertTrue(ok);
        assertEq(usdc.balanceOf(bob), 1e6);
        (ok,) = address(usdc).call(abi.encodeWithSelector(bytes4(0xe94a0102), alice, nonce)); // authorizationState
        assertTrue(ok);
    }

    // ---------------------------------------------------------------- mint

    function test_mint() public {
        usdc.mint(bob, 5e6);
        assertEq(usdc.balanceOf(bob), 5e6);
        assertEq(usdc.totalSupply(), 1_005e6);
    }

    function test_mint_revertsForNonOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        vm.prank(bob);
        usdc.mint(bob, 1);
    }

    function testFuzz_mint(address to, uint256 amount) public {
        vm.assume(to != address(0) && to != alice);
        amount = bound(amount, 0, type(uint128).max);
        usdc.mint(to, amount);
        assertEq(usdc.balanceOf(to), amount);
    }

    // ---------------------------------------------------------------- permit

    function test_permit() public {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, alice, bob, 1e6, 0, block.timestamp));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _digest(structHash));
        usdc.permit(alice, bob, 1e6, block.timestamp, v, r, s);
        assertEq(usdc.allowance(alice, bob), 1e6);
        assertEq(usdc.nonces(alice), 1);
    }

    // ---------------------------------------------------------------- transferWithAuthorization (v, r, s)

    function test_transferWithAuthorization() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 100e6);
        vm.expectEmit(address(usdc));
        emit AuthorizationUsed(alice, nonce);
        vm.expectEmit(address(usdc));
        emit Transfer(alice, bob, 100e6);
        vm.prank(relayer);
        usdc.transferWithAuthorization(alice, bob, 100e6, validAfter, validBefore, nonce, v, r, s);
        assertEq(usdc.balanceOf(bob), 100e6);
        assertEq(usdc.balanceOf(alice), 900e6);
        assertTrue(usdc.authorizationState(alice, nonce));
    }

    function test_transferWithAuthorization_revertsWhenNotYetValid() public {
        validAfter = T0; // USDC requires block.timestamp > validAfter
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationNotYetValid.selector, T0));
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_transferWithAuthorization_revertsWhenExpired() public {
        validBefore = T0; // USDC requires block.timestamp < validBefore
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationExpired.selector, T0));
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_transferWithAuthorization_revertsOnReplay() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1);
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationUsed.selector, alice, nonce));
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_transferWithAuthorization_revertsOnWrongSigner() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(uint256(keccak256("mallory")), alice, bob, 1);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_transferWithAuthorization_revertsOnAlteredValue() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        usdc.transferWithAuthorization(alice, bob, 2, validAfter, validBefore, nonce, v, r, s);
    }

    function test_transferWithAuthorization_revertsOnReceiveTypehash() public {
        (uint8 v, bytes32 r, bytes32 s) = _signReceive(aliceKey, alice, bob, 1);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function testFuzz_transferWithAuthorization(uint256 key, address to, uint256 value, bytes32 n) public {
        key = bound(key, 1, 2 ** 128);
        address from = vm.addr(key);
        vm.assume(to != address(0) && to != from);
        value = bound(value, 0, 1e18);
        usdc.mint(from, value);
        nonce = n;
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(key, from, to, value);
        usdc.transferWithAuthorization(from, to, value, validAfter, validBefore, n, v, r, s);
        assertEq(usdc.balanceOf(to), value);
        assertTrue(usdc.authorizationState(from, n));
    }

    // ---------------------------------------------------------------- transferWithAuthorization (bytes)

    function test_transferWithAuthorization_bytes() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 100e6);
        usdc.transferWithAuthorization(
            alice, bob, 100e6, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
        assertEq(usdc.balanceOf(bob), 100e6);
        assertTrue(usdc.authorizationState(alice, nonce));
    }

    function test_transferWithAuthorization_bytes_erc1271Wallet() public {
        OwnedWallet wallet = new OwnedWallet(alice);
        usdc.mint(address(wallet), 10e6);
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, address(wallet), bob, 10e6);
        usdc.transferWithAuthorization(
            address(wallet), bob, 10e6, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
        assertEq(usdc.balanceOf(bob), 10e6);
        assertTrue(usdc.authorizationState(address(wallet), nonce));
    }

    function test_transferWithAuthorization_bytes_revertsOnBadWalletSignature() public {
        OwnedWallet wallet = new OwnedWallet(alice);
        usdc.mint(address(wallet), 10e6);
        (uint8 v, bytes32 r, bytes32 s) =
            _signTransfer(uint256(keccak256("mallory")), address(wallet), bob, 10e6);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        usdc.transferWithAuthorization(
            address(wallet), bob, 10e6, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
    }

    function test_transferWithAuthorization_bytes_revertsOnMalformedSignature() public {
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, hex"1234");
    }

    function test_transferWithAuthorization_bytes_revertsWhenExpired() public {
        validBefore = T0;
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationExpired.selector, T0));
        usdc.transferWithAuthorization(
            alice, bob, 1, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
    }

    // ---------------------------------------------------------------- receiveWithAuthorization

    function test_receiveWithAuthorization() public {
        (uint8 v, bytes32 r, bytes32 s) = _signReceive(aliceKey, alice, bob, 100e6);
        vm.expectEmit(address(usdc));
        emit AuthorizationUsed(alice, nonce);
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, 100e6, validAfter, validBefore, nonce, v, r, s);
        assertEq(usdc.balanceOf(bob), 100e6);
        assertTrue(usdc.authorizationState(alice, nonce));
    }

    function test_receiveWithAuthorization_revertsForOtherCaller() public {
        (uint8 v, bytes32 r, bytes32 s) = _signReceive(aliceKey, alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCCallerNotPayee.selector, relayer, bob));
        vm.prank(relayer);
        usdc.receiveWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_receiveWithAuthorization_revertsOnTransferTypehash() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_receiveWithAuthorization_revertsWhenNotYetValid() public {
        validAfter = T0;
        (uint8 v, bytes32 r, bytes32 s) = _signReceive(aliceKey, alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationNotYetValid.selector, T0));
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_receiveWithAuthorization_bytes() public {
        (uint8 v, bytes32 r, bytes32 s) = _signReceive(aliceKey, alice, bob, 100e6);
        vm.prank(bob);
        usdc.receiveWithAuthorization(
            alice, bob, 100e6, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
        assertEq(usdc.balanceOf(bob), 100e6);
    }

    function test_receiveWithAuthorization_bytes_revertsForOtherCaller() public {
        (uint8 v, bytes32 r, bytes32 s) = _signReceive(aliceKey, alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCCallerNotPayee.selector, relayer, bob));
        vm.prank(relayer);
        usdc.receiveWithAuthorization(
            alice, bob, 1, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
    }

    function test_receiveWithAuthorization_bytes_revertsOnReplay() public {
        (uint8 v, bytes32 r, bytes32 s) = _signReceive(aliceKey, alice, bob, 1);
        vm.startPrank(bob);
        usdc.receiveWithAuthorization(
            alice, bob, 1, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationUsed.selector, alice, nonce));
        usdc.receiveWithAuthorization(
            alice, bob, 1, validAfter, validBefore, nonce, abi.encodePacked(r, s, v)
        );
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- cancelAuthorization

    function test_cancelAuthorization() public {
        (uint8 v, bytes32 r, bytes32 s) = _signCancel(aliceKey, alice, nonce);
        vm.expectEmit(address(usdc));
        emit AuthorizationCanceled(alice, nonce);
        vm.prank(relayer);
        usdc.cancelAuthorization(alice, nonce, v, r, s);
        assertTrue(usdc.authorizationState(alice, nonce));

        (v, r, s) = _signTransfer(aliceKey, alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationUsed.selector, alice, nonce));
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
    }

    function test_cancelAuthorization_revertsWhenUsed() public {
        (uint8 v, bytes32 r, bytes32 s) = _signTransfer(aliceKey, alice, bob, 1);
        usdc.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, nonce, v, r, s);
        (v, r, s) = _signCancel(aliceKey, alice, nonce);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.MockUSDCAuthorizationUsed.selector, alice, nonce));
        usdc.cancelAuthorization(alice, nonce, v, r, s);
    }

    function test_cancelAuthorization_revertsOnWrongSigner() public {
        (uint8 v, bytes32 r, bytes32 s) = _signCancel(uint256(keccak256("mallory")), alice, nonce);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        usdc.cancelAuthorization(alice, nonce, v, r, s);
    }

    function test_cancelAuthorization_bytes() public {
        (uint8 v, bytes32 r, bytes32 s) = _signCancel(aliceKey, alice, nonce);
        usdc.cancelAuthorization(alice, nonce, abi.encodePacked(r, s, v));
        assertTrue(usdc.authorizationState(alice, nonce));
    }

    function test_cancelAuthorization_bytes_erc1271Wallet() public {
        OwnedWallet wallet = new OwnedWallet(alice);
        (uint8 v, bytes32 r, bytes32 s) = _signCancel(aliceKey, address(wallet), nonce);
        usdc.cancelAuthorization(address(wallet), nonce, abi.encodePacked(r, s, v));
        assertTrue(usdc.authorizationState(address(wallet), nonce));
    }

    function test_cancelAuthorization_bytes_revertsOnWrongSigner() public {
        (uint8 v, bytes32 r, bytes32 s) = _signCancel(uint256(keccak256("mallory")), alice, nonce);
        vm.expectRevert(MockUSDC.MockUSDCInvalidSignature.selector);
        usdc.cancelAuthorization(alice, nonce, abi.encodePacked(r, s, v));
    }

    // ---------------------------------------------------------------- authorizationState

    function testFuzz_authorizationState_unusedByDefault(address authorizer, bytes32 n) public view {
        assertFalse(usdc.authorizationState(authorizer, n));
    }
}
