// Hire a skill with x402 from the browser: ask, get 402 with the price, sign an
// EIP-3009 transferWithAuthorization of exactly that price to the agent's treasury
// with the signer's eth_signTypedData_v4, send it in PAYMENT-SIGNATURE.

import { ApiError, enc } from "./api.js";

const AUTHORIZATION = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];
const DOMAIN = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

function nonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

async function post(url, input, payment) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  if (payment) headers["PAYMENT-SIGNATURE"] = payment;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ input }) });
  return { status: response.status, body: await response.json() };
}

// Returns {result, receipt}; throws ApiError with the runtime's reason when refused.
export async function hire(agent, skill, input, signer, maxPrice) {
  const url = `/agents/${enc(agent)}/skills/${enc(skill)}`;
  const offer = await post(url, input, null);
  if (offer.status !== 402) {
    throw new ApiError(offer.body.error || `HTTP ${offer.status}`, offer.status, offer.body.reason);
  }
  const terms = offer.body.accepts.find((a) => a.scheme === "exact");
  if (!terms) throw new ApiError("the agent offers no exact payment", 402, "no_exact");
  if (maxPrice !== undefined && BigInt(terms.amount) > maxPrice) {
    throw new ApiError("the price changed; look again before paying", 402, "price_changed");
  }
  const authorization = {
    from: signer.account,
    to: terms.payTo,
    value: String(terms.amount),
    validAfter: "0",
    validBefore: String(Math.floor(Date.now() / 1000) + terms.maxTimeoutSeconds),
    nonce: nonce(),
  };
  const typed = {
    types: { EIP712Domain: DOMAIN, TransferWithAuthorization: AUTHORIZATION },
    primaryType: "TransferWithAuthorization",
    domain: {
      name: terms.extra.name,
      version: terms.extra.version,
      chainId: Number(terms.network.split(":")[1]),
      verifyingContract: terms.asset,
    },
    message: authorization,
  };
  const signature = await signer.request({
    method: "eth_signTypedData_v4",
    params: [signer.account, JSON.stringify(typed)],
  });
  const payment = {
    x402Version: offer.body.x402Version,
    resource: offer.body.resource,
    accepted: terms,
    payload: { authorization, signature },
  };
  const paid = await post(url, input, base64(JSON.stringify(payment)));
  if (paid.status !== 200) {
    throw new ApiError(paid.body.error || `HTTP ${paid.status}`, paid.status, paid.body.reason);
  }
  return paid.body;
}
