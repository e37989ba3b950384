// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Factory} from "../interfaces/IUniswapV2Factory.sol";
import {IUniswapV2Pair} from "../interfaces/IUniswapV2Pair.sol";
import {IUniswapV2Router} from "../interfaces/IUniswapV2Router.sol";

/// @title BuybackPriceFloor
/// @notice A lower bound on what a buyback must receive, from the time-weighted average price of the
/// Uniswap V2 pool it swaps through: `floor = amountIn × TWAP × (10000 − maxSlippageBps) / 10000`.
/// @dev The TWAP runs from a stored observation of the pair's cumulative price to now. Moving the pool in
/// the buyback's own block changes nothing (the pair only accumulates the price that held before the
/// block's first trade), so a sandwich has to hold a moved price for a share of the window, against
/// arbitrage, to lower the floor. Two observations are kept, taken at least one window apart, so the
/// older one is always a full window old: observing often cannot keep the floor from being ready. An
/// observation more than two windows old is stale (the average would lag a real move of the price).
abstract contract BuybackPriceFloor {
    /// @notice Shortest governable averaging window.
    uint32 public constant MIN_TWAP_WINDOW = 5 minutes;
    /// @notice Longest governable averaging window.
    uint32 public constant MAX_TWAP_WINDOW = 7 days;
    /// @notice Smallest governable slippage bound: above the pool's 0.3 % fee, or no buyback passes.
    uint16 public constant MIN_SLIPPAGE_BPS = 50;
    /// @notice Largest governable slippage bound.
    uint16 public constant MAX_SLIPPAGE_BPS = 2_000;

    uint256 private constant BPS = 10_000;
    uint256 private constant Q112 = 2 ** 112;
    /// @dev An observation older than this many windows no longer bounds the price.
    uint256 private constant MAX_AGE_IN_WINDOWS = 2;

    /// @notice The pool's cumulative price of the input token in output tokens at `timestamp`.
    struct Observation {
        uint64 timestamp;
        uint256 cumulative;
    }

    Observation private _older;
    Observation private _newer;
    IUniswapV2Pair private _pair;
    bool private _inputIsToken0;
    uint32 private _twapWindow;
    uint16 private _maxSlippageBps;

    /// @notice Emitted when the pool's cumulative price was recorded.
    event PriceObserved(uint256 cumulative, uint256 timestamp);
    /// @notice Emitted when the averaging window changed.
    event TwapWindowChanged(uint32 previousWindow, uint32 newWindow);
    /// @notice Emitted when the slippage bound changed.
    event MaxSlippageBpsChanged(uint16 previousBps, uint16 newBps);

    /// @notice There is no pool to observe: no router, no pair for the two tokens, or a pair without liquidity.
    error BuybackPriceFloorNoPool(address tokenIn, address tokenOut);
    /// @notice `window` is outside [`min`, `max`].
    error BuybackPriceFloorWindowOutOfBounds(uint32 window, uint32 min, uint32 max);
    /// @notice `bps` is outside [`min`, `max`].
    error BuybackPriceFloorSlippageOutOfBounds(uint16 bps, uint16 min, uint16 max);
    /// @notice No observation is a window old yet; `readyAt` is when one will be (type(uint256).max: none
    /// usable, call `observePrice` and wait a window).
    error BuybackPriceFloorNotReady(uint256 readyAt);

    /// @param twapWindow_ Seconds the price is averaged over, within [MIN_TWAP_WINDOW, MAX_TWAP_WINDOW].
    /// @param maxSlippageBps_ Largest shortfall below the average price, within [MIN_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS].
    constructor(uint32 twapWindow_, uint16 maxSlippageBps_) {
        _setTwapWindow(twapWindow_);
        _setMaxSlippageBps(maxSlippageBps_);
    }

    /// @notice Records the pool's cumulative price. Anyone may call; a no-op until the last observation is
    /// a window old.
    function observePrice() external {
        _observe();
    }

    /// @notice The fewest output tokens a buyback of `amountIn` may receive now, and when the floor is
    /// usable. `floor` is 0 while `readyAt` is in the future.
    /// @return floor `amountIn` at the time-weighted price, less the slippage bound.
    /// @return readyAt When an observation will be a window old (type(uint256).max: none usable, observe first).
    function buybackFloor(uint256 amountIn) public view returns (uint256 floor, uint256 readyAt) {
        Observation memory obs;
        (obs, readyAt) = _usableObservation();
        if (readyAt > block.timestamp) return (0, readyAt);
        uint256 priceX112;
        unchecked {
            // the pair's accumulator wraps by design; the difference is right modulo 2**256
            priceX112 =
                (_cumulativeNow(_pair, _inputIsToken0) - obs.cumulative) / (block.timestamp - obs.timestamp);
        }
        floor = Math.mulDiv(amountIn, priceX112 * (BPS - _maxSlippageBps), BPS * Q112);
    }

    /// @notice Seconds the price is averaged over.
    function twapWindow() public view returns (uint32) {
        return _twapWindow;
    }

    /// @notice Largest shortfall a buyback may take below the average price, in basis points.
    function maxSlippageBps() public view returns (uint16) {
        return _maxSlippageBps;
    }

    /// @notice The pool the floor reads (address(0) until the first observation).
    function buybackPair() external view returns (address) {
        return address(_pair);
    }

    /// @notice The two stored observations, older first.
    function priceObservations() external view returns (Observation memory older, Observation memory newer) {
        return (_older, _newer);
    }

    /// @dev The router and the two tokens of the swap the floor bounds (input first).
    function _buybackRoute()
        internal
        view
        virtual
        returns (IUniswapV2Router router, address tokenIn, address tokenOut);

    /// @dev Records an observation when the newer one is at least a window old (or there is none).
    function _observe() internal {
        Observation memory newer = _newer;
        // a window between observations keeps the older one a full window old at all times
        if (newer.timestamp != 0 && block.timestamp - newer.timestamp < _twapWindow) return;
        IUniswapV2Pair pair = _pair;
        bool inputIsToken0 = _inputIsToken0;
        if (address(pair) == address(0)) (pair, inputIsToken0) = _resolvePair();
        uint256 cumulative = _cumulativeNow(pair, inputIsToken0);
        _older = newer;
        _newer = Observation(uint64(block.timestamp), cumulative);
        emit PriceObserved(cumulative, block.timestamp);
    }

    function _setTwapWindow(uint32 window) internal {
        if (window < MIN_TWAP_WINDOW || window > MAX_TWAP_WINDOW) {
            revert BuybackPriceFloorWindowOutOfBounds(window, MIN_TWAP_WINDOW, MAX_TWAP_WINDOW);
        }
        uint32 previous = _twapWindow;
        _twapWindow = window;
        emit TwapWindowChanged(previous, window);
    }

    function _setMaxSlippageBps(uint16 bps) internal {
        if (bps < MIN_SLIPPAGE_BPS || bps > MAX_SLIPPAGE_BPS) {
            revert BuybackPriceFloorSlippageOutOfBounds(bps, MIN_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS);
        }
        uint16 previous = _maxSlippageBps;
        _maxSlippageBps = bps;
        emit MaxSlippageBpsChanged(previous, bps);
    }

    /// @dev The newest observation at least a window old, or when one will be.
    function _usableObservation() private view returns (Observation memory obs, uint256 readyAt) {
        uint256 window = _twapWindow;
        obs = _newer;
        if (obs.timestamp == 0) return (obs, type(uint256).max);
        if (block.timestamp - obs.timestamp < window) {
            Observation memory older = _older;
            if (older.timestamp == 0) return (obs, obs.timestamp + window);
            uint256 olderAge = block.timestamp - older.timestamp;
            // stale (nobody observed for a while): the newer one will be usable a window after it
            if (olderAge > window * MAX_AGE_IN_WINDOWS) return (obs, obs.timestamp + window);
            // short of a window only after governance lengthened the window
            return (older, older.timestamp + window);
        }
        if (block.timestamp - obs.timestamp > window * MAX_AGE_IN_WINDOWS) return (obs, type(uint256).max);
        readyAt = obs.timestamp + window;
    }

    function _resolvePair() private returns (IUniswapV2Pair pair, bool inputIsToken0) {
        (IUniswapV2Router router, address tokenIn, address tokenOut) = _buybackRoute();
        if (address(router) == address(0)) revert BuybackPriceFloorNoPool(tokenIn, tokenOut);
        pair = IUniswapV2Pair(IUniswapV2Factory(router.factory()).getPair(tokenIn, tokenOut));
        if (address(pair) == address(0)) revert BuybackPriceFloorNoPool(tokenIn, tokenOut);
        (uint112 reserve0, uint112 reserve1,) = pair.getReserves();
        // an empty pool would average a zero price into the window; once funded, V2 locks liquidity forever
        if (reserve0 == 0 || reserve1 == 0) revert BuybackPriceFloorNoPool(tokenIn, tokenOut);
        inputIsToken0 = pair.token0() == tokenIn;
        _pair = pair;
        _inputIsToken0 = inputIsToken0;
    }

    /// @dev The pair's cumulative price of the input token (output per input, UQ112x112 × seconds) as of
    /// now: what the pair has stored, plus the current reserves' price for the seconds since its last update.
    function _cumulativeNow(IUniswapV2Pair pair, bool inputIsToken0)
        private
        view
        returns (uint256 cumulative)
    {
        cumulative = inputIsToken0 ? pair.price0CumulativeLast() : pair.price1CumulativeLast();
        (uint112 reserve0, uint112 reserve1, uint32 updatedAt) = pair.getReserves();
        unchecked {
            // the pair keeps time modulo 2**32 and so does this difference
            uint32 elapsed = uint32(block.timestamp) - updatedAt;
            if (elapsed == 0 || reserve0 == 0 || reserve1 == 0) return cumulative;
            uint256 priceX112 =
                inputIsToken0 ? (uint256(reserve1) * Q112) / reserve0 : (uint256(reserve0) * Q112) / reserve1;
            cumulative += priceX112 * elapsed;
        }
    }
}
