// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AgentTreasury} from "../../../src/AgentTreasury.sol";
import {IUniswapV2Router} from "../../../src/interfaces/IUniswapV2Router.sol";

interface IMintableToken {
    function mint(address to, uint256 amount) external;
}

/// @notice A keeper that sandwiches its own buyback: it buys the agent token with its own capital, calls
/// {AgentTreasury.buyback} with any `minOut` (0 included), and sells back in the same block. Records what
/// it extracted against the bound the floor promises: at most `amountIn × maxSlippageBps / 10000`.
contract SandwichKeeperHandler is Test {
    AgentTreasury internal treasury;
    IUniswapV2Router internal router;
    IERC20 internal payment;
    IERC20 internal agentToken;
    address internal minter;

    uint256 public ghostSandwiches; // attempts
    uint256 public ghostSandwichedBuybacks; // buybacks that ran inside a sandwich
    uint256 public ghostBoughtBack; // payment token those buybacks spent
    uint256 public ghostBurned; // agent tokens those buybacks burned
    uint256 public ghostProfitable; // sandwiches that made the keeper money
    uint256 public ghostMaxExtracted; // largest profit seen
    uint256 public ghostOverBound; // sandwiches whose profit exceeded the bound (must stay 0)
    uint256 public ghostBelowFloor; // buybacks that received less than the floor (must stay 0)

    constructor(AgentTreasury treasury_, address minter_) {
        treasury = treasury_;
        router = treasury_.router();
        payment = treasury_.paymentToken();
        agentToken = IERC20(address(treasury_.agentToken()));
        minter = minter_;
    }

    /// Sandwiches its buyback with a `minOut` of its choosing.
    function sandwich(uint256 frontRun, uint256 amountIn, uint256 minOut) external {
        _sandwich(frontRun, amountIn, _bound(minOut, 0, 1e30));
    }

    /// The review's attack: sandwiches its buyback with `minOut = 0`.
    function sandwichWithZeroMinOut(uint256 frontRun, uint256 amountIn) external {
        _sandwich(frontRun, amountIn, 0);
    }

    function _sandwich(uint256 frontRun, uint256 amountIn, uint256 minOut) private {
        amountIn = _bound(amountIn, 0, treasury.buybackBalance());
        if (amountIn == 0) return;
        frontRun = _bound(frontRun, 1e6, 1_000_000e6);
        address keeper = treasury.keeper();
        (uint256 floor,) = treasury.buybackFloor(amountIn);
        ++ghostSandwiches;

        vm.prank(minter);
        IMintableToken(address(payment)).mint(keeper, frontRun);
        uint256 cashBefore = payment.balanceOf(keeper);
        uint256 bought = _swap(keeper, payment, agentToken, frontRun);

        vm.prank(keeper);
        try treasury.buyback(amountIn, minOut, block.timestamp) returns (uint256 burned) {
            ++ghostSandwichedBuybacks;
            ghostBoughtBack += amountIn;
            ghostBurned += burned;
            if (burned < floor) ++ghostBelowFloor;
        } catch {}

        _swap(keeper, agentToken, payment, bought);
        uint256 cashAfter = payment.balanceOf(keeper);
        if (cashAfter > cashBefore) {
            uint256 profit = cashAfter - cashBefore;
            ++ghostProfitable;
            if (profit > ghostMaxExtracted) ghostMaxExtracted = profit;
            if (profit > (amountIn * treasury.maxSlippageBps()) / 10_000) ++ghostOverBound;
        }
    }

    function _swap(address account, IERC20 tokenIn, IERC20 tokenOut, uint256 amountIn)
        private
        returns (uint256 out)
    {
        address[] memory path = new address[](2);
        (path[0], path[1]) = (address(tokenIn), address(tokenOut));
        uint256 before = tokenOut.balanceOf(account);
        vm.startPrank(account);
        tokenIn.approve(address(router), amountIn);
        router.swapExactTokensForTokens(amountIn, 0, path, account, block.timestamp);
        vm.stopPrank();
        out = tokenOut.balanceOf(account) - before;
    }
}
