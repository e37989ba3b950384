// The runtime's JSON API, and the few formatters every page uses.

export class ApiError extends Error {
  constructor(message, status, reason) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: text };
  }
  if (!response.ok) {
    throw new ApiError(body?.error || `HTTP ${response.status}`, response.status, body?.reason);
  }
  return body;
}

export async function getJSON(path) {
  return answer(await fetch(path, { headers: { accept: "application/json" } }));
}

export async function postJSON(path, body) {
  return answer(
    await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

export const enc = encodeURIComponent;

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

export function short(hex, head = 6, tail = 4) {
  if (!hex) return "";
  return hex.length > head + tail + 1 ? `${hex.slice(0, head)}…${hex.slice(-tail)}` : hex;
}

export function money(amount, symbol = "USDC") {
  const n = Number(amount).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 });
  return `${n} ${symbol}`;
}

export function tokens(amount) {
  return Number(amount).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

export function percent(bps) {
  return `${(bps / 100).toLocaleString("en-US", { maximumFractionDigits: 2 })}%`;
}

// A span of seconds in words: "9m 59s", "2d 3h".
export function span(seconds) {
  let rest = Math.abs(Math.round(seconds));
  const parts = [];
  for (const [size, unit] of [[86400, "d"], [3600, "h"], [60, "m"]]) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  parts.push(`${rest}s`);
  return parts.slice(0, 2).join(" ");
}

// When a chain-time moment is, against the chain's clock: "in 9m 59s" or "2m ago".
export function when(iso, chainNow) {
  const delta = (Date.parse(iso) - chainNow) / 1000;
  return delta > 0 ? `in ${span(delta)}` : `${span(delta)} ago`;
}

export function clock(iso) {
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

// Announce to screen readers and show briefly.
let fading = null;
export function say(text, kind = "info") {
  const status = document.getElementById("status");
  status.textContent = text;
  status.dataset.kind = kind;
  clearTimeout(fading);
  if (kind === "ok") fading = setTimeout(() => (status.textContent = ""), 6000);
}
