// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The buyback price floor's parameters the tests deploy with (launch's defaults on a real chain).
library TreasuryFixture {
    uint32 internal constant TWAP_WINDOW = 30 minutes;
    uint16 internal constant MAX_SLIPPAGE_BPS = 300;
}
