// The dashboard's shell: the deployment's config, who signs, the router, live events.
// Pages are ES modules loaded on first visit; each exports render(main, ctx).

import { esc, getJSON, say, short } from "./api.js";
import { connectWallet, devSigner } from "./wallet.js";

const PAGES = {
  agents: () => import("./agents.js"),
  holders: () => import("./holders.js"),
  money: () => import("./money.js"),
  operator: () => import("./operator.js"),
};

const ctx = {
  config: null,
  signer: null,
  listeners: [],
  // Subscribe the current page to a live event ("task", "config", "block", "ready",
  // "signer"); dropped when the page changes.
  on(kind, handler) {
    this.listeners.push({ kind, handler });
  },
  emit(kind, data) {
    for (const l of this.listeners) {
      if (l.kind === kind) {
        Promise.resolve(l.handler(data)).catch((error) => say(error.message, "error"));
      }
    }
  },
  requireSigner() {
    if (!this.signer) {
      throw new Error(
        this.config.local ? "pick an account to act as" : "connect a wallet to sign first",
      );
    }
    return this.signer;
  },
  signerName() {
    if (!this.signer) return "nobody yet";
    const dev = this.config.dev_accounts.find((a) => a.address === this.signer.account);
    return dev ? `dev:${dev.index} ${short(dev.address)}` : short(this.signer.account);
  },
};

function drawSigner() {
  const box = document.getElementById("signer");
  const { config } = ctx;
  const wallet = `<button id="connect" type="button" class="${config.local ? "quiet" : ""}">
      ${config.local ? "Use my wallet" : "Connect wallet"}</button>`;
  if (config.local && config.dev_accounts.length) {
    const options = config.dev_accounts
      .map((a) => `<option value="${esc(a.address)}">dev:${a.index} ${esc(short(a.address))}</option>`)
      .join("");
    box.innerHTML = `<label for="account">Act as</label>
      <select id="account" title="anvil's well-known accounts (embedded chain only)">${options}</select>
      ${wallet}`;
    const select = box.querySelector("#account");
    const choose = () => {
      ctx.signer = devSigner(select.value);
      ctx.emit("signer", ctx.signer);
    };
    select.addEventListener("change", choose);
    choose();
  } else {
    box.innerHTML = `${wallet}<span id="who" class="muted"></span>`;
  }
  box.querySelector("#connect").addEventListener("click", async () => {
    try {
      ctx.signer = await connectWallet(config.chain_id);
      const select = box.querySelector("#account");
      if (select) select.disabled = true;
      box.querySelector("#connect").textContent = `Wallet ${short(ctx.signer.account)}`;
      ctx.emit("signer", ctx.signer);
    } catch (error) {
      say(error.message, "error");
    }
  });
}

let rendered = null;

async function route() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0] || "agents";
  const page = PAGES[name] ? name : "agents";
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  ctx.listeners = [];
  const main = document.getElementById("main");
  const module = await PAGES[page]();
  document.title = `${page[0].toUpperCase()}${page.slice(1)} · agentdao`;
  main.dataset.page = page;
  try {
    await module.render(main, ctx);
  } catch (error) {
    main.insertAdjacentHTML("beforeend", `<p class="error" role="alert">${esc(error.message)}</p>`);
  }
  if (rendered !== null) main.focus({ preventScroll: true });
  rendered = page;
}

function listen() {
  const source = new EventSource("/events");
  for (const kind of ["ready", "task", "config", "block"]) {
    source.addEventListener(kind, (event) => ctx.emit(kind, JSON.parse(event.data)));
  }
  source.addEventListener("open", () => document.body.classList.add("live"));
  source.addEventListener("error", () => document.body.classList.remove("live"));
}

async function boot() {
  ctx.config = await getJSON("/dashboard/config");
  document.getElementById("chain").textContent =
    `${ctx.config.local ? "Embedded chain" : "Chain"} ${ctx.config.chain_id} · paid in ` +
    `${ctx.config.payment_token_symbol} ${short(ctx.config.payment_token)} · ` +
    (ctx.config.local ? "acting as anvil's public dev accounts" : "signing with your wallet");
  drawSigner();
  window.addEventListener("hashchange", route);
  await route();
  listen();
}

boot().catch((error) => say(`cannot reach the runtime: ${error.message}`, "error"));
