// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStakeGovernance} from "./interfaces/IStakeGovernance.sol";

/// @title AgentStake
/// @notice Stake an agent's token for non-transferable voting shares (ERC20Votes, timestamp clock) that earn
/// the stakers' share of the agent's revenue in the reward token.
/// @dev Two rules keep short-lived capital from taking what holders own:
/// - Unstaking burns the shares at once (votes and earnings stop) but the tokens wait out a cooldown read live
///   from the governor ({IStakeGovernance-unstakeCooldown}): a stake counted at a proposal's snapshot cannot
///   be withdrawn, so a loan cannot be repaid, before that proposal's vote and timelock are over.
/// - Each notified reward streams over {rewardDuration} (Synthetix-style), so a stake earns by stake × time:
///   one held S seconds around a distribution earns at most about S / rewardDuration of it. What streams while
///   nobody stakes is kept and streamed again by the next {notify}.
/// `token` must be a plain ERC20 (no fee on transfer): shares are minted 1:1 for the amount pulled.
contract AgentStake is ERC20Votes, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Fixed-point scale of {rewardPerToken} and {rewardRate}.
    uint256 public constant PRECISION = 1e36;
    /// @notice Shortest {rewardDuration} the owner may set.
    uint48 public constant MIN_REWARD_DURATION = 1 hours;
    /// @notice Longest {rewardDuration} the owner may set.
    uint48 public constant MAX_REWARD_DURATION = 365 days;

    /// @notice The staked token (the agent's AgentToken).
    IERC20 public immutable token;
    /// @notice The token rewards are paid in (the payment token).
    IERC20 public immutable rewardToken;
    /// @dev The deployer, the only account that may {bind}, once.
    address private immutable _binder;

    IStakeGovernance private _governor;
    // The notifier and the duration are read together by every notify.
    address private _notifier;
    uint48 private _rewardDuration;
    // One slot: claim writes the time and the claimed total, and the second write to a dirty slot is cheap.
    uint48 private _lastUpdateTime;
    uint48 private _periodFinish;
    uint160 private _totalClaimed;
    /// @dev Reward per second, scaled by PRECISION.
    uint256 private _rewardRate;
    uint256 private _rewardPerTokenStored;
    /// @dev What streamed while nobody staked, scaled by PRECISION; the next notify streams it again.
    uint256 private _unstreamed;
    uint256 private _totalNotified;
    uint256 private _totalCoolingDown;
    mapping(address account => uint256) private _rewardPerTokenPaid;
    mapping(address account => uint256) private _accrued;

    struct Withdrawal {
        uint208 amount;
        uint48 readyAt;
    }

    mapping(address account => Withdrawal) private _withdrawals;

    /// @notice `amount` of `token` was staked, its shares minted to `account`.
    event Staked(address indexed account, uint256 amount);
    /// @notice `account` burned `amount` shares; the tokens can be withdrawn from `readyAt`.
    event UnstakeRequested(address indexed account, uint256 amount, uint48 readyAt);
    /// @notice `account` withdrew `amount` of cooled-down tokens.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice `amount` was added to the stream, which now pays `rewardRate` / PRECISION per second until
    /// `periodFinish`.
    event RewardNotified(uint256 amount, uint256 rewardRate, uint48 periodFinish);
    /// @notice `account` was paid `amount` of its rewards.
    event RewardClaimed(address indexed account, uint256 amount);
    /// @notice The duration of the streams started by later notifies changed.
    event RewardDurationChanged(uint48 oldDuration, uint48 newDuration);
    /// @notice The owner recovered `amount` of `token` sent here by mistake.
    event Swept(IERC20 indexed token, address indexed to, uint256 amount);
    /// @notice The deployer bound the governance whose cooldown applies and the notifier of rewards.
    event Bound(IStakeGovernance indexed governor, address indexed notifier);

    /// @notice Shares only mint and burn.
    error AgentStakeNonTransferable();
    /// @notice Staking or unstaking nothing.
    error AgentStakeZeroAmount();
    /// @notice A required address was zero.
    error AgentStakeZeroAddress();
    /// @notice The staked and the reward token must differ: the reward balance must never include the stake.
    error AgentStakeSameToken();
    /// @notice {bind} called by `account`, not the deployer.
    error AgentStakeNotBinder(address account);
    /// @notice {bind} called a second time.
    error AgentStakeAlreadyBound();
    /// @notice The call needs the governor and notifier, and {bind} has not run yet.
    error AgentStakeNotBound();
    /// @notice {notify} called by `account`, not the notifier.
    error AgentStakeNotNotifier(address account);
    /// @notice {notify} of `amount` while only `available` of the reward token is held beyond what is owed.
    error AgentStakeRewardNotFunded(uint256 amount, uint256 available);
    /// @notice `duration` is outside [`min`, `max`].
    error AgentStakeRewardDurationOutOfRange(uint256 duration, uint256 min, uint256 max);
    /// @notice Nothing is waiting to be withdrawn by the caller.
    error AgentStakeNothingToWithdraw();
    /// @notice The caller's withdrawal is still cooling down until `readyAt`.
    error AgentStakeCoolingDown(uint48 readyAt);
    /// @notice Ownership cannot be renounced: governance would lose the stake's settings for good.
    error AgentStakeCannotRenounce();

    /// @param token_ The agent's token, staked.
    /// @param rewardToken_ The token rewards are paid in.
    /// @param name_ Name of the shares (also the EIP-712 domain name).
    /// @param symbol_ Symbol of the shares.
    /// @param owner_ The agent's timelock: sets {rewardDuration} and sweeps.
    /// @param rewardDuration_ Seconds each notified reward streams over.
    constructor(
        IERC20 token_,
        IERC20 rewardToken_,
        string memory name_,
        string memory symbol_,
        address owner_,
        uint48 rewardDuration_
    ) ERC20(name_, symbol_) EIP712(name_, "1") Ownable(owner_) {
        if (address(token_) == address(0) || address(rewardToken_) == address(0)) {
            revert AgentStakeZeroAddress();
        }
        if (address(token_) == address(rewardToken_)) revert AgentStakeSameToken();
        token = token_;
        rewardToken = rewardToken_;
        _binder = msg.sender;
        _setRewardDuration(rewardDuration_);
    }

    /// @notice Binds the governance whose {IStakeGovernance-unstakeCooldown} applies and the only account
    /// that may {notify} (the treasury). Once, by the deployer.
    function bind(IStakeGovernance governor_, address notifier_) external {
        if (msg.sender != _binder) revert AgentStakeNotBinder(msg.sender);
        if (address(_governor) != address(0)) revert AgentStakeAlreadyBound();
        if (address(governor_) == address(0) || notifier_ == address(0)) revert AgentStakeZeroAddress();
        _governor = governor_;
        _notifier = notifier_;
        emit Bound(governor_, notifier_);
    }

    /// @notice Stakes `amount` of `token` from the caller and mints as many shares to the caller.
    /// @dev Delegates the caller's votes to itself if it has never delegated.
    function stake(uint256 amount) external nonReentrant {
        _stake(msg.sender, amount);
    }

    /// @notice Stakes `amount` of `token` from the caller and mints the shares to `account`.
    /// @dev Delegates `account`'s votes to itself if it has never delegated. A gift cannot hold anyone in:
    /// it adds shares and touches no withdrawal.
    function stakeFor(address account, uint256 amount) external nonReentrant {
        if (account == address(0)) revert AgentStakeZeroAddress();
        _stake(account, amount);
    }

    /// @notice Burns `amount` of the caller's shares now (their votes and earnings stop) and starts the
    /// cooldown of the tokens; {withdraw} pays them from `readyAt`. Accrued rewards stay claimable.
    /// @dev Adds to any pending withdrawal; the whole of it is ready at the later of its old `readyAt` and
    /// now + {cooldown}.
    /// @return readyAt When the caller's pending withdrawal can be withdrawn.
    function unstake(uint256 amount) external nonReentrant returns (uint48 readyAt) {
        if (amount == 0) revert AgentStakeZeroAmount();
        uint256 wait = _cooldown();
        _burn(msg.sender, amount);
        Withdrawal memory w = _withdrawals[msg.sender];
        readyAt = SafeCast.toUint48(block.timestamp + wait);
        if (w.readyAt > readyAt) readyAt = w.readyAt;
        // shares never exceed ERC20Votes' uint208 supply cap, so neither does what they leave behind
        _withdrawals[msg.sender] = Withdrawal(w.amount + uint208(amount), readyAt);
        _totalCoolingDown += amount;
        emit UnstakeRequested(msg.sender, amount, readyAt);
    }

    /// @notice Pays the caller its cooled-down tokens.
    /// @return amount The amount of `token` paid.
    function withdraw() external nonReentrant returns (uint256 amount) {
        Withdrawal memory w = _withdrawals[msg.sender];
        amount = w.amount;
        if (amount == 0) revert AgentStakeNothingToWithdraw();
        if (block.timestamp < w.readyAt) revert AgentStakeCoolingDown(w.readyAt);
        delete _withdrawals[msg.sender];
        _totalCoolingDown -= amount;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Pays the caller all its accrued rewards.
    /// @return amount The reward-token amount paid (0 if nothing was owed).
    function claim() external nonReentrant returns (uint256 amount) {
        uint256 perToken = _updateReward();
        // Settles and pays in one step, so the accrued slot is never written only to be cleared.
        uint256 accrued = _accrued[msg.sender];
        amount = accrued + _earnedSince(msg.sender, perToken);
        _rewardPerTokenPaid[msg.sender] = perToken;
        if (amount == 0) return 0;
        if (accrued != 0) _accrued[msg.sender] = 0;
        _totalClaimed += SafeCast.toUint160(amount);
        rewardToken.safeTransfer(msg.sender, amount);
        emit RewardClaimed(msg.sender, amount);
    }

    /// @notice Streams `amount` (already transferred here), plus what is left of the current stream and what
    /// streamed while nobody staked, over {rewardDuration} from now. Notifier (the treasury) only.
    function notify(uint256 amount) external nonReentrant {
        address notifier_ = _notifier;
        if (notifier_ == address(0)) revert AgentStakeNotBound();
        if (msg.sender != notifier_) revert AgentStakeNotNotifier(msg.sender);
        _updateReward();
        uint256 claimed = _totalClaimed;
        uint256 notified = _totalNotified + amount;
        // never promise more than is held: a short transfer must fail here, not at the last claim
        uint256 held = rewardToken.balanceOf(address(this)) + claimed;
        if (held < notified) {
            uint256 owedBefore = _totalNotified;
            revert AgentStakeRewardNotFunded(amount, held > owedBefore ? held - owedBefore : 0);
        }
        _totalNotified = notified;

        uint256 finish = _periodFinish;
        uint256 scaled = amount * PRECISION + _unstreamed;
        if (block.timestamp < finish) scaled += (finish - block.timestamp) * _rewardRate;
        if (_unstreamed != 0) _unstreamed = 0;
        uint48 duration = _rewardDuration;
        // flooring leaves less than `duration` units of 1e-36 unstreamed: dust that stays here
        uint256 rate = scaled / duration;
        _rewardRate = rate;
        uint48 periodFinish_ = uint48(block.timestamp) + duration;
        _periodFinish = periodFinish_;
        emit RewardNotified(amount, rate, periodFinish_);
    }

    /// @notice Sets how long the streams started by later notifies last. Owner (timelock) only.
    function setRewardDuration(uint48 duration) external onlyOwner {
        _setRewardDuration(duration);
    }

    /// @notice Sends to `to` what this contract holds of `token_` by mistake. Owner (timelock) only. Of the
    /// staked token only the excess over the stakes and the pending withdrawals; of the reward token only the
    /// excess over what was notified and not yet claimed (streaming, claimable, or streamed while nobody
    /// staked and waiting for the next notify): nothing owed to stakers can be swept.
    /// @return amount The amount sent.
    function sweep(IERC20 token_, address to) external onlyOwner nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert AgentStakeZeroAddress();
        amount = token_.balanceOf(address(this));
        if (token_ == token) {
            amount -= totalSupply() + _totalCoolingDown;
        } else if (token_ == rewardToken) {
            // notify refuses to promise more than is held, so the balance always covers what is owed
            amount -= _totalNotified - _totalClaimed;
        }
        if (amount == 0) return 0;
        token_.safeTransfer(to, amount);
        emit Swept(token_, to, amount);
    }

    /// @notice Always reverts: the stake's owner must stay the agent's governance.
    function renounceOwnership() public pure override {
        revert AgentStakeCannotRenounce();
    }

    /// @notice The pending withdrawal of `account` and when it can be withdrawn.
    function pendingWithdrawal(address account) external view returns (uint256 amount, uint48 readyAt) {
        Withdrawal memory w = _withdrawals[account];
        return (w.amount, w.readyAt);
    }

    /// @notice Seconds an unstaked amount waits now, read live from the governor.
    function cooldown() external view returns (uint256) {
        return _cooldown();
    }

    /// @notice The reward-token amount `account` could claim now.
    function claimable(address account) external view returns (uint256) {
        return _accrued[account] + _earnedSince(account, rewardPerToken());
    }

    /// @notice Cumulative rewards per share since deployment, up to now, scaled by {PRECISION}.
    function rewardPerToken() public view returns (uint256 perToken) {
        (perToken,) = _streamed();
    }

    /// @notice The governance whose cooldown applies (zero until bound).
    function governor() external view returns (IStakeGovernance) {
        return _governor;
    }

    /// @notice The only account that may {notify} (zero until bound).
    function notifier() external view returns (address) {
        return _notifier;
    }

    /// @notice Seconds each notified reward streams over, from the next notify.
    function rewardDuration() external view returns (uint48) {
        return _rewardDuration;
    }

    /// @notice Reward per second of the current stream, scaled by {PRECISION}.
    function rewardRate() external view returns (uint256) {
        return _rewardRate;
    }

    /// @notice When the current stream ends.
    function periodFinish() external view returns (uint48) {
        return _periodFinish;
    }

    /// @notice Total reward-token amount ever notified.
    function totalNotified() external view returns (uint256) {
        return _totalNotified;
    }

    /// @notice Total reward-token amount ever paid by {claim}.
    function totalClaimed() external view returns (uint256) {
        return _totalClaimed;
    }

    /// @notice Staked tokens whose shares were burned and that wait to be withdrawn.
    function totalCoolingDown() external view returns (uint256) {
        return _totalCoolingDown;
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
        _mint(account, amount);
        emit Staked(account, amount);
    }

    function _setRewardDuration(uint48 duration) private {
        if (duration < MIN_REWARD_DURATION || duration > MAX_REWARD_DURATION) {
            revert AgentStakeRewardDurationOutOfRange(duration, MIN_REWARD_DURATION, MAX_REWARD_DURATION);
        }
        uint48 old = _rewardDuration;
        _rewardDuration = duration;
        emit RewardDurationChanged(old, duration);
    }

    function _cooldown() private view returns (uint256) {
        IStakeGovernance governor_ = _governor;
        if (address(governor_) == address(0)) revert AgentStakeNotBound();
        return governor_.unstakeCooldown();
    }

    /// @dev Shares only mint and burn; rewards settle at the old balance before it changes.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) revert AgentStakeNonTransferable();
        uint256 perToken = _updateReward();
        if (from != address(0)) _settle(from, perToken);
        if (to != address(0)) _settle(to, perToken);
        super._update(from, to, value);
    }

    /// @dev Brings the stream up to now.
    function _updateReward() private returns (uint256 perToken) {
        uint256 idle;
        (perToken, idle) = _streamed();
        if (_lastUpdateTime == block.timestamp) return perToken;
        if (idle != 0) _unstreamed += idle;
        else _rewardPerTokenStored = perToken;
        _lastUpdateTime = uint48(block.timestamp);
    }

    /// @dev The accumulator brought up to now, and what streamed since the last update while nobody staked.
    function _streamed() private view returns (uint256 perToken, uint256 idle) {
        perToken = _rewardPerTokenStored;
        uint256 last = _lastUpdateTime;
        uint256 until = _periodFinish;
        if (block.timestamp < until) until = block.timestamp;
        if (until <= last) return (perToken, 0);
        uint256 streamed = _rewardRate * (until - last);
        uint256 supply = totalSupply();
        if (supply == 0) return (perToken, streamed);
        perToken += streamed / supply;
    }

    function _settle(address account, uint256 perToken) private {
        uint256 earned = _earnedSince(account, perToken);
        if (earned != 0) _accrued[account] += earned;
        _rewardPerTokenPaid[account] = perToken;
    }

    function _earnedSince(address account, uint256 perToken) private view returns (uint256) {
        return (balanceOf(account) * (perToken - _rewardPerTokenPaid[account])) / PRECISION;
    }
}
