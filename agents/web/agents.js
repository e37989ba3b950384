// Agents: each agent's live config, prices, split, budget, version, its config history,
// its reputation, and a form that hires a skill and shows the result and the receipt.

import { clock, enc, esc, getJSON, money, percent, say, short } from "./api.js";
import { hire } from "./x402.js";

const SHARES = ["stakers", "operator", "buyback", "reserve"];

function splitBar(split) {
  const parts = SHARES.map(
    (share, k) =>
      `<span class="share part-${k}" style="flex:${split[share]}" title="${share} ${percent(split[share])}"></span>`,
  ).join("");
  const legend = SHARES.map(
    (share, k) => `<li><span class="key part-${k}"></span>${share} ${percent(split[share])}</li>`,
  ).join("");
  return `<div class="split" aria-hidden="true">${parts}</div><ul class="legend inline">${legend}</ul>`;
}

function live(agent) {
  const symbol = agent.payment_token_symbol;
  const prices = agent.skills
    .map(
      (s) => `<tr data-skill="${esc(s.name)}"><th scope="row">${esc(s.name)}</th>
        <td>${esc(s.instructions)}</td><td class="price">${esc(money(s.price, symbol))}</td></tr>`,
    )
    .join("");
  const addresses = Object.entries(agent.addresses)
    .map(([role, address]) => `<dt>${esc(role)}</dt><dd><code>${esc(address)}</code></dd>`)
    .join("");
  return `<header class="card-head">
      <h2 id="h-${esc(agent.name)}">${esc(agent.name)}</h2>
      <span class="badge" data-version="${agent.config_version}">config v${agent.config_version}</span>
      ${agent.paused ? '<span class="badge bad">paused</span>' : '<span class="badge ok">serving</span>'}
    </header>
    <table class="prices"><caption>Skills and prices</caption>
      <thead><tr><th scope="col">Skill</th><th scope="col">What it does</th><th scope="col">Price</th></tr></thead>
      <tbody>${prices}</tbody></table>
    <dl class="facts">
      <dt>Model</dt><dd>${esc(agent.model)} at temperature ${esc(agent.temperature)}</dd>
      <dt>Hire budget</dt><dd>${esc(money(agent.hire_budget / 10 ** agent.payment_token_decimals, symbol))} a day</dd>
      <dt>Config hash</dt><dd><code title="${esc(agent.config_hash)}">${esc(short(agent.config_hash, 10, 6))}</code></dd>
      <dt>Reputation</dt><dd class="muted">none recorded yet</dd>
    </dl>
    <h3>Revenue split</h3>${splitBar(agent.split_bps)}
    <details><summary>System prompt</summary><pre class="prompt">${esc(agent.system_prompt)}</pre></details>
    <details><summary>Contracts</summary><dl class="facts">${addresses}</dl></details>
    ${agent.rejected_configs.length ? `<p class="error">Refused config versions: ${agent.rejected_configs.map((r) => `v${r.version} (${esc(r.reason)})`).join(", ")}</p>` : ""}`;
}

function history(doc) {
  if (!doc.versions.length) return '<p class="muted">No versions recorded yet.</p>';
  const items = [...doc.versions]
    .reverse()
    .map(
      (v) => `<li class="version ${esc(v.status)}">
        <p><strong>v${v.version}</strong> <span class="badge ${v.status === "accepted" ? "ok" : "bad"}">${esc(v.status)}</span>
          <time datetime="${esc(v.block_time)}">${esc(clock(v.block_time))}</time>
          ${v.proposal_id ? `· proposal <code title="${esc(v.proposal_id)}">${esc(short(v.proposal_id, 8, 4))}</code>` : "· launch"}</p>
        <ul>${v.changes.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>
        ${v.reason ? `<p class="error">${esc(v.reason)}</p>` : ""}</li>`,
    )
    .join("");
  return `<ol class="timeline">${items}</ol>`;
}

function tryForm(agent) {
  const name = esc(agent.name);
  return `<form class="try" data-agent="${name}" aria-labelledby="try-${name}">
    <h3 id="try-${name}">Try it</h3>
    <label for="skill-${name}">Skill</label>
    <select id="skill-${name}" name="skill"></select>
    <label for="input-${name}">Input</label>
    <textarea id="input-${name}" name="input" rows="3" required>Agents owned by their holders sell skills for on-chain payment and pay their stakers.</textarea>
    <button type="submit">Hire</button>
    <p class="muted payer"></p>
    <div class="answer" aria-live="polite"></div>
  </form>`;
}

function skillOptions(select, agent) {
  const chosen = select.value;
  select.innerHTML = agent.skills
    .map((s) => `<option value="${esc(s.name)}">${esc(s.name)} — ${esc(money(s.price, agent.payment_token_symbol))}</option>`)
    .join("");
  if (chosen) select.value = chosen;
}

function receipt(answer, symbol, decimals) {
  const r = answer.receipt;
  return `<h4>Result</h4><pre class="result">${esc(answer.result)}</pre>
    <h4>Receipt</h4><dl class="facts receipt">
      <dt>Task</dt><dd><code>${esc(r.task_id)}</code></dd>
      <dt>Paid</dt><dd>${esc(money(r.amount / 10 ** decimals, symbol))} by <code>${esc(short(r.payer))}</code> (${esc(r.scheme)})</dd>
      <dt>Settlement</dt><dd><code class="tx" title="${esc(r.settlement_tx)}">${esc(short(r.settlement_tx, 10, 6))}</code></dd>
      <dt>Config</dt><dd>v${r.config_version} <code title="${esc(r.config_hash)}">${esc(short(r.config_hash, 10, 6))}</code></dd>
    </dl>`;
}

export async function render(main, ctx) {
  main.innerHTML = `<h1>Agents</h1>
    <p class="lead">Every agent this runtime serves, with the configuration its holders voted for.</p>
    <div class="cards" id="agents"></div>`;
  const list = await getJSON("/agents");
  const box = main.querySelector("#agents");
  box.innerHTML = list
    .map((a) => `<article class="card agent" id="agent-${esc(a.name)}" aria-labelledby="h-${esc(a.name)}">
        <div class="live"><header class="card-head"><h2 id="h-${esc(a.name)}">${esc(a.name)}</h2></header>
        <ul>${a.skills.map((s) => `<li>${esc(s.name)} <span class="price">${esc(money(s.price, ctx.config.payment_token_symbol))}</span></li>`).join("")}</ul></div>
        ${tryForm(a)}
        <section class="history" aria-label="Config history of ${esc(a.name)}"><h3>Config history</h3><div class="body"></div></section>
      </article>`)
    .join("");

  const agents = {};
  async function refresh(name) {
    const card = box.querySelector(`#agent-${CSS.escape(name)}`);
    if (!card) return;
    const [agent, versions] = await Promise.all([
      getJSON(`/agents/${enc(name)}`),
      getJSON(`/agents/${enc(name)}/config/history`),
    ]);
    agents[name] = agent;
    card.querySelector(".live").innerHTML = live(agent);
    card.querySelector(".history .body").innerHTML = history(versions);
    skillOptions(card.querySelector("select[name=skill]"), agent);
  }

  const showPayer = () => {
    for (const p of box.querySelectorAll(".payer")) p.textContent = `Pays as ${ctx.signerName()}.`;
  };
  showPayer();
  ctx.on("signer", showPayer);

  for (const form of box.querySelectorAll("form.try")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = form.dataset.agent;
      const agent = agents[name];
      const out = form.querySelector(".answer");
      const button = form.querySelector("button");
      button.disabled = true;
      out.innerHTML = '<p class="muted">Paying and waiting for the answer…</p>';
      try {
        const signer = ctx.requireSigner();
        const skill = agent.skills.find((s) => s.name === form.skill.value);
        const answer = await hire(name, skill.name, form.input.value, signer, BigInt(skill.price_units));
        out.innerHTML = receipt(answer, agent.payment_token_symbol, agent.payment_token_decimals);
        say(`${name}/${skill.name}: paid and answered`, "ok");
      } catch (error) {
        out.innerHTML = `<p class="error" role="alert">${esc(error.message)}</p>`;
      } finally {
        button.disabled = false;
      }
    });
  }

  // A new config version (a proposal executed) redraws that agent: new prices, no reload.
  ctx.on("config", ({ agent }) => refresh(agent));
  await Promise.all(list.map((a) => refresh(a.name)));
}
