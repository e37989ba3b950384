// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchSettlement} from "../../src/x402/IBatchSettlement.sol";
import {BatchSettlementFixture} from "../utils/BatchSettlementFixture.sol";
import {ChannelHandler} from "./handlers/ChannelHandler.sol";
import {EscrowAttackerHandler} from "./handlers/EscrowAttackerHandler.sol";

/// The batch-settlement escrow at its canonical address, between honest payers and agents and everyone trying to
/// take more: nobody is paid more than the vouchers signed, a payer always recovers what was not claimed, and the
/// escrow holds exactly the channels' balances not yet paid out.
/// Unlike the repo's default, a handler call that reverts fails the run: the honest side never expects a
/// revert and the adversary catches its own, so a revert is a broken promise the invariants would not see.
/// forge-config: default.invariant.fail-on-revert = true
contract BatchSettlementInvariantTest is BatchSettlementFixture {
    ChannelHandler internal world;
    EscrowAttackerHandler internal attacker;

    function setUp() public {
        vm.warp(1_700_000_000);
        _placeEscrow();
        world = new ChannelHandler(usdc);
        attacker = new EscrowAttackerHandler(world, usdc);
        targetContract(address(world));
        targetContract(address(attacker));
    }

    /// Each channel's claimed total is at most the highest voucher its payer side signed (and what it holds);
    /// each receiver's claimed total is the sum of its channels'; it was paid exactly what it settled, and
    /// never more than it claimed.
    function invariant_NobodyIsPaidMoreThanTheVouchersSigned() public view {
        address[] memory receivers = world.receivers();
        uint256[] memory claimedBy = new uint256[](receivers.length);
        for (uint256 i; i < world.channelCount(); ++i) {
            IBatchSettlement.ChannelConfig memory c = world.configOf(i);
            (uint128 balance, uint128 claimed) = settlement.channels(settlement.getChannelId(c));
            assertLe(claimed, world.signedCeiling(i), "claimed above the highest signed voucher");
            assertLe(claimed, balance, "claimed above the channel's balance");
            for (uint256 r; r < receivers.length; ++r) {
                if (c.receiver == receivers[r]) claimedBy[r] += claimed;
            }
        }
        for (uint256 r; r < receivers.length; ++r) {
            (uint128 claimed, uint128 settled) = settlement.receivers(receivers[r], address(usdc));
            assertEq(claimed, claimedBy[r], "a receiver's total is its channels' claims");
            assertLe(settled, claimed);
            assertEq(usdc.balanceOf(receivers[r]), settled, "a receiver holds exactly what was settled to it");
            assertEq(world.settledTo(receivers[r]), settled);
        }
    }

    /// The escrow's token balance is the channels' balances minus what settle paid out; the collector holds
    /// nothing; every channel took in what it holds plus what it gave back to its payer.
    function invariant_EscrowHoldsTheUnpaidChannelBalances() public view {
        uint256 books;
        for (uint256 i; i < world.channelCount(); ++i) {
            (uint128 balance,) = settlement.channels(settlement.getChannelId(world.configOf(i)));
            books += balance;
            assertEq(
                world.deposited(i), balance + world.returned(i), "a channel's deposits are held or returned"
            );
        }
        address[] memory receivers = world.receivers();
        for (uint256 r; r < receivers.length; ++r) {
            (, uint128 settled) = settlement.receivers(receivers[r], address(usdc));
            books -= settled;
        }
        assertEq(usdc.balanceOf(address(settlement)), books);
        assertEq(usdc.balanceOf(collector), 0);
    }

    /// Whatever state the run reached, each payer, alone, gets back every unit nobody claimed: it finalizes the
    /// pending withdrawal (if any) once due, then withdraws the rest after the delay. (Tried on a snapshot.)
    function invariant_PayerAlwaysRecoversTheUnclaimed() public {
        uint256 snapshot = vm.snapshotState();
        for (uint256 i; i < world.channelCount(); ++i) {
            IBatchSettlement.ChannelConfig memory c = world.configOf(i);
            bytes32 id = settlement.getChannelId(c);
            (uint128 balance, uint128 claimed) = settlement.channels(id);
            uint256 before = usdc.balanceOf(c.payer);
            (, uint40 initiatedAt) = settlement.pendingWithdrawals(id);
            if (initiatedAt != 0) {
                vm.warp(_max(block.timestamp, uint256(initiatedAt) + c.withdrawDelay));
                vm.prank(c.payer);
                settlement.finalizeWithdraw(c);
            }
            (uint128 rest, uint128 stillClaimed) = settlement.channels(id);
            if (rest > stillClaimed) {
                vm.prank(c.payer);
                settlement.initiateWithdraw(c, rest - stillClaimed);
                vm.warp(block.timestamp + c.withdrawDelay);
                vm.prank(c.payer);
                settlement.finalizeWithdraw(c);
            }
            assertEq(
                usdc.balanceOf(c.payer) - before, balance - claimed, "the payer recovered all it was owed"
            );
            (rest, stillClaimed) = settlement.channels(id);
            assertEq(rest, stillClaimed, "nothing unclaimed is left behind");
        }
        vm.revertToState(snapshot);
    }

    /// No attack got through; no refund returned other than min(asked, unclaimed); no withdrawal beat its delay.
    function invariant_NoAttackSucceeds() public view {
        assertEq(attacker.ghostBreaches(), 0);
        assertEq(world.ghostWrongRefunds(), 0);
        assertEq(world.ghostEarlyWithdrawals(), 0);
    }

    /// The runs did what they claim to test: deposits by ERC-3009, claims, settlements, money back to payers,
    /// attacks. A run whose random walk missed one (attacks take half the calls) ends with it: a deposit, a call
    /// served and claimed, a settlement, a refund, an attack; and the invariants are checked again after it.
    function afterInvariant() external {
        if (world.ghostDeposits3009() == 0 || world.ghostClaims() == 0) {
            world.deposit(0, 10e6, true);
            world.serve(0, 10);
            world.claimAll();
        }
        if (world.ghostSettlements() == 0) {
            world.settle(0);
            world.settle(1);
        }
        if (world.ghostRefunds() + world.ghostWithdrawals() == 0) {
            world.deposit(0, 1e6, false);
            world.refund(0, 1, false);
        }
        if (attacker.ghostAttempts() == 0) attacker.strangerMovesEscrow(0, 1, 0);
        assertGt(world.ghostDeposits3009(), 0, "no ERC-3009 deposit");
        assertGt(world.ghostClaims(), 0, "no claim");
        assertGt(world.ghostSettlements(), 0, "no settlement paid");
        assertGt(world.ghostRefunds() + world.ghostWithdrawals(), 0, "nothing returned to a payer");
        assertGt(attacker.ghostAttempts(), 0, "no attack attempted");
        invariant_NobodyIsPaidMoreThanTheVouchersSigned();
        invariant_EscrowHoldsTheUnpaidChannelBalances();
        invariant_PayerAlwaysRecoversTheUnclaimed();
        invariant_NoAttackSucceeds();
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }
}
