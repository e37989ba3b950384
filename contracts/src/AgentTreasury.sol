// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {AgentConfig} from "./AgentConfig.sol";
import {AgentStake} from "./AgentStake.sol";
import {IUniswapV2Router} from "./interfaces/IUniswapV2Router.sol";

/// @title AgentTreasury
/// @notice Receives the agent's payments (the x402 `payTo`) and splits new income by the governed policy:
/// stakers (through AgentStake), operator, buyback fund and reserve. Only the owner (the timelock) moves
/// the reserve; the buyback fund is spent by the keeper on buyback-and-burn through a Uniswap V2 router,
/// or by the owner.
/// @dev Income is counted by balance difference: whatever the treasury holds beyond the reserve and the
/// buyback fund. Each unit is counted once, because `distribute` either sends it out or books it into
/// one of those two balances. A token that charges a fee on transfer is handled (income is what arrived,
/// recipients bear the fee); a token that returns false or reverts makes `distribute` revert and leaves
/// the income pending. The keeper is trusted to choose `minOut` (from an off-chain quote and a slippage
/// bound), and that trust is real: a keeper that sandwiches its own buyback (or passes `minOut = 0`)
/// can extract most of the fund. Nothing on chain bounds `minOut` yet (a TWAP check would).
contract AgentTreasury is Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;

    /// @notice The token customers pay in (USDC).
    IERC20 public immutable paymentToken;
    /// @notice The config whose split `distribute` applies.
    AgentConfig public immutable config;
    /// @notice Where the stakers' share goes.
    AgentStake public immutable stake;
    /// @notice The agent's token, bought back and burned.
    ERC20Burnable public immutable agentToken;
    /// @notice Uniswap V2 router the buyback swaps through; address(0) when the chain has no DEX (the
    /// buyback fund then accumulates until governance spends it).
    IUniswapV2Router public immutable router;

    /// @notice Receives the operator share (pays compute and gas).
    address public operator;
    /// @notice The only account that may call {buyback}.
    address public keeper;
    /// @notice Payment-token amount held as reserve; spent only by the owner.
    uint256 public reserveBalance;
    /// @notice Payment-token amount set aside for buyback-and-burn.
    uint256 public buybackBalance;
    /// @notice Income ever distributed.
    uint256 public totalIncome;
    /// @notice Income ever sent to stakers.
    uint256 public totalToStakers;
    /// @notice Income ever sent to the operator.
    uint256 public totalToOperator;
    /// @notice Income ever set aside for buyback.
    uint256 public totalToBuyback;
    /// @notice Income ever booked into the reserve.
    uint256 public totalToReserve;
    /// @notice Payment token ever swapped by {buyback}.
    uint256 public totalBoughtBack;
    /// @notice Agent tokens ever burned by {buyback}.
    uint256 public totalBurned;

    /// @notice Emitted by every `distribute` that found income.
    event Distributed(
        uint256 income, uint256 toStakers, uint256 toOperator, uint256 toBuyback, uint256 toReserve
    );
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

    error AgentTreasuryZeroAddress();
    error AgentTreasuryZeroAmount();
    error AgentTreasuryTokenMismatch();
    error AgentTreasuryNoDex();
    error AgentTreasuryNotKeeper(address account);
    error AgentTreasuryInsufficientOutput(uint256 received, uint256 minOut);
    error AgentTreasuryInsufficientReserve(uint256 requested, uint256 available);
    error AgentTreasuryInsufficientBuyback(uint256 requested, uint256 available);

    /// @param paymentToken_ The token customers pay in.
    /// @param config_ The agent's AgentConfig (source of the split).
    /// @param stake_ The agent's AgentStake (rewardToken must be `paymentToken_`).
    /// @param agentToken_ The agent's token (the token `stake_` stakes).
    /// @param router_ Uniswap V2 router for the buyback, or address(0) for none.
    /// @param operator_ Receives the operator share.
    /// @param keeper_ May call {buyback} (the operator's account, usually).
    /// @param owner_ The agent's timelock.
    constructor(
        IERC20 paymentToken_,
        AgentConfig config_,
        AgentStake stake_,
        ERC20Burnable agentToken_,
        IUniswapV2Router router_,
        address operator_,
        address keeper_,
        address owner_
    ) Ownable(owner_) {
        if (
            address(paymentToken_) == address(0) || address(config_) == address(0)
                || address(stake_) == address(0) || address(agentToken_) == address(0)
                || operator_ == address(0) || keeper_ == address(0)
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
        operator = operator_;
        keeper = keeper_;
        emit OperatorChanged(address(0), operator_);
        emit KeeperChanged(address(0), keeper_);
    }

    /// @notice Splits the income that arrived since the last call by `config.split()`. Anyone may call.
    /// @return income The amount split; 0 (without reverting) when nothing new arrived.
    function distribute() external nonReentrant returns (uint256 income) {
        income = _pendingIncome();
        if (income == 0) return 0;
        AgentConfig.Split memory s = config.split();

        uint256 toStakers = (income * s.stakersBps) / BPS;
        uint256 toOperator = (income * s.operatorBps) / BPS;
        uint256 toBuyback = (income * s.buybackBps) / BPS;
        // nobody to pay yet: AgentStake would hold the tokens unowned, so keep them
        if (toStakers != 0 && stake.totalSupply() == 0) toStakers = 0;
        // the remainder, so rounding dust and an unpaid stakers share land here and parts sum to income
        uint256 toReserve = income - toStakers - toOperator - toBuyback;

        reserveBalance += toReserve;
        buybackBalance += toBuyback;
        totalIncome += income;
        totalToStakers += toStakers;
        totalToOperator += toOperator;
        totalToBuyback += toBuyback;
        totalToReserve += toReserve;

        if (toStakers != 0) {
            // stream what actually arrived (a fee-on-transfer token delivers less than was sent)
            uint256 before = paymentToken.balanceOf(address(stake));
            paymentToken.safeTransfer(address(stake), toStakers);
            stake.notify(paymentToken.balanceOf(address(stake)) - before);
        }
        if (toOperator != 0) paymentToken.safeTransfer(operator, toOperator);
        emit Distributed(income, toStakers, toOperator, toBuyback, toReserve);
    }

    /// @notice Pays `amount` of the reserve to `to`. Owner (timelock) only.
    function spendReserve(address to, uint256 amount) external onlyOwner nonReentrant {
        if (to == address(0)) revert AgentTreasuryZeroAddress();
        uint256 available = reserveBalance;
        if (amount > available) revert AgentTreasuryInsufficientReserve(amount, available);
        reserveBalance = available - amount;
        paymentToken.safeTransfer(to, amount);
        emit ReserveSpent(to, amount);
    }

    /// @notice Pays `amount` of the buyback fund to `to` (e.g. a buyback executor). Owner (timelock) only.
    function spendBuyback(address to, uint256 amount) external onlyOwner nonReentrant {
        if (to == address(0)) revert AgentTreasuryZeroAddress();
        uint256 available = buybackBalance;
        if (amount > available) revert AgentTreasuryInsufficientBuyback(amount, available);
        buybackBalance = available - amount;
        paymentToken.safeTransfer(to, amount);
        emit BuybackSpent(to, amount);
    }

    /// @notice Swaps `amountIn` of the buyback fund for the agent's token through the router and burns
    /// every token that arrived. Keeper only.
    /// @param amountIn Payment-token amount to spend, at most {buybackBalance}.
    /// @param minOut Fewest agent tokens to accept (from an off-chain quote minus a slippage bound).
    /// @param deadline Unix time after which the router refuses the swap.
    /// @return burned Agent tokens bought and burned.
    function buyback(uint256 amountIn, uint256 minOut, uint256 deadline)
        external
        nonReentrant
        returns (uint256 burned)
    {
        if (msg.sender != keeper) revert AgentTreasuryNotKeeper(msg.sender);
        IUniswapV2Router dex = router;
        if (address(dex) == address(0)) revert AgentTreasuryNoDex();
        if (amountIn == 0) revert AgentTreasuryZeroAmount();
        uint256 available = buybackBalance;
        if (amountIn > available) revert AgentTreasuryInsufficientBuyback(amountIn, available);
        buybackBalance = available - amountIn;
        totalBoughtBack += amountIn;

        address[] memory path = new address[](2);
        path[0] = address(paymentToken);
        path[1] = address(agentToken);
        uint256 before = agentToken.balanceOf(address(this));
        paymentToken.forceApprove(address(dex), amountIn);
        dex.swapExactTokensForTokens(amountIn, minOut, path, address(this), deadline);
        // what arrived, not what the router reports: agent tokens sent here by anyone else stay unburned
        burned = agentToken.balanceOf(address(this)) - before;
        if (burned < minOut) revert AgentTreasuryInsufficientOutput(burned, minOut);
        totalBurned += burned;
        agentToken.burn(burned);
        emit BuybackExecuted(amountIn, burned);
    }

    /// @notice Replaces the keeper that may call {buyback}. Owner (timelock) only.
    function setKeeper(address newKeeper) external onlyOwner {
        if (newKeeper == address(0)) revert AgentTreasuryZeroAddress();
        address previous = keeper;
        keeper = newKeeper;
        emit KeeperChanged(previous, newKeeper);
    }

    /// @notice Replaces the operator that receives the operator share. Owner (timelock) only.
    function setOperator(address newOperator) external onlyOwner {
        if (newOperator == address(0)) revert AgentTreasuryZeroAddress();
        address previous = operator;
        operator = newOperator;
        emit OperatorChanged(previous, newOperator);
    }

    /// @notice The income the next `distribute` would split.
    function pendingIncome() external view returns (uint256) {
        return _pendingIncome();
    }

    function _pendingIncome() private view returns (uint256) {
        uint256 balance = paymentToken.balanceOf(address(this));
        uint256 held = reserveBalance + buybackBalance;
        // a token whose balance can shrink (negative rebase) must not make this underflow
        return balance > held ? balance - held : 0;
    }
}
