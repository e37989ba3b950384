// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AgentConfig} from "./AgentConfig.sol";
import {AgentStake} from "./AgentStake.sol";

/// @title AgentTreasury
/// @notice Receives the agent's payments (the x402 `payTo`) and splits new income by the governed policy:
/// stakers (through AgentStake), operator, buyback fund and reserve. Only the owner (the timelock) moves
/// the reserve and the buyback fund.
/// @dev Income is counted by balance difference: whatever the treasury holds beyond the reserve and the
/// buyback fund. Each unit is counted once, because `distribute` either sends it out or books it into
/// one of those two balances. A token that charges a fee on transfer is handled (income is what arrived,
/// recipients bear the fee); a token that returns false or reverts makes `distribute` revert and leaves
/// the income pending.
contract AgentTreasury is Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;

    /// @notice The token customers pay in (USDC).
    IERC20 public immutable paymentToken;
    /// @notice The config whose split `distribute` applies.
    AgentConfig public immutable config;
    /// @notice Where the stakers' share goes.
    AgentStake public immutable stake;

    /// @notice Receives the operator share (pays compute and gas).
    address public operator;
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

    error AgentTreasuryZeroAddress();
    error AgentTreasuryInsufficientReserve(uint256 requested, uint256 available);
    error AgentTreasuryInsufficientBuyback(uint256 requested, uint256 available);

    /// @param paymentToken_ The token customers pay in.
    /// @param config_ The agent's AgentConfig (source of the split).
    /// @param stake_ The agent's AgentStake (rewardToken must be `paymentToken_`).
    /// @param operator_ Receives the operator share.
    /// @param owner_ The agent's timelock.
    constructor(
        IERC20 paymentToken_,
        AgentConfig config_,
        AgentStake stake_,
        address operator_,
        address owner_
    ) Ownable(owner_) {
        if (
            address(paymentToken_) == address(0) || address(config_) == address(0)
                || address(stake_) == address(0) || operator_ == address(0)
        ) revert AgentTreasuryZeroAddress();
        paymentToken = paymentToken_;
        config = config_;
        stake = stake_;
        operator = operator_;
        emit OperatorChanged(address(0), operator_);
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
            paymentToken.safeTransfer(address(stake), toStakers);
            stake.notify();
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
