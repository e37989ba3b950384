// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {AgentTreasury} from "../../../src/AgentTreasury.sol";
import {BlocklistToken} from "../../mocks/BlocklistToken.sol";

/// @notice An operator the payment token blocks and unblocks at random. It withdraws to itself (which
/// fails while blocked) or to another address of its own; anyone keeps calling `distribute`, which must
/// never fail because of it.
contract BlocklistedOperatorHandler is Test {
    AgentTreasury internal treasury;
    BlocklistToken internal busd;
    address internal payee = makeAddr("operator payee");

    uint256 public ghostDistributed; // sum of distribute() return values from here
    uint256 public ghostDistributeReverted; // distribute calls that reverted (must stay 0)
    uint256 public ghostDistributionsWhileBlocked; // distributions that found income while the operator was blocked
    uint256 public ghostWithdrawn; // operator share paid out
    uint256 public ghostWithdrawals; // withdrawals that paid something
    uint256 public ghostUnexpectedWithdrawFailure; // a withdrawal to an unblocked address failed (must stay 0)

    constructor(AgentTreasury treasury_, BlocklistToken busd_) {
        treasury = treasury_;
        busd = busd_;
    }

    /// The token blocks or unblocks the operator, which then withdraws what it can to its other address.
    function setBlocked(bool blocked) external {
        busd.setBlocked(treasury.operator(), blocked);
        _withdraw(false);
    }

    function distribute() external {
        bool blocked = busd.blocked(treasury.operator());
        try treasury.distribute() returns (uint256 income) {
            ghostDistributed += income;
            if (blocked && income != 0) ++ghostDistributionsWhileBlocked;
        } catch {
            ++ghostDistributeReverted;
        }
    }

    function withdraw(bool toSelf) external {
        _withdraw(toSelf);
    }

    function _withdraw(bool toSelf) private {
        address operator = treasury.operator();
        address to = toSelf ? operator : payee;
        vm.prank(operator);
        try treasury.withdrawOperatorShare(to) returns (uint256 amount) {
            ghostWithdrawn += amount;
            if (amount != 0) ++ghostWithdrawals;
        } catch {
            if (!busd.blocked(to)) ++ghostUnexpectedWithdrawFailure;
        }
    }
}
