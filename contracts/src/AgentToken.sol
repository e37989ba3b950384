// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title AgentToken
/// @notice An agent's fixed-supply token, minted once at launch to its allocations. Holders stake it in
/// AgentStake to vote and earn; the token itself has no vote or reward hooks so transfers stay cheap.
contract AgentToken is ERC20, ERC20Permit, ERC20Burnable {
    error AgentTokenLengthMismatch(uint256 holders, uint256 amounts);
    error AgentTokenEmptyAllocation();
    error AgentTokenZeroHolder(uint256 index);
    error AgentTokenZeroAmount(uint256 index);

    /// @param name_ ERC20 name, also the EIP-712 domain name for permits.
    /// @param symbol_ ERC20 symbol.
    /// @param holders Recipients of the whole supply; a holder may appear more than once.
    /// @param amounts Amount minted to each holder, same length as `holders`, each non-zero.
    constructor(
        string memory name_,
        string memory symbol_,
        address[] memory holders,
        uint256[] memory amounts
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        uint256 n = holders.length;
        if (n != amounts.length) revert AgentTokenLengthMismatch(n, amounts.length);
        if (n == 0) revert AgentTokenEmptyAllocation();
        for (uint256 i; i < n; ++i) {
            if (holders[i] == address(0)) revert AgentTokenZeroHolder(i);
            if (amounts[i] == 0) revert AgentTokenZeroAmount(i);
            _mint(holders[i], amounts[i]);
        }
    }
}
