// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title AgentStake
/// @notice Stake an agent's token for non-transferable voting shares (ERC20Votes, timestamp clock) that earn
/// the stakers' share of the agent's revenue in the reward token, through an O(1) reward-per-token accumulator.
/// @dev `token` must be a plain ERC20 (no fee on transfer): shares are minted 1:1 for the amount pulled.
contract AgentStake is ERC20Votes, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Fixed-point scale of {rewardPerToken}.
    uint256 public constant PRECISION = 1e36;

    /// @notice The staked token (the agent's AgentToken).
    IERC20 public immutable token;
    /// @notice The token rewards are paid in (the payment token).
    IERC20 public immutable rewardToken;

    uint256 private _rewardPerToken;
    uint256 private _totalNotified;
    uint256 private _totalClaimed;
    mapping(address account => uint256) private _rewardPerTokenPaid;
    mapping(address account => uint256) private _accrued;

    /// @dev What an account staked in the current block. It cannot leave in that block, so a
    /// flash loan cannot stake, collect a distribution and unstake in one transaction.
    struct FreshStake {
        uint64 blockNumber;
        uint192 amount;
    }

    mapping(address account => FreshStake) private _fresh;

    event Staked(address indexed account, uint256 amount);
    event Unstaked(address indexed account, uint256 amount);
    event RewardNotified(uint256 amount, uint256 rewardPerToken);
    event RewardClaimed(address indexed account, uint256 amount);

    error AgentStakeNonTransferable();
    error AgentStakeZeroAmount();
    error AgentStakeZeroAddress();
    error AgentStakeSameToken();
    error AgentStakeStakedThisBlock(uint256 unstakable);

    constructor(IERC20 token_, IERC20 rewardToken_, string memory name_, string memory symbol_)
        ERC20(name_, symbol_)
        EIP712(name_, "1")
    {
        if (address(token_) == address(0) || address(rewardToken_) == address(0)) {
            revert AgentStakeZeroAddress();
        }
        // Rewards are counted from the reward-token balance, which must never include the stake itself.
        if (address(token_) == address(rewardToken_)) revert AgentStakeSameToken();
        token = token_;
        rewardToken = rewardToken_;
    }

    /// @notice Stakes `amount` of `token` from the caller and mints as many shares to the caller.
    /// @dev Delegates the caller's votes to itself if it has never delegated.
    function stake(uint256 amount) external nonReentrant {
        _stake(msg.sender, amount);
    }

    /// @notice Stakes `amount` of `token` from the caller and mints the shares to `account`.
    /// @dev Delegates `account`'s votes to itself if it has never delegated.
    function stakeFor(address account, uint256 amount) external nonReentrant {
        if (account == address(0)) revert AgentStakeZeroAddress();
        _stake(account, amount);
    }

    /// @notice Burns `amount` of the caller's shares and returns as much `token`. Accrued rewards stay claimable.
    /// Shares staked in the current block can only leave in a later one.
    function unstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert AgentStakeZeroAmount();
        FreshStake memory fresh = _fresh[msg.sender];
        if (fresh.blockNumber == block.number) {
            uint256 unstakable = balanceOf(msg.sender) - fresh.amount;
            if (amount > unstakable) revert AgentStakeStakedThisBlock(unstakable);
        }
        _burn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount);
    }

    /// @notice Pays the caller all its accrued rewards.
    /// @return amount The reward-token amount paid (0 if nothing was owed).
    function claim() external nonReentrant returns (uint256 amount) {
        // Settles and pays in one step, so the accrued slot is never written only to be cleared.
        amount = _accrued[msg.sender] + _pending(msg.sender);
        _rewardPerTokenPaid[msg.sender] = _rewardPerToken;
        if (amount == 0) return 0;
        _accrued[msg.sender] = 0;
        _totalClaimed += amount;
        rewardToken.safeTransfer(msg.sender, amount);
        emit RewardClaimed(msg.sender, amount);
    }

    /// @notice Distributes to current stakers every reward token this contract holds beyond what it already
    /// owes. Permissionless and O(1). While nobody stakes, the balance is left for a later call.
    /// @return added The reward-token amount newly distributed.
    function notify() external nonReentrant returns (uint256 added) {
        added = _notify();
    }

    /// @notice The treasury's entry point: `amount` was just transferred in. Stub for the treasury's branch:
    /// it counts the balance like {notify}; the stake branch replaces it with the streaming, notifier-only one.
    function notify(uint256 amount) external nonReentrant {
        amount; // the balance is what counts here
        _notify();
    }

    function _notify() private returns (uint256 added) {
        uint256 supply = totalSupply();
        if (supply == 0) return 0;
        uint256 balance = rewardToken.balanceOf(address(this));
        uint256 owed = _totalNotified - _totalClaimed;
        if (balance <= owed) return 0;
        added = balance - owed;
        _totalNotified += added;
        // Flooring loses less than supply / 1e36 units per notify, which stays in the contract as dust.
        uint256 perToken = _rewardPerToken + (added * PRECISION) / supply;
        _rewardPerToken = perToken;
        emit RewardNotified(added, perToken);
    }

    /// @notice The reward-token amount `account` could claim now.
    function claimable(address account) external view returns (uint256) {
        return _accrued[account] + _pending(account);
    }

    /// @notice Cumulative rewards per share since deployment, scaled by {PRECISION}.
    function rewardPerToken() external view returns (uint256) {
        return _rewardPerToken;
    }

    /// @notice Total reward-token amount ever distributed by {notify}.
    function totalNotified() external view returns (uint256) {
        return _totalNotified;
    }

    /// @notice Total reward-token amount ever paid by {claim}.
    function totalClaimed() external view returns (uint256) {
        return _totalClaimed;
    }

    /// @inheritdoc Votes
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @inheritdoc Votes
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _stake(address account, uint256 amount) private {
        if (amount == 0) revert AgentStakeZeroAmount();
        // Before minting, so the mint itself moves the new votes to the delegate.
        if (delegates(account) == address(0)) _delegate(account, account);
        token.safeTransferFrom(msg.sender, address(this), amount);
        // only the amount staked this block is held, so a 1-wei stakeFor cannot lock a holder in
        FreshStake memory fresh = _fresh[account];
        uint256 held = fresh.blockNumber == block.number ? fresh.amount + amount : amount;
        _fresh[account] = FreshStake(uint64(block.number), uint192(held));
        _mint(account, amount);
        emit Staked(account, amount);
    }

    /// @dev Shares only mint and burn; rewards settle at the old balance before it changes.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) revert AgentStakeNonTransferable();
        if (from != address(0)) _settle(from);
        if (to != address(0)) _settle(to);
        super._update(from, to, value);
    }

    function _settle(address account) private {
        uint256 pending = _pending(account);
        if (pending != 0) _accrued[account] += pending;
        _rewardPerTokenPaid[account] = _rewardPerToken;
    }

    function _pending(address account) private view returns (uint256) {
        return (balanceOf(account) * (_rewardPerToken - _rewardPerTokenPaid[account])) / PRECISION;
    }
}
