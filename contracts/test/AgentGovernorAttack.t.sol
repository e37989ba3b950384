// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {AgentGovernor} from "../src/AgentGovernor.sol";
import {AgentStake} from "../src/AgentStake.sol";
import {AgentTreasury} from "../src/AgentTreasury.sol";
import {AgentDeployment} from "./utils/AgentDeployment.sol";

/// A flash lender: the tokens must be back before `flashLoan` returns.
contract FlashLender {
    IERC20 internal immutable token;

    error FlashLenderNotRepaid(uint256 balance, uint256 owed);

    constructor(IERC20 token_) {
        token = token_;
    }

    function flashLoan(FlashBorrower borrower, uint256 amount) external {
        uint256 before = token.balanceOf(address(this));
        require(token.transfer(address(borrower), amount));
        borrower.onFlashLoan(amount);
        uint256 balance = token.balanceOf(address(this));
        if (balance < before) revert FlashLenderNotRepaid(balance, before);
    }
}

/// Borrows, stakes, unstakes and repays in one transaction.
contract FlashBorrower {
    AgentStake internal immutable stake;
    IERC20 internal immutable token;

    constructor(AgentStake stake_, IERC20 token_) {
        stake = stake_;
        token = token_;
    }

    function onFlashLoan(uint256 amount) external {
        token.approve(address(stake), amount);
        stake.stake(amount);
        stake.unstake(amount);
        require(token.transfer(msg.sender, amount)); // reverts: the tokens are cooling down
    }
}

/// The review's vote attacks, each as a test that now fails to attack.
contract AgentGovernorAttackTest is AgentDeployment {
    address internal lender = makeAddr("lender"); // lends tokens, never stakes
    address internal apathetic = makeAddr("apathetic"); // holds most of the supply, never stakes
    address internal small = makeAddr("small"); // 0.1 % holder, the only staker
    address internal attacker = makeAddr("attacker"); // holds no token

    uint256 internal constant LOAN = 250_000e18;
    uint256 internal constant RESERVE = 10_000e6;

    function setUp() public {
        vm.warp(1_700_000_000);
        address[] memory holders = new address[](3);
        (holders[0], holders[1], holders[2]) = (lender, apathetic, small);
        uint256[] memory amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (LOAN, 749_000e18, 1_000e18);
        _deployAgent(holders, amounts);
        address[] memory stakers = new address[](1);
        stakers[0] = small;
        _stakeAll(stakers);
        // a 10,000 USDC reserve to drain (the default split books 10 % of income to it)
        usdc.mint(address(treasury), RESERVE * 10);
        treasury.distribute();
        assertEq(treasury.reserveBalance(), RESERVE);
        vm.warp(block.timestamp + 1);
    }

    function _drainProposal()
        internal
        view
        returns (address[] memory t, uint256[] memory v, bytes[] memory c)
    {
        t = new address[](1);
        t[0] = address(treasury);
        v = new uint256[](1);
        c = new bytes[](1);
        c[0] = abi.encodeCall(AgentTreasury.spendReserve, (attacker, RESERVE));
    }

    /// Stake the loan, propose, let the snapshot pass, unstake, try to repay. Returns the proposal and
    /// when the loan's tokens can leave.
    function _rentVotes(uint256 loan, uint256 unstakeDelay) internal returns (uint256 id, uint48 readyAt) {
        vm.prank(lender);
        assertTrue(token.transfer(attacker, loan));
        vm.startPrank(attacker);
        token.approve(address(stake), loan);
        stake.stake(loan);
        vm.warp(block.timestamp + 1); // the proposal threshold reads the previous second
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _drainProposal();
        id = governor.propose(t, v, c, "drain");
        vm.warp(governor.proposalSnapshot(id) + 1 + unstakeDelay);
        readyAt = stake.unstake(loan);
        vm.stopPrank();
    }

    /// Review: borrowed 250k, staked, proposed, let the snapshot pass, unstaked and repaid within 3 s, then
    /// voted with the snapshot weight and drained the reserve. Now the tokens wait out the cooldown: the loan
    /// cannot be repaid until the vote (and the timelock after it) is over.
    function test_Attack_RentedVotesCannotRepayBeforeTheVoteEnds() public {
        (uint256 id, uint48 readyAt) = _rentVotes(LOAN, 0);
        // repaying now fails: the attacker holds nothing, and the stake will not pay early
        vm.startPrank(attacker);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, attacker, 0, LOAN)
        );
        token.transfer(lender, LOAN);
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeCoolingDown.selector, readyAt));
        stake.withdraw();
        governor.castVote(id, 1); // the snapshot weight still votes, with the lender's tokens at stake
        vm.stopPrank();
        // the tokens are held past the latest end of the vote plus the timelock delay
        uint256 latestEnd = governor.proposalSnapshot(id) + VOTING_PERIOD + LATE_QUORUM_EXTENSION;
        assertGe(governor.proposalDeadline(id), governor.proposalSnapshot(id) + VOTING_PERIOD);
        assertGt(readyAt, latestEnd + TIMELOCK_DELAY);
        vm.warp(governor.proposalDeadline(id));
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeCoolingDown.selector, readyAt));
        vm.prank(attacker);
        stake.withdraw();
        assertEq(token.balanceOf(lender), 0, "repaid before the vote ended");
        // only once the vote is over can the loan come back
        vm.warp(readyAt);
        assertTrue(governor.state(id) != IGovernor.ProposalState.Active);
        vm.startPrank(attacker);
        stake.withdraw();
        assertTrue(token.transfer(lender, LOAN));
        vm.stopPrank();
    }

    function testFuzz_Attack_RentedVotesCannotRepayBeforeTheVoteEnds(uint256 loan, uint256 unstakeDelay)
        public
    {
        loan = bound(loan, PROPOSAL_THRESHOLD, LOAN);
        unstakeDelay = bound(unstakeDelay, 0, VOTING_PERIOD - 2); // it still votes after unstaking
        (uint256 id, uint48 readyAt) = _rentVotes(loan, unstakeDelay);
        vm.prank(attacker);
        governor.castVote(id, 1);
        // whenever it unstakes after the snapshot its weight was counted at, the tokens outlast the vote
        assertGt(readyAt, governor.proposalDeadline(id) + TIMELOCK_DELAY);
        vm.warp(governor.proposalDeadline(id));
        vm.expectRevert(abi.encodeWithSelector(AgentStake.AgentStakeCoolingDown.selector, readyAt));
        vm.prank(attacker);
        stake.withdraw();
    }

    /// A loan that must come back in the same transaction cannot even be staked and unstaked.
    function test_Attack_FlashLoanCannotStakeAndRepay() public {
        FlashLender flash = new FlashLender(IERC20(address(token)));
        vm.prank(lender);
        assertTrue(token.transfer(address(flash), LOAN));
        FlashBorrower borrower = new FlashBorrower(stake, IERC20(address(token)));
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, address(borrower), 0, LOAN)
        );
        flash.flashLoan(borrower, LOAN);
        assertEq(stake.totalSupply(), 1_000e18);
    }

    function testFuzz_Attack_FlashLoanCannotStakeAndRepay(uint256 loan) public {
        loan = bound(loan, 1, LOAN);
        FlashLender flash = new FlashLender(IERC20(address(token)));
        vm.prank(lender);
        assertTrue(token.transfer(address(flash), LOAN));
        FlashBorrower borrower = new FlashBorrower(stake, IERC20(address(token)));
        vm.expectRevert();
        flash.flashLoan(borrower, loan);
        assertEq(token.balanceOf(address(flash)), LOAN);
    }

    /// Review: the guardian's pause did not stop the timelock and nobody but the governor could cancel. A drain
    /// that passed (here on rented votes) waits in the timelock, where the guardian cancels it; nobody else can.
    function test_Attack_GuardianCancelsAQueuedDrain() public {
        (uint256 id,) = _rentVotes(LOAN, 0);
        vm.prank(attacker);
        governor.castVote(id, 1);
        vm.warp(governor.proposalDeadline(id) + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded));
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _drainProposal();
        bytes32 descriptionHash = keccak256("drain");
        governor.queue(t, v, c, descriptionHash);
        // GovernorTimelockControl's salt for the operation
        bytes32 salt = bytes20(address(governor)) ^ descriptionHash;
        bytes32 op = timelock.hashOperationBatch(t, v, c, 0, salt);
        assertTrue(timelock.isOperationPending(op));
        vm.prank(attacker);
        vm.expectRevert();
        timelock.cancel(op);
        vm.prank(guardian);
        timelock.cancel(op);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));
        vm.warp(block.timestamp + TIMELOCK_DELAY + 1);
        vm.expectRevert();
        governor.execute(t, v, c, descriptionHash);
        assertEq(treasury.reserveBalance(), RESERVE);
    }

    /// Review: a 0.1 % holder passed a proposal alone when few had staked (quorum was 40 tokens, 4 % of the
    /// stake). The quorum is now 4 % of the token's supply, fixed at creation: 40,000 tokens.
    function test_Attack_SmallHolderCannotPassAloneWhenFewStake() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _drainProposal();
        vm.prank(small);
        uint256 id = governor.propose(t, v, c, "drain");
        assertEq(governor.proposalQuorum(id), 40_000e18);
        vm.warp(governor.proposalSnapshot(id) + 1);
        vm.prank(small);
        governor.castVote(id, 1);
        vm.warp(governor.proposalDeadline(id) + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Defeated));
        vm.expectRevert();
        governor.queue(t, v, c, keccak256("drain"));
        assertEq(treasury.reserveBalance(), RESERVE);
    }

    function testFuzz_Attack_SmallHolderCannotPassAloneWhenFewStake(uint256 share) public {
        // any holder below the quorum share (4 %) of the supply, alone
        share = bound(share, PROPOSAL_THRESHOLD, 40_000e18 - 1);
        vm.prank(apathetic);
        assertTrue(token.transfer(attacker, share));
        vm.startPrank(attacker);
        token.approve(address(stake), share);
        stake.stake(share);
        vm.warp(block.timestamp + 1);
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _drainProposal();
        uint256 id = governor.propose(t, v, c, "drain");
        vm.warp(governor.proposalSnapshot(id) + 1);
        governor.castVote(id, 1);
        vm.stopPrank();
        vm.warp(governor.proposalDeadline(id) + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Defeated));
    }

    /// Burning supply after a proposal is created (a buyback) cannot lower that proposal's quorum.
    function test_Attack_BurnDuringVoteCannotLowerQuorum() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _drainProposal();
        vm.prank(small);
        uint256 id = governor.propose(t, v, c, "drain");
        vm.prank(apathetic);
        token.burn(740_000e18); // supply now 260k: a live quorum would be 10.4k
        assertEq(governor.proposalQuorum(id), 40_000e18);
        vm.warp(governor.proposalSnapshot(id) + 1);
        vm.prank(small);
        governor.castVote(id, 1);
        vm.warp(governor.proposalDeadline(id) + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Defeated));
    }
}
