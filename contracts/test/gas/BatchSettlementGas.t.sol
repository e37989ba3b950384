// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console} from "forge-std/Test.sol";
import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";

interface VmCool {
    function cool(address target) external;
}

/// Gas of the batch-settlement escrow in steady state: channels funded and claimed from before, the receiver's
/// totals written, every account and slot cold as at the start of a transaction. Each figure is printed as the
/// call's execution gas and as the whole transaction (21,000 + calldata at 4/16 gas per zero/non-zero byte +
/// execution), which is what a sender's gas limit must cover.
/// Run with `npx forge test --match-path contracts/test/gas/BatchSettlementGas.t.sol -vv` to print them.
contract BatchSettlementGasTest is BatchSettlementFixture {
    uint256 internal constant CHANNELS = 32;
    uint128 internal constant DEPOSIT = 100e6;
    uint128 internal constant PRICE = 10_000; // 0.01 USDC a call

    address internal treasury = makeAddr("treasury");
    address internal authorizer;
    uint256 internal authorizerKey;
    address internal relayer = makeAddr("relayer");
    IBatchSettlement.ChannelConfig[] internal configs;
    uint256[] internal keys;

    function setUp() public {
        vm.warp(1_700_000_000);
        _placeEscrow();
        (authorizer, authorizerKey) = makeAddrAndKey("authorizer");
        for (uint256 i; i < CHANNELS; ++i) {
            (address payer, uint256 key) = makeAddrAndKey(string(abi.encodePacked("payer", i)));
            IBatchSettlement.ChannelConfig memory c = _config(payer, payer, treasury, authorizer);
            _depositVia3009(c, key, DEPOSIT, 1, relayer);
            configs.push(c);
            keys.push(key);
        }
        // every channel claimed once and settled: the measured claims raise nonzero totals, as in steady state
        settlement.claimWithSignature(_rows(CHANNELS, 100), _signBatch(authorizerKey, _rows(CHANNELS, 100)));
        settlement.settle(treasury, address(usdc));
    }

    /// Rows for the first `n` channels, each claiming `calls` calls' worth in total.
    function _rows(uint256 n, uint128 calls)
        internal
        view
        returns (IBatchSettlement.VoucherClaim[] memory rows)
    {
        rows = new IBatchSettlement.VoucherClaim[](n);
        for (uint256 i; i < n; ++i) {
            rows[i] = _row(configs[i], keys[i], calls * PRICE, calls * PRICE);
        }
    }

    function _cool() internal {
        VmCool c = VmCool(address(vm));
        c.cool(address(settlement));
        c.cool(address(usdc));
        c.cool(collector);
        c.cool(treasury);
        c.cool(relayer);
        for (uint256 i; i < configs.length; ++i) {
            c.cool(configs[i].payer);
        }
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    /// Sends `data` to the escrow from `from`, with every account and slot cold, and prints and returns the
    /// transaction's gas. The calldata is encoded beforehand, so the figure holds only the escrow's execution.
    function _measure(string memory what, address from, bytes memory data)
        internal
        returns (uint256 transaction)
    {
        _cool();
        vm.prank(from);
        uint256 before = gasleft();
        (bool ok, bytes memory reason) = address(settlement).call(data);
        uint256 executed = before - gasleft();
        assertTrue(ok, string(reason));
        transaction = 21_000 + _calldataGas(data) + executed;
        console.log(what);
        console.log("    execution, transaction:", executed, transaction);
    }

    function _claimWithSignature(uint256 n) internal returns (uint256) {
        IBatchSettlement.VoucherClaim[] memory rows = _rows(n, 200);
        bytes memory signature = _signBatch(authorizerKey, rows);
        bytes memory data = abi.encodeCall(IBatchSettlement.claimWithSignature, (rows, signature));
        return _measure(string.concat("claimWithSignature, vouchers: ", vm.toString(n)), relayer, data);
    }

    function test_gas_claimWithSignature_1() public {
        _claimWithSignature(1);
    }

    function test_gas_claimWithSignature_8() public {
        _claimWithSignature(8);
    }

    function test_gas_claimWithSignature_32() public {
        uint256 transaction = _claimWithSignature(32);
        console.log("    per voucher:", transaction / 32);
    }

    /// The x402 facilitator signer sends every transaction with a fixed 500,000 gas limit: 20 vouchers fit, 32 do
    /// not (the runtime must estimate a claim's gas, or split the batch).
    function test_gas_claimWithSignature_fitsTheStockGasLimit() public {
        assertLt(_claimWithSignature(20), 500_000);
    }

    function test_gas_claim_32_byReceiverAuthorizer() public {
        IBatchSettlement.VoucherClaim[] memory rows = _rows(32, 200);
        _measure(
            "claim (receiver authorizer sends), vouchers: 32",
            authorizer,
            abi.encodeCall(IBatchSettlement.claim, (rows))
        );
    }

    function test_gas_settle() public {
        settlement.claimWithSignature(_rows(CHANNELS, 200), _signBatch(authorizerKey, _rows(CHANNELS, 200)));
        _measure(
            "settle (32 channels' claims, one transfer)",
            relayer,
            abi.encodeCall(IBatchSettlement.settle, (treasury, address(usdc)))
        );
    }

    function test_gas_deposit_erc3009_newChannel() public {
        (address payer, uint256 key) = makeAddrAndKey("newPayer");
        IBatchSettlement.ChannelConfig memory c = _config(payer, payer, treasury, authorizer);
        usdc.mint(payer, DEPOSIT);
        bytes memory collectorData = _erc3009Data(c, key, DEPOSIT, 1);
        configs.push(c); // cooled with the others
        _measure(
            "deposit via ERC-3009 collector, new channel",
            relayer,
            abi.encodeCall(IBatchSettlement.deposit, (c, DEPOSIT, collector, collectorData))
        );
    }

    function test_gas_deposit_erc3009_topUp() public {
        IBatchSettlement.ChannelConfig memory c = configs[0];
        usdc.mint(c.payer, DEPOSIT);
        bytes memory collectorData = _erc3009Data(c, keys[0], DEPOSIT, 2);
        _measure(
            "deposit via ERC-3009 collector, top-up",
            relayer,
            abi.encodeCall(IBatchSettlement.deposit, (c, DEPOSIT, collector, collectorData))
        );
    }

    function test_gas_refundWithSignature() public {
        IBatchSettlement.ChannelConfig memory c = configs[0];
        bytes32 id = settlement.getChannelId(c);
        bytes memory signature = _signRefund(authorizerKey, id, 0, DEPOSIT);
        _measure(
            "refundWithSignature (all that is unclaimed)",
            relayer,
            abi.encodeCall(IBatchSettlement.refundWithSignature, (c, DEPOSIT, 0, signature))
        );
    }

    function test_gas_withdraw() public {
        IBatchSettlement.ChannelConfig memory c = configs[0];
        _measure(
            "initiateWithdraw",
            c.payer,
            abi.encodeCall(IBatchSettlement.initiateWithdraw, (c, DEPOSIT - 100 * PRICE))
        );
        vm.warp(block.timestamp + DELAY);
        _measure("finalizeWithdraw", c.payer, abi.encodeCall(IBatchSettlement.finalizeWithdraw, (c)));
    }
}
