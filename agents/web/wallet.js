// Who signs: an EIP-1193 provider, whichever it is.
//
// - On the embedded chain (config.local) the page may act as one of anvil's dev
//   accounts: DevProvider passes each call to POST /dashboard/chain, and anvil (which
//   holds those public keys) signs. The page never sees a key.
// - Anywhere, the visitor's injected wallet (window.ethereum) signs. Off the local
//   chain it is the only signer: the server offers no dev account and refuses the door.
//
// Everything the page signs goes through request({method, params}): eth_sendTransaction
// for governance and staking (calldata prepared and checked by the API), and
// eth_signTypedData_v4 for x402 payments (an EIP-3009 authorization).

import { ApiError, postJSON } from "./api.js";

class DevProvider {
  constructor(account) {
    this.account = account;
    this.kind = "dev";
  }

  async request({ method, params = [] }) {
    const answer = await postJSON("/dashboard/chain", { jsonrpc: "2.0", id: 1, method, params });
    if (answer.error) throw new ApiError(answer.error.message, 400, "rpc_error");
    return answer.result;
  }
}

class InjectedProvider {
  constructor(ethereum, account) {
    this.ethereum = ethereum;
    this.account = account;
    this.kind = "wallet";
  }

  request(call) {
    return this.ethereum.request(call);
  }
}

export function devSigner(account) {
  return new DevProvider(account);
}

// Ask the injected wallet for an account on the runtime's chain.
export async function connectWallet(chainId) {
  const ethereum = window.ethereum;
  if (!ethereum) throw new Error("no wallet found: install an EIP-1193 wallet to sign");
  const [account] = await ethereum.request({ method: "eth_requestAccounts" });
  const current = parseInt(await ethereum.request({ method: "eth_chainId" }), 16);
  if (current !== chainId) {
    await ethereum.request({
      method: "wallet_switchEthereumChain",
      params: [{ chainId: `0x${chainId.toString(16)}` }],
    });
  }
  return new InjectedProvider(ethereum, account);
}

async function receipt(signer, hash) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const found = await signer.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  throw new Error(`transaction ${hash} not mined after 3 minutes`);
}

// Send a prepared step's transactions in order, each once the last one landed.
export async function sendAll(signer, prepared, progress = () => {}) {
  const hashes = [];
  for (const [index, tx] of prepared.transactions.entries()) {
    progress(`${index + 1}/${prepared.transactions.length}: ${tx.what}…`);
    const hash = await signer.request({
      method: "eth_sendTransaction",
      params: [{ from: signer.account, to: tx.to, data: tx.data }],
    });
    const mined = await receipt(signer, hash);
    if (mined.status !== "0x1") throw new Error(`${tx.what}: the transaction reverted (${hash})`);
    hashes.push(hash);
  }
  return hashes;
}
