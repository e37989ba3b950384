// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {AgentToken} from "../src/AgentToken.sol";

contract AgentTokenTest is Test {
    event Transfer(address indexed from, address indexed to, uint256 value);

    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    AgentToken internal token;
    address internal alice;
    uint256 internal aliceKey;
    address internal bob = makeAddr("bob");

    function setUp() public {
        (alice, aliceKey) = makeAddrAndKey("alice");
        token = new AgentToken("Agent", "AGT", _pair(alice, bob), _amounts(600e18, 400e18));
    }

    function _pair(address a, address b) internal pure returns (address[] memory holders) {
        holders = new address[](2);
        (holders[0], holders[1]) = (a, b);
    }

    function _amounts(uint256 a, uint256 b) internal pure returns (uint256[] memory amounts) {
        amounts = new uint256[](2);
        (amounts[0], amounts[1]) = (a, b);
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_mintsAllocations() public view {
        assertEq(token.name(), "Agent");
        assertEq(token.symbol(), "AGT");
        assertEq(token.decimals(), 18);
        assertEq(token.totalSupply(), 1_000e18);
        assertEq(token.balanceOf(alice), 600e18);
        assertEq(token.balanceOf(bob), 400e18);
    }

    function test_constructor_emitsTransfers() public {
        vm.expectEmit();
        emit Transfer(address(0), alice, 1);
        vm.expectEmit();
        emit Transfer(address(0), bob, 2);
        new AgentToken("A", "A", _pair(alice, bob), _amounts(1, 2));
    }

    function test_constructor_allowsRepeatedHolder() public {
        AgentToken t = new AgentToken("A", "A", _pair(alice, alice), _amounts(1, 2));
        assertEq(t.balanceOf(alice), 3);
    }

    function test_constructor_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(AgentToken.AgentTokenLengthMismatch.selector, 2, 1));
        new AgentToken("A", "A", _pair(alice, bob), new uint256[](1));
    }

    function test_constructor_revertsOnEmptyAllocation() public {
        vm.expectRevert(AgentToken.AgentTokenEmptyAllocation.selector);
        new AgentToken("A", "A", new address[](0), new uint256[](0));
    }

    function test_constructor_revertsOnZeroHolder() public {
        vm.expectRevert(abi.encodeWithSelector(AgentToken.AgentTokenZeroHolder.selector, 1));
        new AgentToken("A", "A", _pair(alice, address(0)), _amounts(1, 1));
    }

    function test_constructor_revertsOnZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(AgentToken.AgentTokenZeroAmount.selector, 0));
        new AgentToken("A", "A", _pair(alice, bob), _amounts(0, 1));
    }

    function testFuzz_constructor(address a, address b, uint256 x, uint256 y) public {
        vm.assume(a != address(0) && b != address(0) && a != b);
        x = bound(x, 1, type(uint128).max);
        y = bound(y, 1, type(uint128).max);
        AgentToken t = new AgentToken("A", "A", _pair(a, b), _amounts(x, y));
        assertEq(t.totalSupply(), x + y);
        assertEq(t.balanceOf(a), x);
        assertEq(t.balanceOf(b), y);
    }

    // ---------------------------------------------------------------- ERC20

    function test_transfer() public {
        vm.prank(alice);
        assertTrue(token.transfer(bob, 100e18));
        assertEq(token.balanceOf(alice), 500e18);
        assertEq(token.balanceOf(bob), 500e18);
        assertEq(token.totalSupply(), 1_000e18);
    }

    function test_transferFrom() public {
        vm.prank(alice);
        token.approve(bob, 10e18);
        vm.prank(bob);
        assertTrue(token.transferFrom(alice, bob, 10e18));
        assertEq(token.allowance(alice, bob), 0);
        assertEq(token.balanceOf(bob), 410e18);
    }

    function testFuzz_transfer(address to, uint256 amount) public {
        vm.assume(to != address(0) && to != alice);
        amount = bound(amount, 0, 600e18);
        vm.prank(alice);
        assertTrue(token.transfer(to, amount));
        assertEq(token.balanceOf(alice), 600e18 - amount);
        assertEq(token.totalSupply(), 1_000e18);
    }

    // ---------------------------------------------------------------- burn

    function test_burn() public {
        vm.prank(alice);
        token.burn(100e18);
        assertEq(token.balanceOf(alice), 500e18);
        assertEq(token.totalSupply(), 900e18);
    }

    function test_burn_revertsBeyondBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, bob, 400e18, 400e18 + 1)
        );
        vm.prank(bob);
        token.burn(400e18 + 1);
    }

    function test_burnFrom() public {
        vm.prank(alice);
        token.approve(bob, 50e18);
        vm.prank(bob);
        token.burnFrom(alice, 50e18);
        assertEq(token.balanceOf(alice), 550e18);
        assertEq(token.totalSupply(), 950e18);
    }

    function test_burnFrom_revertsWithoutAllowance() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, bob, 0, 1));
        vm.prank(bob);
        token.burnFrom(alice, 1);
    }

    function testFuzz_burn(uint256 amount) public {
        amount = bound(amount, 0, 600e18);
        vm.prank(alice);
        token.burn(amount);
        assertEq(token.totalSupply(), 1_000e18 - amount);
    }

    // ---------------------------------------------------------------- permit

    function _permitDigest(address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }

    function test_permit() public {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(aliceKey, _permitDigest(alice, bob, 1e18, 0, block.timestamp));
        token.permit(alice, bob, 1e18, block.timestamp, v, r, s);
        assertEq(token.allowance(alice, bob), 1e18);
        assertEq(token.nonces(alice), 1);
    }

    function test_permit_revertsOnReplay() public {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(aliceKey, _permitDigest(alice, bob, 1e18, 0, block.timestamp));
        token.permit(alice, bob, 1e18, block.timestamp, v, r, s);
        vm.expectRevert();
        token.permit(alice, bob, 1e18, block.timestamp, v, r, s);
    }

    function test_permit_revertsWhenExpired() public {
        uint256 deadline = block.timestamp;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _permitDigest(alice, bob, 1e18, 0, deadline));
        vm.warp(deadline + 1);
        vm.expectRevert();
        token.permit(alice, bob, 1e18, deadline, v, r, s);
    }

    function testFuzz_permit(uint256 key, address spender, uint256 value) public {
        key = bound(key, 1, 2 ** 128);
        address owner = vm.addr(key);
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, _permitDigest(owner, spender, value, 0, block.timestamp));
        token.permit(owner, spender, value, block.timestamp, v, r, s);
        assertEq(token.allowance(owner, spender), value);
    }
}
