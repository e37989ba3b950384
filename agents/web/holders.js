// Holders: stake, unstake, withdraw, claim; proposals with state, tallies, quorum and
// deadlines in words; a config-change proposal shown as a diff before it is signed;
// vote, queue, execute; on the embedded chain, the chain's wait.

import { enc, esc, getJSON, money, postJSON, say, short, tokens, when } from "./api.js";
import { sendAll } from "./wallet.js";

const SHARES = ["stakers", "operator", "buyback", "reserve"];
const WAITS = {
  pending: "Advance the embedded chain to the vote",
  active: "Advance the embedded chain past the vote",
  queued: "Advance the embedded chain past the timelock",
};

function title(description) {
  return description.trim().split("\n")[0] || "(no description)";
}

function tally(p) {
  const total = Number(p.votes_for) + Number(p.votes_against) + Number(p.votes_abstain);
  const scale = Math.max(total, Number(p.quorum), 1);
  const width = (v) => `${((Number(v) / scale) * 100).toFixed(2)}%`;
  return `<div class="tally" aria-hidden="true">
      <span class="for" style="width:${width(p.votes_for)}"></span>
      <span class="against" style="width:${width(p.votes_against)}"></span>
      <span class="abstain" style="width:${width(p.votes_abstain)}"></span>
      <span class="quorum" style="left:${width(p.quorum)}" title="quorum"></span>
    </div>`;
}

function times(p, now) {
  const parts = [];
  const opens = Date.parse(p.voting_opens);
  parts.push(opens > now ? `voting opens ${when(p.voting_opens, now)}` : `voting opened ${when(p.voting_opens, now)}`);
  const closes = Date.parse(p.voting_closes);
  parts.push(closes > now ? `closes ${when(p.voting_closes, now)}` : `closed ${when(p.voting_closes, now)}`);
  if (p.executable_at) {
    parts.push(`${Date.parse(p.executable_at) > now ? "executable" : "executable since"} ${when(p.executable_at, now)}`);
  }
  return parts.join(" · ");
}

function proposalCard(p, now, local) {
  const actions = [];
  if (p.state === "active") {
    actions.push(
      `<button type="button" data-act="vote" data-support="for">Vote for</button>`,
      `<button type="button" data-act="vote" data-support="against" class="quiet">Vote against</button>`,
      `<button type="button" data-act="vote" data-support="abstain" class="quiet">Abstain</button>`,
    );
  }
  if (p.state === "succeeded") actions.push(`<button type="button" data-act="queue">Queue</button>`);
  if (p.state === "queued" && !p.waits_until) actions.push(`<button type="button" data-act="execute">Execute</button>`);
  if (local && p.waits_until && WAITS[p.state]) {
    actions.push(`<button type="button" data-act="wait" class="quiet">${WAITS[p.state]}</button>`);
  }
  return `<article class="proposal card" data-id="${esc(p.id)}" data-state="${esc(p.state)}"
      aria-labelledby="p-${esc(p.id)}">
    <header class="card-head"><h3 id="p-${esc(p.id)}">${esc(title(p.description))}</h3>
      <span class="badge state-${esc(p.state)}">${esc(p.state)}</span></header>
    <ul class="changes">${p.changes.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>
    ${tally(p)}
    <p class="votes">For ${tokens(p.votes_for)} · against ${tokens(p.votes_against)} · abstain
      ${tokens(p.votes_abstain)} · quorum ${tokens(p.quorum)} (${p.quorum_reached ? "reached" : "not reached"})</p>
    <p class="times muted">${esc(times(p, now))}</p>
    <p class="muted">Proposal <code title="${esc(p.id)}">${esc(short(p.id, 8, 4))}</code> by
      <code>${esc(short(p.proposer))}</code></p>
    <div class="actions">${actions.join("")}</div>
  </article>`;
}

function field(id, labelText, value, attrs = "") {
  return `<div class="field"><label for="${id}">${esc(labelText)}</label>
    <input id="${id}" value="${esc(value)}" data-original="${esc(value)}" ${attrs}></div>`;
}

function proposalForm(agent) {
  const decimals = agent.payment_token_decimals;
  const prices = agent.skills
    .map((s) => field(`set-price-${esc(s.name)}`, `${s.name} price (${agent.payment_token_symbol})`, s.price, `data-key="price.${esc(s.name)}" inputmode="decimal" data-number`))
    .join("");
  const split = SHARES.map((share) =>
    field(`set-split-${share}`, `${share} share (%)`, agent.split_bps[share] / 100, `data-key="split.${share}" inputmode="decimal" data-number`),
  ).join("");
  return `<fieldset><legend>Prices</legend><div class="grid">${prices}</div></fieldset>
    <fieldset><legend>Model</legend><div class="grid">
      ${field("set-model", "Model (provider:model)", agent.model, 'data-key="model"')}
      ${field("set-temperature", "Temperature (0 to 2)", agent.temperature, 'data-key="temperature" inputmode="decimal" data-number')}
    </div>
      <div class="field"><label for="set-prompt">System prompt</label>
      <textarea id="set-prompt" rows="4" data-key="system_prompt" data-original="${esc(agent.system_prompt)}">${esc(agent.system_prompt)}</textarea></div>
    </fieldset>
    <fieldset><legend>Revenue split (sums to 100%)</legend><div class="grid">${split}</div></fieldset>
    <fieldset><legend>Budget</legend>
      ${field("set-budget", `Hire budget (${agent.payment_token_symbol} a day)`, agent.hire_budget / 10 ** decimals, 'data-key="hire_budget" inputmode="decimal" data-number')}
    </fieldset>
    <div class="field"><label for="set-description">Why (voters read this)</label>
      <textarea id="set-description" rows="2" required></textarea></div>
    <div class="actions"><button type="submit" id="review">Review changes</button></div>
    <div id="diff" aria-live="polite"></div>`;
}

function changed(form) {
  const changes = {};
  const rows = [];
  for (const input of form.querySelectorAll("[data-key]")) {
    const now = input.value.trim();
    const before = input.dataset.original;
    const same = "number" in input.dataset ? Number(now) === Number(before) : now === before.trim();
    if (same) continue;
    changes[input.dataset.key] = now;
    rows.push({ label: form.querySelector(`label[for="${input.id}"]`).textContent, before, now });
  }
  return { changes, rows };
}

export async function render(main, ctx) {
  const names = ctx.config.agents;
  main.innerHTML = `<h1>Holders</h1>
    <p class="lead">Stake an agent's token to vote on its configuration and earn its stakers' share.</p>
    <div class="toolbar"><label for="holder-agent">Agent</label>
      <select id="holder-agent">${names.map((n) => `<option>${esc(n)}</option>`).join("")}</select></div>
    <div class="columns">
      <section class="card" aria-labelledby="position-h"><h2 id="position-h">Your position</h2>
        <div id="position"></div>
        <form id="stake-form" class="inline-form"><label for="stake-amount">Tokens to stake</label>
          <input id="stake-amount" inputmode="decimal" required placeholder="1000">
          <button type="submit">Stake</button></form>
        <form id="unstake-form" class="inline-form"><label for="unstake-amount">Tokens to unstake (empty: all)</label>
          <input id="unstake-amount" inputmode="decimal" placeholder="all">
          <button type="submit" class="quiet">Unstake</button></form>
        <div class="actions"><button type="button" id="claim">Claim earnings</button>
          <button type="button" id="withdraw" class="quiet">Withdraw unstaked</button></div>
      </section>
      <section class="card" aria-labelledby="propose-h"><h2 id="propose-h">Propose a config change</h2>
        <form id="propose-form"></form></section>
    </div>
    <section aria-labelledby="proposals-h"><h2 id="proposals-h">Proposals</h2><div id="proposals"></div></section>`;

  const select = main.querySelector("#holder-agent");
  const agent = () => select.value;
  const account = () => ctx.signer?.account;

  async function drawPosition() {
    const box = main.querySelector("#position");
    if (!account()) {
      put(box, `<p class="muted">${ctx.config.local ? "Pick an account to act as." : "Connect a wallet."}</p>`);
      return;
    }
    const h = await getJSON(`/agents/${enc(agent())}/holders/${account()}`);
    const symbol = ctx.config.payment_token_symbol;
    put(box, `<dl class="facts position" data-staked="${esc(h.staked)}">
      <dt>Account</dt><dd><code>${esc(ctx.signerName())}</code></dd>
      <dt>In wallet</dt><dd>${tokens(h.tokens)} tokens · ${esc(money(h.payment_balance, symbol))}</dd>
      <dt>Staked</dt><dd class="staked">${tokens(h.staked)} tokens (${tokens(h.votes)} votes now)</dd>
      <dt>Claimable</dt><dd>${esc(money(h.claimable, symbol))}</dd>
      ${Number(h.cooling_down) ? `<dt>Cooling down</dt><dd>${tokens(h.cooling_down)} tokens, withdrawable ${esc(new Date(h.withdrawable_at).toLocaleString())}</dd>` : ""}
    </dl>`);
  }

  async function drawProposals() {
    const doc = await getJSON(`/agents/${enc(agent())}/proposals`);
    const now = Date.parse(doc.now);
    const box = main.querySelector("#proposals");
    put(
      box,
      doc.proposals.length
        ? doc.proposals.map((p) => proposalCard(p, now, ctx.config.local)).join("")
        : `<p class="muted">No proposals yet. A proposer needs ${tokens(doc.proposal_threshold)} staked tokens.</p>`,
    );
  }

  let prepared = null;
  async function drawForm() {
    const live = await getJSON(`/agents/${enc(agent())}`);
    const form = main.querySelector("#propose-form");
    form.innerHTML = proposalForm(live);
    prepared = null;
  }
  main.querySelector("#propose-form").addEventListener("input", (event) => {
    // Edited after the review: the reviewed transaction no longer matches the form.
    if (event.target.closest("#diff")) return;
    prepared = null;
    const submit = main.querySelector("#submit-proposal");
    if (submit) submit.disabled = true;
  });

  // Redraw only what changed, so a keyboard user's focus stays where it was.
  function put(box, html) {
    if (box.dataset.drawn !== html) {
      box.innerHTML = html;
      box.dataset.drawn = html;
    }
  }

  // One step: ask the API for the checked transactions, sign and send them in order.
  async function step(label, path, body) {
    const signer = ctx.requireSigner();
    say(`${label}: preparing…`);
    const ready = await postJSON(`/agents/${enc(agent())}/transactions/${path}`, body);
    await sendAll(signer, ready, (m) => say(`${label} ${m}`));
    say(`${label}: done`, "ok");
    return ready;
  }

  async function guarded(button, work) {
    if (button) button.disabled = true;
    try {
      await work();
    } catch (error) {
      say(error.message, "error");
    } finally {
      if (button) button.disabled = false;
      await Promise.all([drawPosition(), drawProposals()]).catch(() => {});
    }
  }

  main.querySelector("#stake-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const amount = main.querySelector("#stake-amount").value.trim();
    guarded(event.submitter, async () => {
      await step("Stake", "stake", { account: account(), tokens: amount });
      if (ctx.config.local) {
        // Votes count from the next second's block; the embedded chain mines only on demand.
        await postJSON("/dashboard/wait", { seconds: 1 });
        say(`Staked ${amount} tokens; the embedded chain moved 1 s so they count as votes`, "ok");
      }
    });
  });
  main.querySelector("#unstake-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const amount = main.querySelector("#unstake-amount").value.trim();
    guarded(event.submitter, () =>
      step("Unstake", "unstake", amount ? { account: account(), tokens: amount } : { account: account() }),
    );
  });
  main.querySelector("#claim").addEventListener("click", (event) =>
    guarded(event.currentTarget, () => step("Claim", "claim", { account: account() })),
  );
  main.querySelector("#withdraw").addEventListener("click", (event) =>
    guarded(event.currentTarget, () => step("Withdraw", "withdraw", { account: account() })),
  );

  main.querySelector("#propose-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const diff = form.querySelector("#diff");
    if (event.submitter?.id === "submit-proposal") {
      guarded(event.submitter, async () => {
        const signer = ctx.requireSigner();
        await sendAll(signer, prepared, (m) => say(`Propose ${m}`));
        say("Proposal submitted", "ok");
        await drawForm();
      });
      return;
    }
    try {
      const { changes, rows } = changed(form);
      if (!rows.length) throw new Error("change at least one value first");
      const description = form.querySelector("#set-description").value.trim();
      if (!description) throw new Error("say why: voters read it");
      prepared = await postJSON(`/agents/${enc(agent())}/transactions/propose`, {
        proposer: ctx.requireSigner().account,
        description,
        changes,
      });
      diff.innerHTML = `<h3>This proposal changes</h3>
        <table class="diff"><thead><tr><th scope="col">Setting</th><th scope="col">Now</th><th scope="col">Proposed</th></tr></thead>
        <tbody>${rows.map((r) => `<tr><th scope="row">${esc(r.label)}</th><td><del>${esc(r.before)}</del></td><td><ins>${esc(r.now)}</ins></td></tr>`).join("")}</tbody></table>
        <ul class="changes">${prepared.changes.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>
        <div class="actions"><button type="submit" id="submit-proposal">Submit proposal</button></div>`;
      diff.querySelector("#submit-proposal").focus();
    } catch (error) {
      diff.innerHTML = `<p class="error" role="alert">${esc(error.message)}</p>`;
    }
  });

  main.querySelector("#proposals").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const card = button.closest(".proposal");
    const proposal = card.dataset.id;
    const act = button.dataset.act;
    guarded(button, async () => {
      if (act === "vote") {
        const voter = ctx.requireSigner().account;
        await step(`Vote ${button.dataset.support}`, "vote", { proposal, voter, support: button.dataset.support });
      } else if (act === "queue" || act === "execute") {
        await step(act === "queue" ? "Queue" : "Execute", act, { proposal });
      } else if (act === "wait") {
        const moved = await postJSON("/dashboard/wait", { agent: agent(), proposal });
        say(`The embedded chain moved on: the proposal is ${moved.state}`, "ok");
      }
    });
  });

  select.addEventListener("change", () => Promise.all([drawPosition(), drawProposals(), drawForm()]));
  ctx.on("signer", drawPosition);
  let pending = null;
  ctx.on("block", () => {
    // Something happened on chain (ours or anyone's): redraw at most twice a second.
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      Promise.all([drawPosition(), drawProposals()]).catch(() => {});
    }, 500);
  });
  ctx.on("config", ({ agent: name }) => (name === agent() ? drawForm() : null));
  await Promise.all([drawPosition(), drawProposals(), drawForm()]);
}
