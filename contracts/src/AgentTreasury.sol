// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AgentConfig} from "./AgentConfig.sol";
import {AgentStake} from "./AgentStake.sol";
import {IUniswapV2Router} from "./interfaces/IUniswapV2Router.sol";
import {BuybackPriceFloor} from "./treasury/BuybackPriceFloor.sol";

/// @title AgentTreasury
/// @notice Receives the agent's payments (the x402 `payTo`) and splits new income by the governed policy:
/// stakers (streamed by AgentStake), operator (owed, withdrawn by the operator), buyback fund and reserve.
/// Only the owner (the timelock) moves the reserve; the buyback fund is spent by the keeper on
/// buyback-and-burn through a Uniswap V2 router, at no less than the pool's time-weighted price minus a
/// governed slippage bound, or by the owner. The config's guardian can pause every outflow.
/// @dev Income is counted by balance difference: whatever the treasury holds beyond the reserve, the
/// buyback fund and what it owes operators. Each unit is counted once, because `distribute` either sends
/// it to the stake or books it into one of those three. Nothing `distribute` does depends on the
/// operator's address accepting tokens, and a stake that cannot be paid leaves its share in the reserve,
/// so no single recipient can hold up the others. A token that charges a fee on transfer is handled
/// (income is what arrived, recipients bear the fee).
contract AgentTreasury is Ownable, Pausable, ReentrancyGuard, BuybackPriceFloor {
    using SafeERC20 for IERC20;

    // named apart from BuybackPriceFloor's private BPS, which slither reports as shadowed state
    uint256 private constant SPLIT_BPS = 10_000;

    /// @dev Payment-token amounts the treasury holds on its books (besides operator debt).
    struct Funds {
        uint128 reserve;
        uint128 buyback;
    }

    /// @dev Income ever counted, and the operator debt outstanding (Σ operatorOwed).
    struct Income {
        uint128 total;
        uint128 operatorOwed;
    }

    /// @dev Where income ever went.
    struct Shares {
        uint128 toStakers;
        uint128 toOperator;
        uint128 toBuyback;
        uint128 toReserve;
    }

    /// @dev What the buyback ever did.
    struct Buybacks {
        uint128 spent;
        uint128 burned;
    }

    /// @notice The token customers pay in (USDC).
    IERC20 public immutable paymentToken;
    /// @notice The config whose split `distribute` applies and whose guardian may pause.
    AgentConfig public immutable config;
    /// @notice Where the stakers' share goes.
    AgentStake public immutable stake;
    /// @notice The agent's token, bought back and burned.
    ERC20Burnable public immutable agentToken;
    /// @notice Uniswap V2 router the buyback swaps through; address(0) when the chain has no DEX (the
    /// buyback fund then accumulates until governance spends it).
    IUniswapV2Router public immutable router;

    address private _operator;
    address private _keeper;
    Funds private _funds;
    Income private _income;
    Shares private _shares;
    Buybacks private _buybacks;
    mapping(address account => uint256) private _operatorOwed;

    /// @notice Emitted by every `distribute` that found income.
    event Distributed(
        uint256 income, uint256 toStakers, uint256 toOperator, uint256 toBuyback, uint256 toReserve
    );
    /// @notice Emitted when the stake could not be paid: its share `amount` went to the reserve.
    event StakersPayoutFailed(uint256 amount);
    /// @notice Emitted when `account` withdrew `amount` it was owed as operator, to `to`.
    event OperatorShareWithdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice Emitted when the owner spent part of the reserve.
    event ReserveSpent(address indexed to, uint256 amount);
    /// @notice Emitted when the owner spent part of the buyback fund.
    event BuybackSpent(address indexed to, uint256 amount);
    /// @notice Emitted when the owner replaced the operator.
    event OperatorChanged(address indexed previousOperator, address indexed newOperator);
    /// @notice Emitted when the owner replaced the keeper.
    event KeeperChanged(address indexed previousKeeper, address indexed newKeeper);
    /// @notice Emitted by every {buyback}: `amountIn` of the fund bought `tokensBurned`, all burned.
    event BuybackExecuted(uint256 amountIn, uint256 tokensBurned);
    /// @notice Emitted when the owner recovered `amount` of `token` sent here by mistake.
    event Swept(IERC20 indexed token, address indexed to, uint256 amount);

    /// @notice An address argument was zero.
    error AgentTreasuryZeroAddress();
    /// @notice An amount argument was zero.
    error AgentTreasuryZeroAmount();
    /// @notice The stake, the agent token and the payment token do not belong together.
    error AgentTreasuryTokenMismatch();
    /// @notice No router was configured, so there is no buyback.
    error AgentTreasuryNoDex();
    /// @notice `account` is not the keeper.
    error AgentTreasuryNotKeeper(address account);
    /// @notice `account` is not the config's guardian.
    error AgentTreasuryNotGuardian(address account);
    /// @notice `account` cannot be the operator (the treasury itself or the stake would count its share twice).
    error AgentTreasuryInvalidOperator(address account);
    /// @notice `account` cannot be the keeper (the treasury itself or the stake).
    error AgentTreasuryInvalidKeeper(address account);
    /// @notice `to` cannot receive a withdrawal (paying the treasury would turn a debt into income again).
    error AgentTreasuryInvalidRecipient(address to);
    /// @notice The buyback received `received`, fewer than `minOut` agent tokens.
    error AgentTreasuryInsufficientOutput(uint256 received, uint256 minOut);
    /// @notice `requested` exceeds the reserve's `available`.
    error AgentTreasuryInsufficientReserve(uint256 requested, uint256 available);
    /// @notice `requested` exceeds the buyback fund's `available`.
    error AgentTreasuryInsufficientBuyback(uint256 requested, uint256 available);
    /// @notice The payment token is never swept: all of it is income, reserve, buyback fund or operator debt.
    error AgentTreasurySweepPaymentToken();
    /// @notice Ownership cannot be given up: nobody could move the reserve or unpause again.
    error AgentTreasuryCannotRenounce();
    /// @notice The stake's payout ran out of gas; with more gas it would have been paid.
    error AgentTreasuryOutOfGas();

    /// @param paymentToken_ The token customers pay in.
    /// @param config_ The agent's AgentConfig (source of the split and of the guardian).
    /// @param stake_ The agent's AgentStake (rewardToken must be `paymentToken_`).
    /// @param agentToken_ The agent's token (the token `stake_` stakes).
    /// @param router_ Uniswap V2 router for the buyback, or address(0) for none.
    /// @param operator_ Is owed the operator share.
    /// @param keeper_ May call {buyback} (the operator's account, usually).
    /// @param owner_ The agent's timelock.
    /// @param twapWindow_ Seconds the buyback's price floor averages over.
    /// @param maxSlippageBps_ Largest shortfall below the average price a buyback may take.
    constructor(
        IERC20 paymentToken_,
        AgentConfig config_,
        AgentStake stake_,
        ERC20Burnable agentToken_,
        IUniswapV2Router router_,
        address operator_,
        address keeper_,
        address owner_,
        uint32 twapWindow_,
        uint16 maxSlippageBps_
    ) Ownable(owner_) BuybackPriceFloor(twapWindow_, maxSlippageBps_) {
        if (
            address(paymentToken_) == address(0) || address(config_) == address(0)
                || address(stake_) == address(0) || address(agentToken_) == address(0)
        ) revert AgentTreasuryZeroAddress();
        // the buyback burns what the stakers stake and must never swap the payment token for
        // itself; the stakers' share is paid in the stake's reward token, or it is stuck there
        if (
            address(stake_.token()) != address(agentToken_) || address(agentToken_) == address(paymentToken_)
                || address(stake_.rewardToken()) != address(paymentToken_)
        ) {
            revert AgentTreasuryTokenMismatch();
        }
        paymentToken = paymentToken_;
        config = config_;
        stake = stake_;
        agentToken = agentToken_;
        router = router_;
        _setOperator(operator_);
        _setKeeper(keeper_);
    }

    /// @notice Splits the income that arrived since the last call by `config.split()`. Anyone may call;
    /// AgentConfig calls it before a split change so that income is split under the split it was earned under.
    /// @dev Not paused: it moves money only to the stake, and a split change must always be able to run it.
    /// @return income The amount split; 0 (without reverting) when nothing new arrived.
    function distribute() external nonReentrant returns (uint256 income) {
        income = _pendingIncome();
        if (income == 0) return 0;
        AgentConfig.Split memory s = config.split();

        uint256 toStakers = (income * s.stakersBps) / SPLIT_BPS;
        uint256 toOperator = (income * s.operatorBps) / SPLIT_BPS;
        uint256 toBuyback = (income * s.buybackBps) / SPLIT_BPS;
        // nobody to pay yet: AgentStake would hold the tokens unowned, so keep them
        if (toStakers != 0 && stake.totalSupply() == 0) toStakers = 0;
        if (toStakers != 0 && !_payStakers(toStakers)) {
            emit StakersPayoutFailed(toStakers);
            toStakers = 0;
        }
        // the remainder, so rounding dust and an unpaid stakers share land here and parts sum to income
        uint256 toReserve = income - toStakers - toOperator - toBuyback;

        Funds memory funds = _funds;
        _funds = Funds(
            SafeCast.toUint128(funds.reserve + toReserve), SafeCast.toUint128(funds.buyback + toBuyback)
        );
        Income memory counted = _income;
        _income = Income(
            SafeCast.toUint128(counted.total + income), SafeCast.toUint128(counted.operatorOwed + toOperator)
        );
        Shares memory shares = _shares;
        _shares = Shares(
            SafeCast.toUint128(shares.toStakers + toStakers),
            SafeCast.toUint128(shares.toOperator + toOperator),
            SafeCast.toUint128(shares.toBuyback + toBuyback),
            SafeCast.toUint128(shares.toReserve + toReserve)
        );
        // pulled by the operator, so an operator the token refuses cannot hold up anyone else's share
        if (toOperator != 0) _operatorOwed[_operator] += toOperator;
        emit Distributed(income, toStakers, toOperator, toBuyback, toReserve);
    }

    /// @notice Pays the caller everything it is owed as operator (now or formerly), to `to`.
    /// @param to Any address but the treasury: an operator the token blocklists is paid elsewhere.
    /// @return amount The amount paid (0 when nothing was owed).
    function withdrawOperatorShare(address to) external nonReentrant whenNotPaused returns (uint256 amount) {
        if (to == address(0)) revert AgentTreasuryZeroAddress();
        if (to == address(this)) revert AgentTreasuryInvalidRecipient(to);
        amount = _operatorOwed[msg.sender];
        if (amount == 0) return 0;
        _operatorOwed[msg.sender] = 0;
        Income memory counted = _income;
        _income = Income(counted.total, counted.operatorOwed - uint128(amount));
        paymentToken.safeTransfer(to, amount);
        emit OperatorShareWithdrawn(msg.sender, to, amount);
    }

    /// @notice Pays `amount` of the reserve to `to`. Owner (timelock) only.
    function spendReserve(address to, uint256 amount) external onlyOwner nonReentrant whenNotPaused {
        if (to == address(0)) revert AgentTreasuryZeroAddress();
        Funds memory funds = _funds;
        if (amount > funds.reserve) revert AgentTreasuryInsufficientReserve(amount, funds.reserve);
        _funds = Funds(funds.reserve - uint128(amount), funds.buyback);
        paymentToken.safeTransfer(to, amount);
        emit ReserveSpent(to, amount);
    }

    /// @notice Pays `amount` of the buyback fund to `to` (e.g. a buyback executor). Owner (timelock) only.
    function spendBuyback(address to, uint256 amount) external onlyOwner nonReentrant whenNotPaused {
        if (to == address(0)) revert AgentTreasuryZeroAddress();
        Funds memory funds = _funds;
        if (amount > funds.buyback) revert AgentTreasuryInsufficientBuyback(amount, funds.buyback);
        _funds = Funds(funds.reserve, funds.buyback - uint128(amount));
        paymentToken.safeTransfer(to, amount);
        emit BuybackSpent(to, amount);
    }

    /// @notice Swaps `amountIn` of the buyback fund for the agent's token through the router and burns
    /// every token that arrived. Keeper only. The router must deliver at least `max(minOut, floor)`, the
    /// floor being {buybackFloor}: a sandwich that moves the pool in this block makes the swap revert.
    /// Records a new price observation afterwards.
    /// @param amountIn Payment-token amount to spend, at most {buybackBalance}.
    /// @param minOut Fewest agent tokens the keeper accepts (it may ask for more than the floor, not less).
    /// @param deadline Unix time after which the router refuses the swap.
    /// @return burned Agent tokens bought and burned.
    function buyback(uint256 amountIn, uint256 minOut, uint256 deadline)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 burned)
    {
        if (msg.sender != _keeper) revert AgentTreasuryNotKeeper(msg.sender);
        IUniswapV2Router dex = router;
        if (address(dex) == address(0)) revert AgentTreasuryNoDex();
        if (amountIn == 0) revert AgentTreasuryZeroAmount();
        Funds memory funds = _funds;
        if (amountIn > funds.buyback) revert AgentTreasuryInsufficientBuyback(amountIn, funds.buyback);
        (uint256 floor, uint256 readyAt) = buybackFloor(amountIn);
        if (readyAt > block.timestamp) revert BuybackPriceFloorNotReady(readyAt);
        if (floor > minOut) minOut = floor;

        _funds = Funds(funds.reserve, funds.buyback - uint128(amountIn));
        address[] memory path = new address[](2);
        path[0] = address(paymentToken);
        path[1] = address(agentToken);
        uint256 before = agentToken.balanceOf(address(this));
        paymentToken.forceApprove(address(dex), amountIn);
        dex.swapExactTokensForTokens(amountIn, minOut, path, address(this), deadline);
        // what arrived, not what the router reports: agent tokens sent here by anyone else stay unburned
        burned = agentToken.balanceOf(address(this)) - before;
        if (burned < minOut) revert AgentTreasuryInsufficientOutput(burned, minOut);
        Buybacks memory done = _buybacks;
        _buybacks = Buybacks(done.spent + uint128(amountIn), SafeCast.toUint128(done.burned + burned));
        agentToken.burn(burned);
        _observe();
        emit BuybackExecuted(amountIn, burned);
    }

    /// @notice Stops every outflow (spendReserve, spendBuyback, buyback, withdrawOperatorShare, sweep)
    /// until the owner unpauses. The config's guardian only.
    function pause() external {
        if (msg.sender != config.guardian()) revert AgentTreasuryNotGuardian(msg.sender);
        _pause();
    }

    /// @notice Lets outflows run again. Owner (timelock) only.
    function unpause() external onlyOwner {
        _unpause();
    }

    /// @notice Sends `amount` of `token`, sent here by mistake, to `to`. Owner (timelock) only; never the
    /// payment token.
    function sweep(IERC20 token, address to, uint256 amount) external onlyOwner nonReentrant whenNotPaused {
        if (address(token) == address(paymentToken)) revert AgentTreasurySweepPaymentToken();
        if (to == address(0)) revert AgentTreasuryZeroAddress();
        token.safeTransfer(to, amount);
        emit Swept(token, to, amount);
    }

    /// @notice Replaces the keeper that may call {buyback}. Owner (timelock) only.
    function setKeeper(address newKeeper) external onlyOwner {
        _setKeeper(newKeeper);
    }

    /// @notice Replaces the operator that is owed the operator share from the next `distribute` on; what the
    /// previous operator is owed stays its to withdraw. Owner (timelock) only.
    function setOperator(address newOperator) external onlyOwner {
        _setOperator(newOperator);
    }

    /// @notice Sets the buyback floor's averaging window, within [MIN_TWAP_WINDOW, MAX_TWAP_WINDOW].
    /// Owner (timelock) only.
    function setTwapWindow(uint32 window) external onlyOwner {
        _setTwapWindow(window);
    }

    /// @notice Sets the buyback floor's slippage bound, within [MIN_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS].
    /// Owner (timelock) only.
    function setMaxSlippageBps(uint16 bps) external onlyOwner {
        _setMaxSlippageBps(bps);
    }

    /// @notice Always reverts: without an owner nobody could move the reserve or unpause.
    function renounceOwnership() public pure override {
        revert AgentTreasuryCannotRenounce();
    }

    /// @notice Is owed the operator share of each distribution.
    function operator() external view returns (address) {
        return _operator;
    }

    /// @notice The only account that may call {buyback}.
    function keeper() external view returns (address) {
        return _keeper;
    }

    /// @notice What `account` may withdraw with {withdrawOperatorShare}.
    function operatorOwed(address account) external view returns (uint256) {
        return _operatorOwed[account];
    }

    /// @notice Σ operatorOwed over every account.
    function totalOperatorOwed() external view returns (uint256) {
        return _income.operatorOwed;
    }

    /// @notice Payment-token amount held as reserve; spent only by the owner.
    function reserveBalance() external view returns (uint256) {
        return _funds.reserve;
    }

    /// @notice Payment-token amount set aside for buyback-and-burn.
    function buybackBalance() external view returns (uint256) {
        return _funds.buyback;
    }

    /// @notice Income ever distributed.
    function totalIncome() external view returns (uint256) {
        return _income.total;
    }

    /// @notice Income ever sent to stakers.
    function totalToStakers() external view returns (uint256) {
        return _shares.toStakers;
    }

    /// @notice Income ever owed to operators.
    function totalToOperator() external view returns (uint256) {
        return _shares.toOperator;
    }

    /// @notice Income ever set aside for buyback.
    function totalToBuyback() external view returns (uint256) {
        return _shares.toBuyback;
    }

    /// @notice Income ever booked into the reserve.
    function totalToReserve() external view returns (uint256) {
        return _shares.toReserve;
    }

    /// @notice Payment token ever swapped by {buyback}.
    function totalBoughtBack() external view returns (uint256) {
        return _buybacks.spent;
    }

    /// @notice Agent tokens ever burned by {buyback}.
    function totalBurned() external view returns (uint256) {
        return _buybacks.burned;
    }

    /// @notice The income the next `distribute` would split.
    function pendingIncome() external view returns (uint256) {
        return _pendingIncome();
    }

    /// @inheritdoc BuybackPriceFloor
    function _buybackRoute() internal view override returns (IUniswapV2Router, address, address) {
        return (router, address(paymentToken), address(agentToken));
    }

    /// @dev Sends `amount` to the stake and notifies what arrived. False when the token refused the
    /// transfer (e.g. it blocklists the stake); the caller then keeps the share.
    function _payStakers(uint256 amount) private returns (bool) {
        IERC20 token = paymentToken;
        address to = address(stake);
        uint256 before = token.balanceOf(to);
        uint256 gasBefore = gasleft();
        if (!token.trySafeTransfer(to, amount)) {
            // a caller that starves the transfer of gas must not be able to divert the stakers' share
            if (gasleft() <= gasBefore / 64) revert AgentTreasuryOutOfGas();
            return false;
        }
        // a fee-on-transfer token delivers less than was sent; the stake streams what it holds
        uint256 arrived = token.balanceOf(to) - before;
        if (arrived != 0) stake.notify(arrived);
        return true;
    }

    function _setOperator(address newOperator) private {
        if (newOperator == address(0)) revert AgentTreasuryZeroAddress();
        // the treasury's own share would be income again (1,250 booked for 1,000 paid); the stake would
        // stream it to stakers
        if (newOperator == address(this) || newOperator == address(stake)) {
            revert AgentTreasuryInvalidOperator(newOperator);
        }
        address previous = _operator;
        _operator = newOperator;
        emit OperatorChanged(previous, newOperator);
    }

    function _setKeeper(address newKeeper) private {
        if (newKeeper == address(0)) revert AgentTreasuryZeroAddress();
        if (newKeeper == address(this) || newKeeper == address(stake)) {
            revert AgentTreasuryInvalidKeeper(newKeeper);
        }
        address previous = _keeper;
        _keeper = newKeeper;
        emit KeeperChanged(previous, newKeeper);
    }

    function _pendingIncome() private view returns (uint256) {
        uint256 balance = paymentToken.balanceOf(address(this));
        Funds memory funds = _funds;
        uint256 held = uint256(funds.reserve) + funds.buyback + _income.operatorOwed;
        // a token whose balance can shrink (negative rebase) must not make this underflow
        return balance > held ? balance - held : 0;
    }
}
