// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IBatchSettlement} from "./IBatchSettlement.sol";

/// @title BatchSettlementEIP712
/// @notice The typed data of the x402 batch-settlement scheme: the domain ("x402 Batch Settlement", version "1",
/// this chain, this contract) and the ChannelConfig, Voucher, Refund and ClaimBatch hashes, exactly as the `x402`
/// package signs them (constants.py).
/// @dev The domain separator is computed from `block.chainid` and `address(this)` on every call instead of being
/// cached in immutables, as OpenZeppelin's EIP712 does: the embedded chain places this contract's runtime code at
/// the scheme's canonical address with `anvil_setCode`, where no constructor runs, so the contract can hold no
/// immutable and no constructor-written state. Every external entry point computes it once.
abstract contract BatchSettlementEIP712 is IERC5267 {
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("x402 Batch Settlement");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @notice keccak256 of the ChannelConfig type; `channelId` is the typed-data hash of a config.
    bytes32 public constant CHANNEL_CONFIG_TYPEHASH = keccak256(
        "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,"
        "address token,uint40 withdrawDelay,bytes32 salt)"
    );
    /// @notice keccak256 of the Voucher type the payer side signs.
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(bytes32 channelId,uint128 maxClaimableAmount)");
    /// @notice keccak256 of the Refund type the receiver authorizer signs.
    bytes32 public constant REFUND_TYPEHASH =
        keccak256("Refund(bytes32 channelId,uint256 nonce,uint128 amount)");
    /// @notice keccak256 of the ClaimBatch type (with its ClaimEntry member) the receiver authorizer signs.
    bytes32 public constant CLAIM_BATCH_TYPEHASH = keccak256(
        "ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"
    );
    /// @notice keccak256 of the ClaimEntry type, one row of a ClaimBatch.
    bytes32 public constant CLAIM_ENTRY_TYPEHASH =
        keccak256("ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)");

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (
            hex"0f", "x402 Batch Settlement", "1", block.chainid, address(this), bytes32(0), new uint256[](0)
        );
    }

    /// @notice The EIP-712 domain separator on this chain at this address.
    // forge-lint: disable-next-line(mixed-case-function)
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    function _domainSeparator() internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev The typed-data hash of a config read straight from calldata (abi.encode would copy and re-check it
    /// field by field: about 400 gas more a row in a claim batch). Like the ABI decoder, refuses a config whose
    /// addresses or delay have dirty upper bits, so one config has one id.
    function _channelId(bytes32 domain, IBatchSettlement.ChannelConfig calldata config)
        internal
        pure
        returns (bytes32 id)
    {
        bytes32 typehash = CHANNEL_CONFIG_TYPEHASH;
        assembly ("memory-safe") {
            let dirty := shr(40, calldataload(add(config, 0xa0)))
            for { let i := 0 } lt(i, 0xa0) { i := add(i, 0x20) } {
                dirty := or(dirty, shr(160, calldataload(add(config, i))))
            }
            if dirty { revert(0, 0) }
            let ptr := mload(0x40)
            mstore(ptr, typehash)
            calldatacopy(add(ptr, 0x20), config, 0xe0)
            let structHash := keccak256(ptr, 0x100)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domain)
            mstore(add(ptr, 0x22), structHash)
            id := keccak256(ptr, 0x42)
        }
    }

    function _voucherDigest(bytes32 domain, bytes32 channelId, uint128 maxClaimableAmount)
        internal
        pure
        returns (bytes32)
    {
        return
            _typedDataHash(domain, _hash(VOUCHER_TYPEHASH, channelId, bytes32(uint256(maxClaimableAmount))));
    }

    function _refundDigest(bytes32 domain, bytes32 channelId, uint256 nonce, uint128 amount)
        internal
        pure
        returns (bytes32)
    {
        return _typedDataHash(
            domain, _hash(REFUND_TYPEHASH, channelId, bytes32(nonce), bytes32(uint256(amount)))
        );
    }

    /// @dev The hash of one ClaimEntry: one row of a claim batch.
    function _claimEntryHash(bytes32 channelId, uint128 maxClaimableAmount, uint128 totalClaimed)
        internal
        pure
        returns (bytes32)
    {
        return _hash(
            CLAIM_ENTRY_TYPEHASH,
            channelId,
            bytes32(uint256(maxClaimableAmount)),
            bytes32(uint256(totalClaimed))
        );
    }

    /// @dev The digest of a ClaimBatch whose rows hash to `entryHashes`: an EIP-712 array member is the hash of
    /// its elements' hashes, concatenated.
    function _claimBatchDigest(bytes32 domain, bytes32[] memory entryHashes) internal pure returns (bytes32) {
        return _typedDataHash(
            domain, keccak256(abi.encode(CLAIM_BATCH_TYPEHASH, keccak256(abi.encodePacked(entryHashes))))
        );
    }

    function _typedDataHash(bytes32 domain, bytes32 structHash) private pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domain, structHash);
    }

    // keccak256(abi.encode(a, b, c)) and (a, b, c, d) in scratch memory: abi.encode would allocate per call,
    // which a claim batch does several times a row
    function _hash(bytes32 a, bytes32 b, bytes32 c) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, a)
            mstore(add(ptr, 0x20), b)
            mstore(add(ptr, 0x40), c)
            result := keccak256(ptr, 0x60)
        }
    }

    function _hash(bytes32 a, bytes32 b, bytes32 c, bytes32 d) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, a)
            mstore(add(ptr, 0x20), b)
            mstore(add(ptr, 0x40), c)
            mstore(add(ptr, 0x60), d)
            result := keccak256(ptr, 0x80)
        }
    }
}
